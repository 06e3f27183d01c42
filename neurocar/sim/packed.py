"""Everything a compiled step reads besides the car state, packed into two flat buffers so one call passes few arrays.

Calling a compiled function from Python costs time for every array it is passed, so the world hands the kernels
one float buffer and one integer buffer instead of a dozen arrays. Every track contributes its wall segments, its
centre line and two `CellGrid`s (one for the sensors, one for collisions); the world adds the ray angles, the
step's constants and the scratch rows of a step. Each part is a section of one buffer: the integer buffer starts
with a header giving, for section number s, its start and stop in its own buffer (`integers[2 s]`,
`integers[2 s + 1]`); a section of C columns holds (stop - start) / C rows, row-major. Indices stored in the
sections are global (a grid's walls point into the shared wall table).

| section (number)    | buffer   | shape  | rows                                                                 |
|---------------------|----------|--------|----------------------------------------------------------------------|
| WALLS (0)           | floats   | (W, 4) | start x, start y, edge x, edge y [m] (edge = end - start)            |
| CENTRE (1)          | floats   | (S, 7) | point x, y, edge x, y [m], length [m], 1 / length^2, arc at point [m] |
| GRID_FLOATS (2)     | floats   | (G, 3) | origin x, y [m], cell size [m]                                       |
| TRACK_FLOATS (3)    | floats   | (T, 2) | lap length [m], time limit [s]                                       |
| RAY_ANGLES (4)      | floats   | (R,)   | sensor ray directions from the heading [rad]                         |
| PARAMETERS (5)      | floats   | (6,)   | the step's constants, see the `PARAMETER_*` names                    |
| LAP_RECORDS (6)     | floats   | (N, 4) | scratch: a step's laps in car order: car, lap, own time, lap time [s] |
| LAP_TIMES (7)       | floats   | (N, 2) | scratch: each car's own time, lap time [s] if it lapped in a step    |
| GRID_OFFSETS (8)    | integers | (O,)   | every grid's wall offsets per cell (column * rows + row), joined     |
| GRID_WALLS (9)      | integers | (C,)   | every grid's cell walls (global indices), joined                     |
| GRID_INTEGERS (10)  | integers | (G, 4) | see the `GRID_*` column names                                        |
| TRACK_INTEGERS (11) | integers | (T, 7) | see the `TRACK_*` column names                                       |
| OUTCOMES (12)       | integers | (N,)   | scratch: a step's outcome per car: bit 0 still driving, bit 1 lapped |
| NEXT_CHUNK (13)     | integers | (1,)   | scratch of the parallel step: the next chunk of cars to step         |

W walls, S centre-line points, G grids (two per track), T tracks, R rays, N cars; "own time" is the car's own
clock when it crossed the line.

The car state is not packed: it stays in the world's three row-per-car blocks (their columns are named below).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurocar.geometry import CellGrid

# Section numbers (see the module docstring).
WALLS, CENTRE, GRID_FLOATS, TRACK_FLOATS, RAY_ANGLES, PARAMETERS, LAP_RECORDS, LAP_TIMES = range(8)
GRID_OFFSETS, GRID_WALLS, GRID_INTEGERS, TRACK_INTEGERS, OUTCOMES, NEXT_CHUNK = range(8, 14)
# Row lengths of the table sections.
WALL_COLUMNS, CENTRE_COLUMNS, GRID_FLOAT_COLUMNS, TRACK_FLOAT_COLUMNS = 4, 7, 3, 2
LAP_RECORD_COLUMNS, LAP_TIME_COLUMNS, GRID_INTEGER_COLUMNS, TRACK_INTEGER_COLUMNS = 4, 2, 4, 7
# Columns of every section, by number (1: a flat vector).
FLOAT_SECTION_COLUMNS = (
    WALL_COLUMNS,
    CENTRE_COLUMNS,
    GRID_FLOAT_COLUMNS,
    TRACK_FLOAT_COLUMNS,
    1,
    1,
    LAP_RECORD_COLUMNS,
    LAP_TIME_COLUMNS,
)
INTEGER_SECTION_COLUMNS = (1, 1, GRID_INTEGER_COLUMNS, TRACK_INTEGER_COLUMNS, 1, 1)
SECTION_COUNT = len(FLOAT_SECTION_COLUMNS) + len(INTEGER_SECTION_COLUMNS)
# The header: a start and a stop per section, at the beginning of the integer buffer.
HEADER_LENGTH = 2 * SECTION_COUNT

# Columns of `walls`, `centre` and `lap_records`.
WALL_START_X, WALL_START_Y, WALL_EDGE_X, WALL_EDGE_Y = range(4)
CENTRE_X, CENTRE_Y, CENTRE_EDGE_X, CENTRE_EDGE_Y, CENTRE_LENGTH, CENTRE_INVERSE_SQUARED, CENTRE_ARC = range(7)
LAP_RECORD_CAR, LAP_RECORD_LAP, LAP_RECORD_OWN_TIME, LAP_RECORD_LAP_TIME = range(4)
# Columns of `grid_integers`.
GRID_COLUMNS, GRID_ROWS, GRID_OFFSETS_START, GRID_WALLS_START = range(4)
# Columns of `grid_floats`.
GRID_ORIGIN_X, GRID_ORIGIN_Y, GRID_CELL_SIZE = range(3)
# Columns of `track_integers`.
TRACK_WALL_START, TRACK_WALL_COUNT, TRACK_CENTRE_START, TRACK_CENTRE_COUNT, TRACK_SEARCH = range(5)
TRACK_SENSOR_GRID, TRACK_COLLISION_GRID = 5, 6
# Columns of `track_floats`.
TRACK_LENGTH, TRACK_MAX_SECONDS = range(2)
# The step's constants, in the parameters section: dt [s], cruise speed [m/s], turn rate [rad/s], collision radius
# [m], stall time [s], sensor range [m].
PARAMETER_DT, PARAMETER_SPEED, PARAMETER_TURN_RATE, PARAMETER_RADIUS, PARAMETER_STALL, PARAMETER_RANGE = range(6)
PARAMETER_COUNT = 6


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
class PackedWorld:
    """The two buffers the kernels take, and a view of each of their sections (writing a view writes the buffer)."""

    floats: np.ndarray
    integers: np.ndarray
    walls: np.ndarray
    centre: np.ndarray
    grid_floats: np.ndarray
    track_floats: np.ndarray
    ray_angles: np.ndarray
    parameters: np.ndarray
    lap_records: np.ndarray
    lap_times: np.ndarray
    grid_offsets: np.ndarray
    grid_walls: np.ndarray
    grid_integers: np.ndarray
    track_integers: np.ndarray
    outcomes: np.ndarray
    next_chunk: np.ndarray


def pack_world(
    parts: Sequence[TrackParts], ray_angles: np.ndarray, parameters: np.ndarray, car_count: int
) -> PackedWorld:
    """Concatenate every track's walls, centre line and grids with the tables that say where each starts, add the
    world's ray angles [rad], step constants (`PARAMETER_*`) and scratch rows for `car_count` cars, and lay it
    all out in the two buffers of the module docstring."""
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
    parameters = np.asarray(parameters, dtype=np.float64).reshape(-1)
    if len(parameters) != PARAMETER_COUNT:
        raise ValueError(f"expected {PARAMETER_COUNT} step parameters, got {len(parameters)}")
    float_sections = [
        np.concatenate(walls),
        np.concatenate(centres),
        np.array(grid_floats, dtype=np.float64),
        np.array(track_floats, dtype=np.float64),
        np.asarray(ray_angles, dtype=np.float64).reshape(-1),
        parameters,
        np.zeros((car_count, FLOAT_SECTION_COLUMNS[LAP_RECORDS])),
        np.zeros((car_count, FLOAT_SECTION_COLUMNS[LAP_TIMES])),
    ]
    integer_sections = [
        np.concatenate(offsets),
        np.concatenate(grid_walls),
        np.array(grid_integers, dtype=np.int64),
        np.array(track_integers, dtype=np.int64),
        np.zeros(car_count, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    ]
    header = np.zeros(HEADER_LENGTH, dtype=np.int64)
    floats = _concatenated(float_sections, header, 0, 0, np.float64)
    integers = _concatenated(integer_sections, header, len(float_sections), HEADER_LENGTH, np.int64)
    integers[:HEADER_LENGTH] = header
    views = [float_view(floats, integers, number) for number in range(len(float_sections))]
    views += [integer_view(integers, number) for number in range(len(float_sections), SECTION_COUNT)]
    return PackedWorld(floats, integers, *views)


def _concatenated(
    sections: list[np.ndarray], header: np.ndarray, first: int, start: int, dtype: type[np.generic]
) -> np.ndarray:
    """The sections laid end to end after `start` free entries, their bounds written to `header` from section
    number `first` on."""
    sizes = [section.size for section in sections]
    buffer = np.zeros(start + sum(sizes), dtype=dtype)
    for number, (section, size) in enumerate(zip(sections, sizes, strict=True)):
        header[2 * (first + number)] = start
        header[2 * (first + number) + 1] = start + size
        buffer[start : start + size] = np.asarray(section, dtype=dtype).reshape(-1)
        start += size
    return buffer


def _section_shape(size: int, columns: int) -> tuple[int, ...]:
    """The shape of a section of `size` entries in rows of `columns` (a flat vector for one column)."""
    return (size,) if columns == 1 else (size // columns, columns)


def float_view(floats: np.ndarray, integers: np.ndarray, number: int) -> np.ndarray:
    """The section `number` of the float buffer, as a view of its rows."""
    start, stop = integers[2 * number], integers[2 * number + 1]
    return floats[start:stop].reshape(_section_shape(int(stop - start), FLOAT_SECTION_COLUMNS[number]))


def integer_view(integers: np.ndarray, number: int) -> np.ndarray:
    """The section `number` of the integer buffer, as a view of its rows."""
    start, stop = integers[2 * number], integers[2 * number + 1]
    columns = INTEGER_SECTION_COLUMNS[number - len(FLOAT_SECTION_COLUMNS)]
    return integers[start:stop].reshape(_section_shape(int(stop - start), columns))


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
