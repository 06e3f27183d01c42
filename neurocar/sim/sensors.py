"""Ray-cast distance sensors: what a car sees of the walls, as numbers in [0, 1].

| observation slot | meaning                                                                  |
|------------------|--------------------------------------------------------------------------|
| i                | distance to the nearest wall along ray i / range, clipped to [0, 1]      |

Ray i points `angles_deg[i]` from the heading (default -45, 0, +45; positive = to the left). A reading of 1
means no wall within range.
"""

from __future__ import annotations

import numpy as np

from neurocar.config import SensorConfig
from neurocar.geometry import SegmentGrid
from neurocar.sim.track import Track

# Rays start inside the road; the grid only needs to cover the road plus the collision slack around it.
SENSOR_REGION_SLACK_M = 4.0


def sensor_grid(track: Track, sensors: SensorConfig) -> SegmentGrid:
    """The ray-casting acceleration structure for a track's walls and the sensors' range."""
    return SegmentGrid(
        track.wall_starts,
        track.wall_ends,
        sensors.range_m,
        track.centerline,
        track.width_m / 2 + SENSOR_REGION_SLACK_M,
    )


def ray_distances(grid: SegmentGrid, positions: np.ndarray, headings: np.ndarray, sensors: SensorConfig) -> np.ndarray:
    """Distance [m] to the nearest wall along every sensor ray, (N, R); `inf` when nothing is hit."""
    angles = np.asarray(sensors.angles_rad)
    ray_count = len(angles)
    origins = np.repeat(positions, ray_count, axis=0)
    ray_angles = (headings[:, None] + angles[None, :]).ravel()
    return grid.cast(origins, ray_angles).reshape(len(positions), ray_count)


def observe(grid: SegmentGrid, positions: np.ndarray, headings: np.ndarray, sensors: SensorConfig) -> np.ndarray:
    """Normalised sensor readings (N, R) in [0, 1]: distance / range, 1 when nothing is within range."""
    distances = ray_distances(grid, positions, headings, sensors)
    return np.minimum(distances * (1.0 / sensors.range_m), 1.0)


def sensor_name(angle_deg: float) -> str:
    """The name every window gives a ray: 'left 45°', 'ahead', 'right 45°' (positive angles point left)."""
    if abs(angle_deg) < 1e-9:
        return "ahead"
    return f"{'left' if angle_deg > 0 else 'right'} {abs(angle_deg):g}°"


def sensor_display_order(angles_deg: tuple[float, ...] | list[float]) -> list[int]:
    """Ray indices from the car's leftmost ray to its rightmost: the order every window lists and draws the rays in
    (top to bottom, as the actions are listed: left, straight, right)."""
    return sorted(range(len(angles_deg)), key=lambda index: (-float(angles_deg[index]), index))
