"""Tracks: the shipped files load and form a graded set run both ways round; dense polylines keep their shape;
walls, start pose and winding are right."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from neurocar.errors import NeuroCarError
from neurocar.paths import TRACKS_DIR
from neurocar.sim.track import MAX_WIDTH_M, MIN_WIDTH_M, load_track, track_from_data


def circle(radius: float, points: int, start_angle: float = 0.0, clockwise: bool = False) -> list[list[float]]:
    angles = start_angle + np.linspace(0.0, 2 * math.pi, points, endpoint=False) * (-1 if clockwise else 1)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).tolist()


def make(centerline, width=12.0, **extra):
    return track_from_data({"name": "Test", "difficulty": 2, "width_m": width, "centerline": centerline, **extra}, "t")


@pytest.mark.parametrize("path", sorted(TRACKS_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_shipped_track_loads_and_fits_the_car(path, config):
    # The default config's car: it fits on the road and can take every curve at cruise speed.
    track = load_track(
        path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
    )
    assert 1 <= track.difficulty <= 5 and MIN_WIDTH_M <= track.width_m <= MAX_WIDTH_M
    assert track.length_m > 200.0
    assert track.arc_m[0] == 0.0 and np.all(np.diff(track.arc_m) > 0)
    assert len(track.arc_m) == len(track.centerline) + 1
    assert np.array_equal(track.start_position, track.centerline[0])
    assert track.source_text == path.read_text(encoding="utf-8")


def test_dense_polyline_keeps_its_shape():
    track = make(circle(50.0, 400))
    radius = np.hypot(*track.centerline.T)
    assert radius == pytest.approx(np.full(len(radius), 50.0), abs=0.01)
    assert track.length_m == pytest.approx(2 * math.pi * 50.0, rel=1e-3)
    assert track.min_radius_m == pytest.approx(50.0, rel=0.01)


def test_dense_stadium_keeps_its_shape():
    # Straights and half circles sampled every half metre: the loaded centre line passes through every point.
    straight = np.arange(0.0, 100.0, 0.5)
    bend = np.linspace(0.0, math.pi, 252)[1:-1]
    points = np.concatenate(
        [
            np.stack([straight, np.zeros_like(straight)], axis=1),
            np.stack([100 + 40 * np.sin(bend), 40 - 40 * np.cos(bend)], axis=1),
            np.stack([100 - straight, np.full_like(straight, 80.0)], axis=1),
            np.stack([-40 * np.sin(bend), 40 + 40 * np.cos(bend)], axis=1),
        ]
    )
    track = make(points.tolist())
    edge = np.roll(track.centerline, -1, axis=0) - track.centerline
    offset = points[:, None, :] - track.centerline[None]
    along = np.clip(np.einsum("pki,ki->pk", offset, edge) / np.einsum("ki,ki->k", edge, edge), 0.0, 1.0)
    gap = np.hypot(*(offset - along[..., None] * edge[None]).transpose(2, 0, 1)).min(axis=1)
    assert gap.max() < 0.01
    assert track.length_m == pytest.approx(200.0 + 2 * math.pi * 40.0, rel=1e-3)


def test_walls_are_half_a_width_either_side():
    track = make(circle(50.0, 64), width=10.0)
    assert np.hypot(*track.left_wall.T) == pytest.approx(np.full(len(track.left_wall), 45.0), abs=0.05)
    assert np.hypot(*track.right_wall.T) == pytest.approx(np.full(len(track.right_wall), 55.0), abs=0.05)
    assert len(track.wall_starts) == len(track.left_wall) + len(track.right_wall)
    assert np.array_equal(track.wall_ends[: len(track.left_wall)], np.roll(track.left_wall, -1, axis=0))


def test_start_index_and_heading():
    points = circle(50.0, 16)
    track = make(points, start_index=4)
    assert track.start_position == pytest.approx(points[4], abs=1e-9)
    # Anticlockwise circle: at (0, 50) the car faces -x.
    assert math.cos(track.start_heading - math.pi) == pytest.approx(1.0, abs=1e-3)
    position, heading = track.pose_at(np.array([0.0, track.length_m / 4]))
    assert position[0] == pytest.approx(points[4], abs=1e-9)
    assert position[1] == pytest.approx([-50.0, 0.0], abs=0.1)
    assert math.cos(heading[1] + math.pi / 2) == pytest.approx(1.0, abs=1e-3)


def test_either_winding_drives_in_point_order():
    anticlockwise = make(circle(50.0, 24))
    clockwise = make(circle(50.0, 24, clockwise=True))
    assert clockwise.length_m == pytest.approx(anticlockwise.length_m, rel=1e-9)
    assert math.sin(anticlockwise.start_heading) == pytest.approx(1.0, abs=1e-3)
    assert math.sin(clockwise.start_heading) == pytest.approx(-1.0, abs=1e-3)
    # The left wall is on the driver's left: inside an anticlockwise loop, outside a clockwise one.
    assert np.hypot(*anticlockwise.left_wall.T).mean() < 50.0 < np.hypot(*clockwise.left_wall.T).mean()


def test_repeated_closing_point_is_accepted():
    points = circle(50.0, 24)
    assert make([*points, points[0]]).length_m == pytest.approx(make(points).length_m, rel=1e-9)


def test_checkpoints_and_gate(oval):
    gates = oval.checkpoint_arcs_m
    assert gates[0] == 0.0 and np.all(np.diff(gates) > 0) and gates[-1] < oval.length_m
    left, right = oval.gate(0.0)
    assert np.hypot(*(left - right)) == pytest.approx(oval.width_m)
    assert (left + right) / 2 == pytest.approx(oval.start_position)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "t: name: expected text, got ''"),
        ({"description": 5}, "t: description: expected text, got 5"),
        ({"difficulty": True}, "t: difficulty: expected a whole number from 1 to 5, got True"),
        ({"width_m": "wide"}, "t: width_m: expected a road width of 6 to 30 m, got 'wide'"),
        ({"width_m": 31}, "t: width_m: expected a road width of 6 to 30 m, got 31"),
        ({"start_index": 1.5}, "t: start_index: expected a whole number, got 1.5"),
        ({"centerline": "round"}, "t: centerline: expected a list of [x, y] points, got 'round'"),
        (
            {"centerline": [[0, 0], [1, 0, 2], [1, 1], [0, 1]]},
            "t: centerline[1]: expected a pair [x, y], got [1, 0, 2]",
        ),
    ],
)
def test_bad_values_name_the_field(change, message):
    data = {"name": "Test", "difficulty": 2, "width_m": 12.0, "centerline": circle(50.0, 24)}
    with pytest.raises(NeuroCarError) as error:
        track_from_data({**data, **change}, "t")
    assert str(error.value) == message


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(NeuroCarError, match=r"nowhere\.yaml: track file not found"):
        load_track(tmp_path / "nowhere.yaml")


def shipped_track_data() -> dict[str, dict]:
    """Every shipped track file, parsed as plain YAML (not through the loader), by file name."""
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(TRACKS_DIR.glob("*.yaml"))}


def signed_area(points: list[list[float]]) -> float:
    """Shoelace area of a closed polygon [m^2]: positive when the points run anticlockwise."""
    x, y = np.asarray(points, dtype=np.float64).T
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_signed_area_tells_the_winding():
    assert signed_area(circle(10.0, 64)) == pytest.approx(math.pi * 100.0, rel=0.01)
    assert signed_area(circle(10.0, 64, clockwise=True)) == pytest.approx(-math.pi * 100.0, rel=0.01)


def test_shipped_tracks_are_a_graded_set():
    tracks = shipped_track_data()
    assert len(tracks) >= 10
    for level in range(1, 6):
        at_level = [name for name, data in tracks.items() if data["difficulty"] == level]
        assert len(at_level) >= 2, f"difficulty {level}: only {at_level}"
    names = [data["name"] for data in tracks.values()]
    assert len(set(names)) == len(names), names


def test_shipped_tracks_run_both_ways_round():
    areas = {name: signed_area(data["centerline"]) for name, data in shipped_track_data().items()}
    clockwise = sorted(name for name, area in areas.items() if area < 0)
    anticlockwise = sorted(name for name, area in areas.items() if area > 0)
    assert len(clockwise) >= 3, clockwise
    assert len(anticlockwise) >= 3, anticlockwise
