"""Generated tracks: the same seed gives the same track, every difficulty lands in its band and can be lapped by
the scripted driver, impossible requests fail with one line, and `neurocar tracks generate` never overwrites a file
unless told to."""

from __future__ import annotations

import numpy as np
import pytest
from test_autopilot import drive_laps

from neurocar.config import load_yaml
from neurocar.errors import NeuroCarError
from neurocar.sim.generator import LEVELS, generate_track
from neurocar.sim.track import load_track, track_text

SEEDS = range(4)


@pytest.mark.parametrize("difficulty", sorted(LEVELS))
def test_every_difficulty_gives_valid_tracks_in_its_band(difficulty, config, tmp_path):
    level = LEVELS[difficulty]
    for seed in SEEDS:
        track, text = generate_track(seed, difficulty, config.physics)
        assert track.difficulty == difficulty
        assert level.min_radius_m <= track.min_radius_m < level.max_radius_m
        assert abs(track.width_m - level.width_m) <= 1.0
        # The text is a track file the loader accepts, with the same road.
        path = tmp_path / f"{difficulty}-{seed}.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = load_track(
            path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
        )
        np.testing.assert_allclose(loaded.centerline, track.centerline)


def test_same_seed_same_track_and_other_seeds_differ(config):
    first = generate_track(7, 3, config.physics)[1]
    assert generate_track(7, 3, config.physics)[1] == first
    assert generate_track(8, 3, config.physics)[1] != first
    assert generate_track(7, 2, config.physics)[1] != first


def test_harder_levels_are_narrower_and_tighter(config):
    tracks = {level: [generate_track(seed, level, config.physics)[0] for seed in SEEDS] for level in LEVELS}
    radii = [np.median([track.min_radius_m for track in tracks[level]]) for level in sorted(LEVELS)]
    widths = [np.median([track.width_m for track in tracks[level]]) for level in sorted(LEVELS)]
    assert radii == sorted(radii, reverse=True)
    assert widths == sorted(widths, reverse=True)


def test_both_windings_are_generated(config):
    def signed_area(points):
        x, y = points[:, 0], points[:, 1]
        return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))

    signs = {np.sign(signed_area(generate_track(seed, 2, config.physics)[0].centerline)) for seed in range(8)}
    assert signs == {-1.0, 1.0}


@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_the_scripted_driver_laps_generated_tracks(difficulty, config):
    for seed in (11, 12):
        track = generate_track(seed, difficulty, config.physics)[0]
        world = drive_laps(track, config, laps=1)
        assert int(world.state.laps[0]) == 1
        assert not world.state.crashed[0]


def test_impossible_requests_are_one_line_errors(config):
    with pytest.raises(NeuroCarError, match=r"^--difficulty 6: must be from 1 to 5$"):
        generate_track(0, 6, config.physics)
    wide_car = config.replace("physics", car_width_m=12.0).physics
    with pytest.raises(NeuroCarError, match=r"roads are at most 10\.5 m wide and the car needs 13 m"):
        generate_track(0, 5, wide_car)
    fast_car = config.replace("physics", cruise_speed_mps=40.0).physics
    turns = r"tightest curves are under 11 m and the car turns no tighter than 19\.1 m"
    with pytest.raises(NeuroCarError, match=turns):
        generate_track(0, 5, fast_car)
    # The same car can still have an easy track.
    assert generate_track(0, 1, fast_car)[0].min_radius_m >= 30


def test_track_text_keeps_one_point_per_line_and_round_trips():
    data = {
        "name": "Loop: 'A'",
        "difficulty": 2,
        "width_m": 12.5,
        "centerline": [[0.0, 0.0], [50.0, 0.0], [50.0, 50.0], [0.0, 50.0]],
        "start_index": 1,
    }
    text = track_text(data)
    assert "  - [50.0, 50.0]\n" in text
    assert load_yaml(text) == data


def test_generate_prints_or_writes_the_same_track(run_cli, tmp_path, config):
    printed = run_cli("tracks", "generate", "--seed", "5", "--difficulty", "2")
    assert printed.code == 0 and printed.err == ""
    assert printed.out == generate_track(5, 2, config.physics)[1]
    target = tmp_path / "mine.yaml"
    written = run_cli("tracks", "generate", "--seed", "5", "--difficulty", "2", "--out", target)
    assert written.code == 0, written.err
    assert target.read_text(encoding="utf-8") == printed.out
    assert written.out.startswith(f"wrote {target}: Generated 2-5, ")
    checked = run_cli("tracks", "check", target)
    assert checked.code == 0 and checked.out.startswith("ok: ")


def test_generate_never_overwrites_without_force(run_cli, tmp_path):
    target = tmp_path / "mine.yaml"
    target.write_text("my own track\n", encoding="utf-8")
    refused = run_cli("tracks", "generate", "--seed", "1", "--out", target)
    assert refused.code == 2
    assert refused.err == (
        f"neurocar: error: {target}: already exists; choose another --out or add --force to replace it\n"
    )
    assert target.read_text(encoding="utf-8") == "my own track\n"
    forced = run_cli("tracks", "generate", "--seed", "1", "--out", target, "--force")
    assert forced.code == 0
    assert target.read_text(encoding="utf-8").startswith("name: Generated 3-1\n")


def test_generate_count_fills_a_folder_with_consecutive_seeds(run_cli, tmp_path, config):
    folder = tmp_path / "set"
    result = run_cli("tracks", "generate", "--seed", "20", "--difficulty", "1", "--count", "3", "--out", folder)
    assert result.code == 0, result.err
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["generated-d1-20.yaml", "generated-d1-21.yaml", "generated-d1-22.yaml"]
    assert (folder / "generated-d1-21.yaml").read_text(encoding="utf-8") == generate_track(21, 1, config.physics)[1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--difficulty", "0"], "--difficulty 0: must be from 1 to 5"),
        (["--count", "0"], "--count 0: must be at least 1"),
        (["--count", "2"], "--count 2: give --out DIR, the folder to write the tracks into"),
        (["--out", "{tmp}/track.txt"], "--out {tmp}/track.txt: name the track file FILE.yaml (or an existing folder)"),
        (
            ["--count", "2", "--out", "{tmp}/file.yaml"],
            "--out {tmp}/file.yaml: is a file name; with --count, give a folder",
        ),
        (
            ["--count", "2", "--out", "{tmp}/new.YAML"],
            "--out {tmp}/new.YAML: is a file name; with --count, give a folder",
        ),
        (["--seed", "-1"], "argument --seed: invalid seed -1: must be from 0 to"),
        (
            ["--difficulty", "4", "--set", "physics.turn_rate_deg_per_s=30"],
            "cannot generate a difficulty-4 track for this car: its tightest curves are under 15 m",
        ),
    ],
)
def test_generate_rejects_bad_options_with_one_line(run_cli, tmp_path, arguments, message):
    (tmp_path / "file.yaml").write_text("kept\n", encoding="utf-8")
    result = run_cli("tracks", "generate", *[argument.format(tmp=tmp_path) for argument in arguments])
    assert result.code == 2
    assert result.err.startswith("neurocar: error: " + message.format(tmp=tmp_path))
    assert result.err.count("\n") == 1
    assert (tmp_path / "file.yaml").read_text(encoding="utf-8") == "kept\n"
