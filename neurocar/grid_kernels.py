"""The compiled part of building the wall grids: which walls each square cell lists.

`cell_walls` builds a `CellGrid` (what the simulation steps against): each wall visits only the cells of its own
bounding box widened by the reach, so building costs about one test per (wall, nearby cell) pair, a few
milliseconds for a track. `candidate_lists` builds a `SegmentGrid` (the array reference of the ray casts, used by
the tests): for each covered cell and each wall near its block, the wall is a candidate of the cell if some point
of the cell is within reach of it; it is listed under every direction bin that a ray from the cell towards the
wall can fall in (the wall's angular extent seen from the cell centre, widened by the cell's own angular size).
The lists are written bin by bin with a counting sort, each list nearest wall first. Compiled by numba on first
use and cached on disk, like `neurocar.sim.kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TWO_PI = 2.0 * math.pi


@njit(cache=True)
def _nearest(cx, cy, ax, ay, bx, by):
    """Distance from a cell centre to a wall (as `point_segment_distances`)."""
    ex = bx - ax
    ey = by - ay
    offset_x = cx - ax
    offset_y = cy - ay
    length_squared = ex * ex + ey * ey
    fraction = (offset_x * ex + offset_y * ey) / (length_squared if length_squared > 0 else 1.0)
    fraction = min(max(fraction, 0.0), 1.0)
    return math.hypot(offset_x - fraction * ex, offset_y - fraction * ey)


@njit(cache=True)
def _bins(cx, cy, ax, ay, bx, by, nearest, half_diagonal, bin_width, direction_bins):
    """(first bin, bin count) of the directions in which a ray from the cell can reach the wall."""
    angle_start = math.atan2(ay - cy, ax - cx)
    angle_end = math.atan2(by - cy, bx - cx)
    turn = (angle_end - angle_start + math.pi) % TWO_PI - math.pi
    low_angle = angle_start if turn >= 0 else angle_end
    widen = math.asin(min(max(half_diagonal / max(nearest, 1e-12), 0.0), 1.0))
    span = abs(turn) + 2 * widen
    if nearest <= half_diagonal or span >= TWO_PI - bin_width:
        return 0, direction_bins
    start = (low_angle - widen) % TWO_PI
    first_bin = math.floor(start / bin_width)
    last_bin = math.floor((start + span) / bin_width)
    return first_bin, min(last_bin - first_bin + 1, direction_bins)


@njit(cache=True)
def _cell_range(low: float, high: float, origin: float, inverse_cell: float, count: int) -> tuple[int, int]:
    """First and last cell index (clipped to the grid) of an interval along one axis."""
    first = max(math.floor((low - origin) * inverse_cell), 0)
    last = min(math.floor((high - origin) * inverse_cell), count - 1)
    return first, last


@njit(cache=True)
def _visit_cells(starts, ends, origin_x, origin_y, cell_size, columns, rows, reach_m, offsets, walls, fill):
    """Count (when `fill` is empty) or write the walls of every cell: a wall belongs to a cell when the cell's
    centre is within `reach_m` plus half the cell's diagonal of it, so every point of the cell within `reach_m`
    of the wall finds it."""
    limit = reach_m + cell_size * math.sqrt(0.5)
    inverse_cell = 1.0 / cell_size
    writing = len(fill) > 0
    for wall in range(starts.shape[0]):
        ax = starts[wall, 0]
        ay = starts[wall, 1]
        bx = ends[wall, 0]
        by = ends[wall, 1]
        first_column, last_column = _cell_range(
            min(ax, bx) - limit, max(ax, bx) + limit, origin_x, inverse_cell, columns
        )
        first_row, last_row = _cell_range(min(ay, by) - limit, max(ay, by) + limit, origin_y, inverse_cell, rows)
        for column in range(first_column, last_column + 1):
            centre_x = origin_x + (column + 0.5) * cell_size
            for row in range(first_row, last_row + 1):
                centre_y = origin_y + (row + 0.5) * cell_size
                if _nearest(centre_x, centre_y, ax, ay, bx, by) <= limit:
                    key = column * rows + row
                    if writing:
                        walls[fill[key]] = wall
                        fill[key] += 1
                    else:
                        offsets[key + 1] += 1


def cell_walls(
    starts: np.ndarray,
    ends: np.ndarray,
    origin: tuple[float, float],
    cell_size: float,
    shape: tuple[int, int],
    reach_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(offsets (columns * rows + 1,), walls): the walls of cell (column, row) are
    `walls[offsets[key]:offsets[key + 1]]` with key = column * rows + row, in ascending order."""
    columns, rows = shape
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    ends = np.ascontiguousarray(ends, dtype=np.float64)
    offsets = np.zeros(columns * rows + 1, dtype=np.int64)
    arguments = (starts, ends, float(origin[0]), float(origin[1]), float(cell_size), int(columns), int(rows))
    nothing = np.zeros(0, dtype=np.int64)
    _visit_cells(*arguments, float(reach_m), offsets, nothing, nothing)
    np.cumsum(offsets, out=offsets)
    walls = np.empty(offsets[-1], dtype=np.int64)
    _visit_cells(*arguments, float(reach_m), offsets, walls, offsets[:-1].copy())
    return offsets, walls


