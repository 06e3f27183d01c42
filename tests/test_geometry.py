"""Ray casting and swept collision against independent float64 references written here.

The reference ray cast does not reuse the library's formula: it asks on which side of the ray's line each end of
a segment lies, and intersects only segments whose ends are on opposite sides (or touch the line). A ray through the
joint of two segments sees the shared vertex with the same sign from both, so the reference itself cannot let a ray
slip through a joint.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from neurocar.config import SensorConfig
from neurocar.errors import NeuroCarError
from neurocar.geometry import SegmentGrid, swept_disc_time_of_impact
from neurocar.sim.sensors import ray_distances, sensor_grid
from neurocar.sim.track import Track, track_from_data

# Relative distance below which a segment end counts as lying on the ray's line.
TOUCH_TOLERANCE = 1e-10


def reference_cast(origins: np.ndarray, angles: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance along each ray to the nearest segment, by side tests; `inf` if none is hit."""
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)[:, None, :]
    to_start = starts[None] - origins[:, None, :]
    to_end = ends[None] - origins[:, None, :]
    side_start = directions[..., 0] * to_start[..., 1] - directions[..., 1] * to_start[..., 0]
    side_end = directions[..., 0] * to_end[..., 1] - directions[..., 1] * to_end[..., 0]
    along_start = np.einsum("mki,mki->mk", to_start, np.broadcast_to(directions, to_start.shape))
    along_end = np.einsum("mki,mki->mk", to_end, np.broadcast_to(directions, to_end.shape))
    start_on_line = np.abs(side_start) <= TOUCH_TOLERANCE * np.hypot(to_start[..., 0], to_start[..., 1])
    end_on_line = np.abs(side_end) <= TOUCH_TOLERANCE * np.hypot(to_end[..., 0], to_end[..., 1])

    distance = np.full(side_start.shape, np.inf)
    crossing = (side_start * side_end < 0) & ~start_on_line & ~end_on_line
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = side_start / (side_start - side_end)
    crossing_distance = along_start + fraction * (along_end - along_start)
    distance = np.where(crossing & (crossing_distance >= 0), crossing_distance, distance)
    touching_start = start_on_line & (along_start >= 0)
    touching_end = end_on_line & (along_end >= 0)
    distance = np.where(touching_start, np.minimum(distance, along_start), distance)
    distance = np.where(touching_end, np.minimum(distance, along_end), distance)
    # A segment lying on the ray's line is reached where its nearer end is (or at once, if it covers the origin).
    collinear = start_on_line & end_on_line & (np.maximum(along_start, along_end) >= 0)
    nearest = np.maximum(np.minimum(along_start, along_end), 0.0)
    distance = np.where(collinear, np.minimum(distance, nearest), distance)
    return distance.min(axis=1)


