"""Exact 2D geometry on arrays: ray casting against wall segments, swept discs, point-to-segment distances.

Everything is float64 and vectorised. `SegmentGrid` makes ray casting fast without giving up exactness: the plane is
cut into square cells and the ray directions into angular bins, and for every (cell, bin) it keeps a conservative
list of the segments any ray starting in that cell, pointing into that bin, could reach within range. A query then
tests each ray against only its few candidates, as one flat batch of (ray, segment) pairs. The lists are supersets,
so the nearest hit among the candidates is the nearest hit among all segments. Each list is ordered nearest first,
with a lower bound of every candidate's distance from its cell, so a ray may stop at the first candidate that cannot
beat its nearest hit so far.

The simulation casts its rays and sweeps its cars in compiled code (`neurocar.sim.kernels`) against a simpler
structure, `CellGrid`: square cells over the walls' bounding box, each listing the walls that come near it. A ray
walks the cells it crosses in order, testing their walls, and stops at the first cell that ends beyond its nearest
hit; the whole table is a few tens of kilobytes, so it stays in the processor's cache, and it is built in
milliseconds. The array formulations here (`SegmentGrid.cast`, `cast_rays_brute_force`,
`swept_disc_time_of_impact`) are the exact reference that code is tested against. Building either grid is compiled
(`neurocar.grid_kernels`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

# A ray passing exactly through the joint of two segments must hit at least one of them, so the segment
# parameter is accepted slightly beyond [0, 1]; both neighbours then report the same distance.
JOINT_TOLERANCE = 1e-9
_PARALLEL_EPSILON = 1e-12
# The grid is built in square blocks of this many cells a side, each against only the walls near it.
BUILD_BLOCK_CELLS = 16
# A `CellGrid` lists a wall under every cell it passes within this distance of [m], so a ray walking the cells can
# never miss a wall through rounding at a cell's edge or corner, nor a hit within the joint tolerance of its end.
CELL_COVER_MARGIN_M = 1e-3


def cross(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """The z component of the cross product of 2D vectors given by their coordinates."""
    return ax * by - ay * bx


def ray_hit_distances(origins: np.ndarray, directions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance along each ray to each segment, `inf` where it misses.

    `origins` and `directions` (unit vectors) are (M, 2) and broadcast against the (K, 2) segment arrays,
    giving (M, K). Parallel rays and segments never hit.
    """
    ox, oy = origins[..., 0], origins[..., 1]
    dx, dy = directions[..., 0], directions[..., 1]
    ax, ay = starts[..., 0], starts[..., 1]
    ex, ey = ends[..., 0] - ax, ends[..., 1] - ay
    wx, wy = ax - ox, ay - oy
    denominator = cross(dx, dy, ex, ey)
    parallel = np.abs(denominator) < _PARALLEL_EPSILON
    safe = np.where(parallel, 1.0, denominator)
    along_ray = cross(wx, wy, ex, ey) / safe
    along_segment = cross(wx, wy, dx, dy) / safe
    hit = (
        ~parallel & (along_ray >= 0.0) & (along_segment >= -JOINT_TOLERANCE) & (along_segment <= 1.0 + JOINT_TOLERANCE)
    )
    return np.where(hit, along_ray, np.inf)


