"""Tracks packed into flat arrays, so that one compiled call can step cars on different tracks.

Every track contributes its wall segments, its centre line and two `CellGrid`s (one for the sensors, one for
collisions) to shared arrays; small per-track and per-grid tables hold where each part starts. Indices stored in
the packed arrays are global (a grid's walls point into the shared wall table).

| array            | shape    | columns                                                                  |
|------------------|----------|--------------------------------------------------------------------------|
| walls            | (W, 4)   | start x, start y, edge x, edge y [m] (edge = end - start)                |
| centre           | (S, 7)   | point x, y, edge x, y [m], segment length [m], 1 / length^2, arc at point |
| grid_offsets     | (O,)     | every grid's wall offsets per cell (column * rows + row), concatenated   |
| grid_walls       | (C,)     | every grid's cell walls (global indices), concatenated                   |
| grid_integers    | (G, 4)   | see the `GRID_*` column names                                            |
| grid_floats      | (G, 3)   | origin x, y [m], cell size [m]                                           |
| track_integers   | (T, 7)   | see the `TRACK_*` column names                                           |
| track_floats     | (T, 2)   | lap length [m], time limit [s]                                           |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocar.geometry import CellGrid

# Columns of `grid_integers`.
GRID_COLUMNS, GRID_ROWS, GRID_OFFSETS_START, GRID_WALLS_START = range(4)
# Columns of `grid_floats`.
GRID_ORIGIN_X, GRID_ORIGIN_Y, GRID_CELL_SIZE = range(3)
# Columns of `track_integers`.
TRACK_WALL_START, TRACK_WALL_COUNT, TRACK_CENTRE_START, TRACK_CENTRE_COUNT, TRACK_SEARCH = range(5)
TRACK_SENSOR_GRID, TRACK_COLLISION_GRID = 5, 6
# Columns of `track_floats`.
TRACK_LENGTH, TRACK_MAX_SECONDS = range(2)


@dataclass(frozen=True)
class TrackParts:
    """What one track brings to the pack: its walls, its centre line and its two grids."""

    wall_starts: np.ndarray
    wall_ends: np.ndarray
    centerline: np.ndarray
    arc_m: np.ndarray
    search_segments: int
    sensor_grid: CellGrid
    collision_grid: CellGrid
    max_seconds: float


@dataclass(frozen=True)
class PackedTracks:
    """The flat arrays of the module docstring."""

    walls: np.ndarray
    centre: np.ndarray
    grid_offsets: np.ndarray
    grid_walls: np.ndarray
    grid_integers: np.ndarray
    grid_floats: np.ndarray
    track_integers: np.ndarray
    track_floats: np.ndarray


def pack_tracks(parts: Sequence[TrackParts]) -> PackedTracks:
    """Concatenate every track's walls, centre line and grids, with the tables that say where each starts."""
    walls, centres, offsets, grid_walls = [], [], [], []
    grid_integers, grid_floats, track_integers, track_floats = [], [], [], []
    wall_start = centre_start = offsets_start = grid_walls_start = 0
    for part in parts:
        edges = part.wall_ends - part.wall_starts
        walls.append(np.column_stack([part.wall_starts, edges]))
        count = len(part.centerline)
        centre_edges = np.roll(part.centerline, -1, axis=0) - part.centerline
        length = np.diff(part.arc_m)
        inverse = 1.0 / np.maximum(length, 1e-12) ** 2
        centres.append(np.column_stack([part.centerline, centre_edges, length, inverse, part.arc_m[:-1]]))
        grid_numbers = []
        for grid in (part.sensor_grid, part.collision_grid):
            grid_numbers.append(len(grid_integers))
            offsets.append(grid.offsets)
            grid_walls.append(grid.walls + wall_start)
            grid_integers.append([grid.shape[0], grid.shape[1], offsets_start, grid_walls_start])
            grid_floats.append([grid.origin[0], grid.origin[1], grid.cell_size])
            offsets_start += len(grid.offsets)
            grid_walls_start += len(grid.walls)
        track_integers.append(
            [wall_start, len(part.wall_starts), centre_start, count, part.search_segments, *grid_numbers]
        )
        track_floats.append([float(part.arc_m[-1]), float(part.max_seconds)])
        wall_start += len(part.wall_starts)
        centre_start += count
    return PackedTracks(
        walls=np.ascontiguousarray(np.concatenate(walls), dtype=np.float64),
        centre=np.ascontiguousarray(np.concatenate(centres), dtype=np.float64),
        grid_offsets=np.ascontiguousarray(np.concatenate(offsets), dtype=np.int64),
        grid_walls=np.ascontiguousarray(np.concatenate(grid_walls), dtype=np.int64),
        grid_integers=np.array(grid_integers, dtype=np.int64),
        grid_floats=np.array(grid_floats, dtype=np.float64),
        track_integers=np.array(track_integers, dtype=np.int64),
        track_floats=np.array(track_floats, dtype=np.float64),
    )


# The world keeps each car's state in three row-per-car blocks; `CarState`'s arrays are views of their columns.
# Columns of the float block (N, 9): position x, y [m], heading [rad], progress, best progress [m], the car's own
# time [s], and (on the world's clock [s]) its episode start, last improvement and current lap's start.
CAR_X, CAR_Y, CAR_HEADING, CAR_PROGRESS, CAR_BEST_PROGRESS, CAR_TIME = range(6)
CAR_EPISODE_START, CAR_LAST_IMPROVEMENT, CAR_LAP_START = 6, 7, 8
CAR_FLOAT_COLUMNS = 9
# Columns of the integer block (N, 3): completed laps, centre-line segment, track number.
CAR_LAPS, CAR_SEGMENT, CAR_TRACK = range(3)
CAR_INTEGER_COLUMNS = 3
# Columns of the flag block (N, 4).
CAR_DRIVING, CAR_CRASHED, CAR_STALLED, CAR_FINISHED = range(4)
CAR_FLAG_COLUMNS = 4
# The step's constants, in one float array: dt [s], cruise speed [m/s], turn rate [rad/s], collision radius [m],
# stall time [s], sensor range [m].
PARAMETER_DT, PARAMETER_SPEED, PARAMETER_TURN_RATE, PARAMETER_RADIUS, PARAMETER_STALL, PARAMETER_RANGE = range(6)