def assert_matches_reference(grid: SegmentGrid, origins: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Compare the grid's cast with the reference wherever either is within the grid's range."""
    found = grid.cast(origins, angles)
    expected = reference_cast(origins, angles, grid.starts, grid.ends)
    in_range = expected <= grid.max_distance
    np.testing.assert_allclose(found[in_range], expected[in_range], rtol=1e-9, atol=1e-9)
    # Beyond the range the cast may say `inf` or report a real (so not nearer) hit.
    assert np.all(found[~in_range] >= expected[~in_range] * (1 - 1e-9))
    assert np.all(found[~in_range] > grid.max_distance)
    return found


def loop_track(radii: list[float], phases: list[float], points: int, width: float) -> Track:
    """A star-shaped closed track: radius 90 m plus a few harmonics."""
    angles = np.linspace(0.0, 2 * math.pi, points, endpoint=False)
    radius = 90.0 + sum(
        amplitude * np.cos((index + 2) * angles + phase)
        for index, (amplitude, phase) in enumerate(zip(radii, phases, strict=True))
    )
    centerline = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).round(3).tolist()
    data = {"name": "Random", "difficulty": 3, "width_m": width, "centerline": centerline}
    return track_from_data(data, "random.yaml")


def sample_rays(track: Track, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Rays from inside the road, from just outside it (still in the grid's region) and from far away."""
    arc = rng.random(count) * track.length_m
    positions, headings = track.pose_at(arc)
    normals = np.stack([-np.sin(headings), np.cos(headings)], axis=1)
    inside = count // 2
    lateral = np.empty(count)
    lateral[:inside] = rng.uniform(-0.49, 0.49, inside) * track.width_m
    lateral[inside:] = rng.choice([-1.0, 1.0], count - inside) * (
        track.width_m / 2 + rng.uniform(0.1, 3.5, count - inside)
    )
    origins = positions + lateral[:, None] * normals
    origins[-5:] = rng.uniform(-400.0, 400.0, (5, 2))  # outside the covered region: the brute-force path
    return origins, rng.uniform(-math.pi, math.pi, count)


def joint_rays(
    track: Track, rng: np.random.Generator, count: int, range_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rays from inside the road aimed exactly at wall vertices (joints between wall segments) within range.

    Returns origins, angles and the distance to the aimed-at vertex.
    """
    arc = rng.random(count) * track.length_m
    positions, headings = track.pose_at(arc)
    normals = np.stack([-np.sin(headings), np.cos(headings)], axis=1)
    origins = positions + (rng.uniform(-0.45, 0.45, count) * track.width_m)[:, None] * normals
    vertices = track.wall_starts
    ray_origins, ray_angles, targets = [], [], []
    for origin in origins:
        distance = np.hypot(*(vertices - origin).T)
        near = np.nonzero(distance < range_m * 0.9)[0]
        for vertex in rng.choice(near, size=min(4, len(near)), replace=False):
            offset = vertices[vertex] - origin
            ray_origins.append(origin)
            ray_angles.append(math.atan2(offset[1], offset[0]))
            targets.append(distance[vertex])
    return np.array(ray_origins), np.array(ray_angles), np.array(targets)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    radii=st.lists(st.floats(0.0, 14.0), min_size=2, max_size=2),
    phases=st.lists(st.floats(0.0, 2 * math.pi), min_size=2, max_size=2),
    points=st.integers(8, 40),
    width=st.floats(6.0, 20.0),
    range_m=st.sampled_from([15.0, 40.0, 90.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_grid_cast_matches_reference_on_random_tracks(radii, phases, points, width, range_m, seed):
    try:
        track = loop_track(radii, phases, points, width)
    except NeuroCarError:
        assume(False)
    grid = sensor_grid(track, SensorConfig(angles_deg=(0.0,), range_m=range_m))
    rng = np.random.default_rng(seed)
    origins, angles = sample_rays(track, rng, 400)
    assert_matches_reference(grid, origins, angles)


@settings(max_examples=8, deadline=None)
@given(radii=st.lists(st.floats(0.0, 14.0), min_size=2, max_size=2), seed=st.integers(0, 2**32 - 1))
def test_rays_through_wall_joints_never_slip_through(radii, seed):
    try:
        track = loop_track(radii, [0.3, 1.1], 24, 12.0)
    except NeuroCarError:
        assume(False)
    grid = sensor_grid(track, SensorConfig(angles_deg=(0.0,), range_m=40.0))
    rng = np.random.default_rng(seed)
    origins, angles, targets = joint_rays(track, rng, 40, 40.0)
    found = assert_matches_reference(grid, origins, angles)
    # Every ray is aimed at a vertex in range: it stops there at the latest.
    assert np.all(found <= targets * (1 + 1e-9) + 1e-9)


def test_rays_through_the_joint_of_a_polyline_from_many_directions():
    # A zig-zag wall; every ray from below is aimed exactly at one of its inner vertices.
    vertices = np.array([[0.0, 0.0], [10.0, 3.0], [20.0, 0.0], [30.0, 3.0], [40.0, 0.0]])
    grid = SegmentGrid(vertices[:-1], vertices[1:], 100.0, vertices, 40.0)
    origins, angles, targets = [], [], []
    for vertex in vertices[1:-1]:
        for angle_deg in np.linspace(20.0, 160.0, 29):
            angle = math.radians(angle_deg)
            origin = vertex - 25.0 * np.array([math.cos(angle), math.sin(angle)])
            origins.append(origin)
            angles.append(math.atan2(*(vertex - origin)[::-1]))
            targets.append(np.hypot(*(vertex - origin)))
    found = assert_matches_reference(grid, np.array(origins), np.array(angles))
    assert np.all(found <= np.array(targets) + 1e-9)


def test_rays_parallel_to_walls():
    # An axis-aligned box: rays along the walls, on the walls' lines, and exactly at the corners.
    corners = np.array([[0.0, 0.0], [50.0, 0.0], [50.0, 20.0], [0.0, 20.0]])
    grid = SegmentGrid(corners, np.roll(corners, -1, axis=0), 200.0, corners, 30.0)
    origins = np.array(
        [
            [10.0, 5.0],  # inside, parallel to the long walls
            [10.0, 5.0],
            [25.0, 10.0],  # inside, parallel to the short walls
            [-5.0, 0.0],  # on the bottom wall's line, outside the box: reaches the corner at 5 m
            [-5.0, 20.0],  # on the top wall's line
            [55.0, 0.0],  # on the bottom wall's line, from the other side
            [25.0, 10.0],  # aimed at a corner exactly
        ]
    )
    angles = np.array([0.0, math.pi, math.pi / 2, 0.0, 0.0, math.pi, math.atan2(-10.0, 25.0)])
    found = assert_matches_reference(grid, origins, angles)
    expected = [40.0, 10.0, 10.0, 5.0, 5.0, 5.0, math.hypot(25.0, 10.0)]
    assert found == pytest.approx(expected, rel=1e-12)


def test_sensors_on_the_oval_straight(oval, config):
    # On the start straight, heading along it, the side rays at 45 degrees meet the walls at half-width * sqrt(2)
    # (walls are simplified to within 1 cm of the exact offset, hence the tolerance).
    grid = sensor_grid(oval, config.sensors)
    positions = np.array([[0.0, 0.0], [10.0, 2.0]])
    headings = np.zeros(2)
    distances = ray_distances(grid, positions, headings, config.sensors)
    half = oval.width_m / 2
    assert distances[:, 0] == pytest.approx([half * math.sqrt(2), (half + 2.0) * math.sqrt(2)], abs=0.02)
    assert distances[:, 2] == pytest.approx([half * math.sqrt(2), (half - 2.0) * math.sqrt(2)], abs=0.02)
    assert np.all(distances[:, 1] > config.sensors.range_m)  # straight ahead: the straight is longer than the range


def reference_gap(point, start, end) -> float:
    """Distance from a point to a segment."""
    edge = end - start
    along = min(max(float((point - start) @ edge / (edge @ edge)), 0.0), 1.0)
    return float(np.hypot(*(point - (start + along * edge))))


def reference_time_of_impact(centre, motion, radius, start, end, samples: int = 20001) -> float:
    """First sampled fraction of the move at which the disc is within `radius` of the segment (brute force)."""
    fractions = np.linspace(0.0, 1.0, samples)
    points = centre + fractions[:, None] * motion
    edge = end - start
    along = np.clip(((points - start) @ edge) / (edge @ edge), 0.0, 1.0)
    gap = np.hypot(*(points - (start + along[:, None] * edge)).T)
    touching = np.nonzero(gap <= radius)[0]
    return float(fractions[touching[0]]) if len(touching) else math.inf


def test_swept_disc_matches_sampled_reference():
    rng = np.random.default_rng(7)
    centres = rng.uniform(-20, 20, (300, 2))
    motions = rng.uniform(-30, 30, (300, 2))
    starts = rng.uniform(-20, 20, (300, 2))
    ends = starts + rng.uniform(-15, 15, (300, 2))
    radius = 1.2
    found = swept_disc_time_of_impact(centres, motions, radius, starts, ends)
    for index in range(300):
        expected = reference_time_of_impact(centres[index], motions[index], radius, starts[index], ends[index])
        if math.isfinite(expected):
            assert found[index] == pytest.approx(expected, abs=1e-4)
        if math.isfinite(found[index]):
            # At the reported fraction the disc touches: exactly `radius` away (or closer, if touching at the start).
            contact = centres[index] + found[index] * motions[index]
            gap = reference_gap(contact, starts[index], ends[index])
            assert gap <= radius + 1e-9 and (found[index] == 0.0 or gap == pytest.approx(radius, abs=1e-9))
    assert np.isfinite(found).sum() > 30  # the random cases include many hits


def test_swept_disc_cannot_tunnel_through_a_thin_wall():
    # A disc moving 1000 m in one step, straight through a 1 m wall: it touches at the first contact.
    found = swept_disc_time_of_impact(
        np.array([[0.0, -10.0]]), np.array([[0.0, 1000.0]]), 1.0, np.array([[-0.5, 0.0]]), np.array([[0.5, 0.0]])
    )
    assert found[0] == pytest.approx(9.0 / 1000.0)