@njit(cache=True)
def count_pairs(cell_centres, block_cell_offsets, block_cells, block_wall_offsets, block_walls, starts, ends, reach_m):
    """How many (cell, wall) pairs of the blocks are within `reach_m`.

    Block b holds cells `block_cells[block_cell_offsets[b]:block_cell_offsets[b + 1]]` and the walls
    `block_walls[block_wall_offsets[b]:...]` that may be within reach of them.
    """
    pairs = 0
    for block in range(len(block_cell_offsets) - 1):
        for cell_position in range(block_cell_offsets[block], block_cell_offsets[block + 1]):
            cell = block_cells[cell_position]
            for wall_position in range(block_wall_offsets[block], block_wall_offsets[block + 1]):
                wall = block_walls[wall_position]
                nearest = _nearest(
                    cell_centres[cell, 0],
                    cell_centres[cell, 1],
                    starts[wall, 0],
                    starts[wall, 1],
                    ends[wall, 0],
                    ends[wall, 1],
                )
                pairs += nearest <= reach_m
    return pairs


@njit(cache=True)
def list_pairs(
    cell_centres,
    block_cell_offsets,
    block_cells,
    block_wall_offsets,
    block_walls,
    starts,
    ends,
    reach_m,
    half_diagonal,
    bin_width,
    direction_bins,
    pair_cells,
    pair_walls,
    pair_nearest,
    pair_first_bins,
    pair_bin_counts,
    key_counts,
):
    """Fill the pair arrays (cell, wall, nearest distance, first direction bin, bin count) of every pair within
    reach, and count the candidates of each key (cell * direction_bins + bin)."""
    pair = 0
    for block in range(len(block_cell_offsets) - 1):
        for cell_position in range(block_cell_offsets[block], block_cell_offsets[block + 1]):
            cell = block_cells[cell_position]
            cx = cell_centres[cell, 0]
            cy = cell_centres[cell, 1]
            for wall_position in range(block_wall_offsets[block], block_wall_offsets[block + 1]):
                wall = block_walls[wall_position]
                ax = starts[wall, 0]
                ay = starts[wall, 1]
                bx = ends[wall, 0]
                by = ends[wall, 1]
                nearest = _nearest(cx, cy, ax, ay, bx, by)
                if not nearest <= reach_m:
                    continue
                first_bin, count = _bins(cx, cy, ax, ay, bx, by, nearest, half_diagonal, bin_width, direction_bins)
                pair_cells[pair] = cell
                pair_walls[pair] = wall
                pair_nearest[pair] = nearest
                pair_first_bins[pair] = first_bin
                pair_bin_counts[pair] = count
                pair += 1
                for step in range(count):
                    key_counts[cell * direction_bins + (first_bin + step) % direction_bins] += 1


@njit(cache=True)
def place_candidates(
    pair_cells,
    pair_walls,
    pair_nearest,
    pair_first_bins,
    pair_bin_counts,
    offsets,
    half_diagonal,
    direction_bins,
    walls,
    bounds,
    fill,
):
    """Write each pair under each of its keys (`fill` starts as the offsets of the keys), then order every list
    nearest first, ties by wall index. Each candidate's bound is its distance from the cell centre less the cell's
    half diagonal: no point of the cell is nearer the wall than that."""
    for pair in range(len(pair_cells)):
        bound = max(pair_nearest[pair] - half_diagonal, 0.0)
        for step in range(pair_bin_counts[pair]):
            key = pair_cells[pair] * direction_bins + (pair_first_bins[pair] + step) % direction_bins
            walls[fill[key]] = pair_walls[pair]
            bounds[fill[key]] = bound
            fill[key] += 1
    # Insertion sort: the lists are short.
    for key in range(len(offsets) - 1):
        for position in range(offsets[key] + 1, offsets[key + 1]):
            wall = walls[position]
            bound = bounds[position]
            other = position - 1
            while other >= offsets[key] and (bounds[other] > bound or (bounds[other] == bound and walls[other] > wall)):
                walls[other + 1] = walls[other]
                bounds[other + 1] = bounds[other]
                other -= 1
            walls[other + 1] = wall
            bounds[other + 1] = bound


def candidate_lists(
    cell_centres: np.ndarray,
    block_cell_offsets: np.ndarray,
    block_cells: np.ndarray,
    block_wall_offsets: np.ndarray,
    block_walls: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    reach_m: float,
    half_diagonal: float,
    bin_width: float,
    direction_bins: int,
    table_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets (table_size + 1,), candidate walls, lower bounds of their distance from the cell [m]): the
    candidates of key cell * direction_bins + bin are `candidate_walls[offsets[key]:offsets[key + 1]]`, nearest
    first (ties by wall index)."""
    blocks = (cell_centres, block_cell_offsets, block_cells, block_wall_offsets, block_walls, starts, ends)
    pairs = count_pairs(*blocks, reach_m)
    pair_cells = np.empty(pairs, dtype=np.int64)
    pair_walls = np.empty(pairs, dtype=np.int64)
    pair_nearest = np.empty(pairs)
    pair_first_bins = np.empty(pairs, dtype=np.int64)
    pair_bin_counts = np.empty(pairs, dtype=np.int64)
    key_counts = np.zeros(table_size, dtype=np.int64)
    list_pairs(
        *blocks,
        reach_m,
        half_diagonal,
        bin_width,
        direction_bins,
        pair_cells,
        pair_walls,
        pair_nearest,
        pair_first_bins,
        pair_bin_counts,
        key_counts,
    )
    offsets = np.zeros(table_size + 1, dtype=np.int64)
    np.cumsum(key_counts, out=offsets[1:])
    walls = np.empty(offsets[-1], dtype=np.int64)
    bounds = np.empty(offsets[-1])
    place_candidates(
        pair_cells,
        pair_walls,
        pair_nearest,
        pair_first_bins,
        pair_bin_counts,
        offsets,
        half_diagonal,
        direction_bins,
        walls,
        bounds,
        offsets[:-1].copy(),
    )
    return offsets, walls, bounds