def cast_rays_brute_force(
    origins: np.ndarray, directions: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Distance from each ray to the nearest of all segments (`inf` if none): every ray against every wall."""
    if len(starts) == 0:
        return np.full(len(origins), np.inf)
    return ray_hit_distances(origins[:, None, :], directions[:, None, :], starts[None], ends[None]).min(axis=1)


def point_segment_distances(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance from points to segments, broadcasting (..., 2) arrays elementwise."""
    edge_x = ends[..., 0] - starts[..., 0]
    edge_y = ends[..., 1] - starts[..., 1]
    offset_x = points[..., 0] - starts[..., 0]
    offset_y = points[..., 1] - starts[..., 1]
    length_squared = edge_x * edge_x + edge_y * edge_y
    fraction = (offset_x * edge_x + offset_y * edge_y) / np.where(length_squared > 0, length_squared, 1.0)
    np.clip(fraction, 0.0, 1.0, out=fraction)
    return np.hypot(offset_x - fraction * edge_x, offset_y - fraction * edge_y)


def swept_disc_time_of_impact(
    centres: np.ndarray, motions: np.ndarray, radius: float, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """First fraction of a move in [0, 1] at which a disc touches a segment, `inf` if it never does.

    A disc of `radius` moves from `centres` by `motions` in a straight line; all arrays are (..., 2) and
    broadcast elementwise. A disc already touching at the start gives 0. Because the whole swept path is tested,
    a disc cannot pass through a wall however far it moves in one step.
    """
    edge = ends - starts
    length = np.hypot(edge[..., 0], edge[..., 1])
    safe_length = np.where(length > 0, length, 1.0)
    tangent = edge / safe_length[..., None]
    normal = np.stack([-tangent[..., 1], tangent[..., 0]], axis=-1)
    relative = centres - starts
    side_distance = np.einsum("...i,...i->...", relative, normal)
    normal_speed = np.einsum("...i,...i->...", motions, normal)
    best = np.full(np.broadcast_shapes(side_distance.shape, normal_speed.shape), np.inf)

    # The flat side of the segment: the disc's edge reaches the segment's line while moving towards it.
    side = np.where(side_distance >= 0, 1.0, -1.0)
    approaching = side * normal_speed < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(approaching, (side * radius - side_distance) / normal_speed, np.inf)
    finite_fraction = np.where(np.isfinite(fraction), fraction, 0.0)
    contact = relative + finite_fraction[..., None] * motions
    along = np.einsum("...i,...i->...", contact, tangent)
    on_side = (fraction >= 0) & (fraction <= 1) & (along >= 0) & (along <= length)
    best = np.where(on_side, fraction, best)

    # The two end points: solve |relative + f * motion - corner|^2 = radius^2 for the smaller root.
    motion_squared = np.einsum("...i,...i->...", motions, motions)
    for corner in (np.zeros_like(edge), edge):
        offset = relative - corner
        half_b = np.einsum("...i,...i->...", offset, motions)
        c = np.einsum("...i,...i->...", offset, offset) - radius * radius
        discriminant = half_b * half_b - motion_squared * c
        with np.errstate(divide="ignore", invalid="ignore"):
            root = (-half_b - np.sqrt(np.maximum(discriminant, 0.0))) / motion_squared
        valid = (discriminant >= 0) & (motion_squared > 0) & (root >= 0) & (root <= 1)
        best = np.where(valid, np.minimum(best, root), best)

    # Already touching before moving.
    touching = point_segment_distances(centres, starts, ends) <= radius
    return np.where(touching, 0.0, best)


class SegmentGrid:
    """Candidate segments per (grid cell, direction bin), for exact and fast ray casts from points near them.

    Built once per set of walls for rays up to `max_distance` long starting at points within `margin` of the
    `region_points` (for a track: its centre line, with the road half-width plus slack as margin). Queries from
    outside that region are answered by brute force, so results are always exact.
    """

    def __init__(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        max_distance: float,
        region_points: np.ndarray,
        margin: float,
        cell_size: float = 3.0,
        direction_bins: int = 32,
    ) -> None:
        self.starts = np.asarray(starts, dtype=np.float64)
        self.ends = np.asarray(ends, dtype=np.float64)
        self.edges = self.ends - self.starts
        self._start_x = np.ascontiguousarray(self.starts[:, 0])
        self._start_y = np.ascontiguousarray(self.starts[:, 1])
        self._edge_x = np.ascontiguousarray(self.edges[:, 0])
        self._edge_y = np.ascontiguousarray(self.edges[:, 1])
        self.max_distance = float(max_distance)
        self.cell_size = float(cell_size)
        self.direction_bins = int(direction_bins)
        self.bin_width = 2.0 * math.pi / self.direction_bins
        self._build(np.asarray(region_points, dtype=np.float64), float(margin))

    def _build(self, region_points: np.ndarray, margin: float) -> None:
        cell = self.cell_size
        reach = math.ceil(margin / cell + math.sqrt(2.0))
        low = region_points.min(axis=0) - (reach + 1) * cell
        self.origin = np.floor(low / cell) * cell
        high = region_points.max(axis=0) + (reach + 1) * cell
        self.shape = (
            math.ceil((high[0] - self.origin[0]) / cell) + 1,
            math.ceil((high[1] - self.origin[1]) / cell) + 1,
        )

        # Every cell whose square may come within `margin` of the region: stamp a disc of cells around each point
        # of the densified region (in cell units, the disc radius covers the margin plus a cell diagonal).
        dense = _densify(region_points, cell / 2.0)
        base = np.floor((dense - self.origin) / cell).astype(np.int64)
        offsets = np.arange(-reach, reach + 1)
        offset_x, offset_y = np.meshgrid(offsets, offsets, indexing="ij")
        inside_disc = np.hypot(offset_x, offset_y) <= margin / cell + math.sqrt(2.0)
        stamp = np.stack([offset_x[inside_disc], offset_y[inside_disc]], axis=1)
        covered = np.zeros(self.shape, dtype=bool)
        for offset in stamp:  # one vectorised assignment per stamp offset (a few dozen), not per point
            covered[base[:, 0] + offset[0], base[:, 1] + offset[1]] = True
        cells = np.argwhere(covered)
        # One ring of uncovered cells around the table lets queries clip instead of testing bounds.
        self.cell_lookup = np.full((self.shape[0] + 2, self.shape[1] + 2), -1, dtype=np.int64)
        self.cell_lookup[cells[:, 0] + 1, cells[:, 1] + 1] = np.arange(len(cells))
        self._flat_lookup = self.cell_lookup.ravel()
        cell_centres = self.origin + (cells + 0.5) * cell
        half_diagonal = cell * math.sqrt(0.5)

        reach_m = self.max_distance + half_diagonal
        block_cells, block_walls = [], []
        for members, nearby in self._blocks(cells, cell_centres, reach_m):
            block_cells.append(members)
            block_walls.append(nearby)
        from neurocar import grid_kernels  # compiled on first use: only commands that simulate pay for it

        self.offsets, self.candidate_walls, self.candidate_lower_bounds = grid_kernels.candidate_lists(
            np.ascontiguousarray(cell_centres),
            _offsets_of(block_cells),
            _concatenated(block_cells),
            _offsets_of(block_walls),
            _concatenated(block_walls),
            np.ascontiguousarray(self.starts),
            np.ascontiguousarray(self.ends),
            reach_m,
            half_diagonal,
            self.bin_width,
            self.direction_bins,
            len(cells) * self.direction_bins,
        )

    def _blocks(
        self, cells: np.ndarray, cell_centres: np.ndarray, reach_m: float
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The covered cells in square blocks, each with the walls whose bounding box comes within `reach_m` of the
        block: (cell indices, ascending; wall indices, ascending). Only those pairs can be within reach."""
        block_of_cell = cells // BUILD_BLOCK_CELLS
        block_key = block_of_cell[:, 0] * (int(block_of_cell[:, 1].max()) + 1) + block_of_cell[:, 1]
        order = np.argsort(block_key, kind="stable")
        boundaries = np.flatnonzero(np.diff(block_key[order])) + 1
        wall_low = np.minimum(self.starts, self.ends)
        wall_high = np.maximum(self.starts, self.ends)
        for block in np.split(order, boundaries):
            low = cell_centres[block].min(axis=0) - reach_m
            high = cell_centres[block].max(axis=0) + reach_m
            yield block, np.flatnonzero(np.all((wall_high >= low) & (wall_low <= high), axis=1))

    @property
    def mean_candidates(self) -> float:
        """Average number of candidate segments per (cell, direction bin)."""
        return len(self.candidate_walls) / max(1, len(self.offsets) - 1)

    def cells(self, points: np.ndarray) -> np.ndarray:
        """Covered-cell index of each point (M, 2), or -1 for points outside the covered region."""
        scaled_x = (points[:, 0] - self.origin[0]) * (1.0 / self.cell_size) + 1.0
        scaled_y = (points[:, 1] - self.origin[1]) * (1.0 / self.cell_size) + 1.0
        column = np.clip(scaled_x, 0.0, self.shape[0] + 1.0).astype(np.int64)
        row = np.clip(scaled_y, 0.0, self.shape[1] + 1.0).astype(np.int64)
        np.minimum(column, self.shape[0] + 1, out=column)
        np.minimum(row, self.shape[1] + 1, out=row)
        return self._flat_lookup.take(column * (self.shape[1] + 2) + row)

    def cell_keys(self, cells: np.ndarray, angles: np.ndarray) -> np.ndarray:
        """Table key of each ray from its start cell and absolute angle [rad], or -1 outside the region."""
        bins = (np.mod(angles, 2 * math.pi) * (1.0 / self.bin_width)).astype(np.int64)
        np.minimum(bins, self.direction_bins - 1, out=bins)
        return np.where(cells >= 0, cells * self.direction_bins + bins, -1)

    def cast(self, origins: np.ndarray, angles: np.ndarray) -> np.ndarray:
        """Distance from each ray (origin (M, 2), absolute angle (M,) [rad]) to the nearest segment, `inf` if
        nothing is hit within `max_distance` (a hit beyond it may also be reported)."""
        origins = np.asarray(origins, dtype=np.float64)
        angles = np.asarray(angles, dtype=np.float64)
        direction_x, direction_y = np.cos(angles), np.sin(angles)
        result = np.full(len(origins), np.inf)
        keys = self.cell_keys(self.cells(origins), angles)
        covered = keys >= 0
        if not covered.all():
            outside = ~covered
            directions = np.stack([direction_x[outside], direction_y[outside]], axis=1)
            result[outside] = cast_rays_brute_force(origins[outside], directions, self.starts, self.ends)
            keys = np.where(covered, keys, len(self.offsets) - 1)  # the past-the-end key has no candidates
        first = self.offsets[keys]
        count = self.offsets[np.minimum(keys + 1, len(self.offsets) - 1)] - first
        ray_index = np.nonzero(count > 0)[0]
        if len(ray_index) == 0:
            return result
        first, count = first[ray_index], count[ray_index]
        pair_start = np.cumsum(count) - count
        position = np.repeat(first - pair_start, count) + np.arange(int(pair_start[-1] + count[-1]))
        wall = self.candidate_walls.take(position)
        # The same ray-segment intersection as `ray_hit_distances`, written on flat 1D arrays and with the
        # denominator's sign folded in so that only one division is needed.
        origin_x = np.repeat(origins[ray_index, 0], count)
        origin_y = np.repeat(origins[ray_index, 1], count)
        ray_x = np.repeat(direction_x[ray_index], count)
        ray_y = np.repeat(direction_y[ray_index], count)
        offset_x = self._start_x.take(wall) - origin_x
        offset_y = self._start_y.take(wall) - origin_y
        edge_x = self._edge_x.take(wall)
        edge_y = self._edge_y.take(wall)
        denominator = cross(ray_x, ray_y, edge_x, edge_y)
        along_ray = cross(offset_x, offset_y, edge_x, edge_y)
        along_segment = cross(offset_x, offset_y, ray_x, ray_y)
        sign = np.where(denominator < 0, -1.0, 1.0)
        denominator *= sign
        along_ray *= sign
        along_segment *= sign
        tolerance = JOINT_TOLERANCE * denominator
        hit = (
            (denominator >= _PARALLEL_EPSILON)
            & (along_ray >= 0.0)
            & (along_segment >= -tolerance)
            & (along_segment <= denominator + tolerance)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = np.where(hit, along_ray, np.inf) / np.where(hit, denominator, 1.0)
        result[ray_index] = np.minimum.reduceat(distance, pair_start)
        return result

    def candidates_near(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, segment index) pairs: every segment within reach of each point's cell, any direction.

        Points outside the covered region are paired with every segment.
        """
        keys = self.cells(points)
        covered = keys >= 0
        # Bin 0 alone would miss segments in other directions; the union over bins of a cell is what we need,
        # so collision grids are built with a single direction bin.
        if self.direction_bins != 1:
            raise ValueError("candidates_near needs a grid built with direction_bins=1")
        point_index = np.nonzero(covered)[0]
        first = self.offsets[keys[point_index]]
        count = self.offsets[keys[point_index] + 1] - first
        pair_start = np.cumsum(count) - count
        total = int(count.sum())
        position = np.repeat(first - pair_start, count) + np.arange(total)
        pairs_point = np.repeat(point_index, count)
        pairs_wall = self.candidate_walls[position]
        outside = np.nonzero(~covered)[0]
        if len(outside):
            all_walls = np.arange(len(self.starts))
            pairs_point = np.concatenate([pairs_point, np.repeat(outside, len(all_walls))])
            pairs_wall = np.concatenate([pairs_wall, np.tile(all_walls, len(outside))])
        return pairs_point, pairs_wall


class CellGrid:
    """Square cells over a set of walls, each listing every wall within `reach_m` of some point of the cell.

    The cells tile the walls' bounding box widened by the reach and one cell, so every wall lies inside and no
    point outside the grid is within reach of a wall. Cell (column, row) covers
    [origin + (column, row) * cell_size, origin + (column + 1, row + 1) * cell_size); its walls are
    `walls[offsets[key]:offsets[key + 1]]`, key = column * rows + row, in ascending order. With `reach_m` =
    `CELL_COVER_MARGIN_M` a ray that crosses a cell can only hit walls its cells list; with the reach of a car's
    move, every wall a car in the cell can touch is listed.
    """

    def __init__(self, starts: np.ndarray, ends: np.ndarray, reach_m: float, cell_size: float = 3.0) -> None:
        starts = np.asarray(starts, dtype=np.float64)
        ends = np.asarray(ends, dtype=np.float64)
        self.reach_m = float(reach_m)
        self.cell_size = float(cell_size)
        border = self.reach_m + self.cell_size
        low = np.minimum(starts, ends).min(axis=0) - border
        high = np.maximum(starts, ends).max(axis=0) + border
        self.origin = np.floor(low / self.cell_size) * self.cell_size
        self.shape = (
            math.ceil((high[0] - self.origin[0]) / self.cell_size) + 1,
            math.ceil((high[1] - self.origin[1]) / self.cell_size) + 1,
        )
        from neurocar import grid_kernels  # compiled on first use: only commands that simulate pay for it

        self.offsets, self.walls = grid_kernels.cell_walls(
            starts, ends, (float(self.origin[0]), float(self.origin[1])), self.cell_size, self.shape, self.reach_m
        )

    def cells(self, points: np.ndarray) -> np.ndarray:
        """Cell key of each point (M, 2), or -1 for points outside the grid."""
        scaled = (np.asarray(points, dtype=np.float64) - self.origin) * (1.0 / self.cell_size)
        column = np.floor(scaled[:, 0])
        row = np.floor(scaled[:, 1])
        inside = (column >= 0) & (column < self.shape[0]) & (row >= 0) & (row < self.shape[1])
        return np.where(inside, column * self.shape[1] + row, -1).astype(np.int64)


def _offsets_of(parts: list[np.ndarray]) -> np.ndarray:
    """Start of each part in their concatenation, and the total at the end."""
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(part) for part in parts], out=offsets[1:])
    return offsets


def _concatenated(parts: list[np.ndarray]) -> np.ndarray:
    """The parts end to end as one int64 array (empty if there are none)."""
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _densify(points: np.ndarray, spacing: float) -> np.ndarray:
    """The closed polyline through `points` with extra points so that none are more than `spacing` apart."""
    following = np.roll(points, -1, axis=0)
    length = np.hypot(*(following - points).T)
    pieces = np.maximum(1, np.ceil(length / spacing).astype(np.int64))
    start_of = np.repeat(np.arange(len(points)), pieces)
    fraction = (np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)) / np.repeat(pieces, pieces)
    return points[start_of] + fraction[:, None] * (following - points)[start_of]
