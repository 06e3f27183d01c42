"""Tracks: a closed centre line and a road width, loaded from YAML, validated, with walls and progress derived.

The YAML file holds `name`, optional `description`, `difficulty` (1-5), `width_m`, `centerline` (a closed loop of
[x, y] points in metres, either winding) and optional `start_index`. The loader smooths the centre line with a
closed centripetal Catmull-Rom spline through the given points (a dense polyline keeps its shape), resamples it
about every metre, offsets it by half the width to each side for the walls, and measures progress as arc length
along it from the start point. Cars drive in the order of the points.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from neurocar.errors import NeuroCarError
from neurocar.paths import display_path
from neurocar.schema import (
    Fields,
    ListOf,
    Number,
    Optional,
    Rule,
    SchemaError,
    Text,
    Whole,
    excerpt,
    printable,
    read_yaml_file,
)

MIN_WIDTH_M = 6.0
MAX_WIDTH_M = 30.0
MIN_POINTS = 4
CENTERLINE_SPACING_M = 1.0
WALL_SIMPLIFY_TOLERANCE_M = 0.01
SIMPLIFY_FLOAT_SPAN = 24  # chords replacing up to this many points are tested without arrays (faster when short)
CHECKPOINT_SPACING_M = 25.0
# The inner wall of a curve folds over itself when the curve's radius is below half the road width;
# keep this much clearance so the walls stay clean.
WALL_FOLD_CLEARANCE_M = 1.0
# Room the car needs beside itself: the road must be this much wider than the car's collision disc and its body.
CAR_CLEARANCE_M = 1.0
# Size limits: the ray grid and the spline grow with the track, and far-out coordinates lose precision.
MAX_COORDINATE_M = 1e6
MAX_SPAN_M = 5000.0
MAX_LENGTH_M = 20000.0
TEXT_DECIMALS = 1  # coordinates are written to 0.1 m, like the shipped tracks
MAX_POINTS = 20_000
MAX_NAME_CHARACTERS = 200
MAX_DESCRIPTION_CHARACTERS = 2000
MAX_TRACK_FILE_BYTES = 8 * 1024 * 1024


class Point(Rule):
    """A point [x, y] in metres, each coordinate finite and within `MAX_COORDINATE_M` of the origin."""

    def check(self, value: Any, key: str) -> tuple[float, float]:
        """The point as a pair of floats."""
        if not isinstance(value, list) or len(value) != 2:
            raise SchemaError(key, f"expected a pair [x, y], got {excerpt(value)}")
        if not all(_is_number(coordinate) for coordinate in value):
            raise SchemaError(key, f"expected numbers, got {excerpt(value)}")
        if any(isinstance(coordinate, float) and not math.isfinite(coordinate) for coordinate in value):
            raise SchemaError(key, f"expected finite numbers, got {excerpt(value)}")
        if not all(abs(coordinate) <= MAX_COORDINATE_M for coordinate in value):  # a huge int never becomes a float
            raise SchemaError(
                key, f"{excerpt(value)} is too far out; keep coordinates within {MAX_COORDINATE_M:,.0f} m of the origin"
            )
        return float(value[0]), float(value[1])


# The track file format: one declaration, checked once by `track_from_data`.
TRACK_FORMAT = Fields(
    {
        "name": Text(MAX_NAME_CHARACTERS, required=True),
        "description": Optional(Text(MAX_DESCRIPTION_CHARACTERS), ""),
        "difficulty": Whole(1, 5, expect="a whole number from 1 to 5"),
        "width_m": Number(
            MIN_WIDTH_M, MAX_WIDTH_M, "m", expect=f"a road width of {MIN_WIDTH_M:g} to {MAX_WIDTH_M:g} m"
        ),
        "centerline": ListOf(Point(), MIN_POINTS, MAX_POINTS, noun="points", expect="a list of [x, y] points"),
        "start_index": Whole(0, MAX_POINTS - 1),
    },
    optional={"description": "", "start_index": 0},
)
TRACK_KEYS = tuple(TRACK_FORMAT.rules)


@dataclass(frozen=True, eq=False)
class Track:
    """A validated track. Arrays are float64 in metres; the centre line starts at the start point.

    | attribute        | shape  | meaning                                                        |
    |------------------|--------|----------------------------------------------------------------|
    | centerline       | (n, 2) | resampled centre line, point 0 = start, closed (n-1 joins 0)   |
    | arc_m            | (n+1,) | arc length at each point, arc_m[n] = length_m                  |
    | left_wall        | (l, 2) | closed polyline on the left of the driving direction           |
    | right_wall       | (r, 2) | closed polyline on the right                                   |
    | wall_starts/ends | (w, 2) | every wall segment, left then right                            |
    | control_points   | (k, 2) | the points as written in the file                              |
    """

    name: str
    description: str
    difficulty: int
    width_m: float
    path: str
    control_points: np.ndarray
    centerline: np.ndarray
    arc_m: np.ndarray
    left_wall: np.ndarray
    right_wall: np.ndarray
    wall_starts: np.ndarray
    wall_ends: np.ndarray
    min_radius_m: float
    start_heading: float
    source_text: str = ""

    @property
    def length_m(self) -> float:
        """Length of one lap along the centre line [m]."""
        return float(self.arc_m[-1])

    @property
    def start_position(self) -> np.ndarray:
        """Where cars start [m]."""
        return self.centerline[0].copy()

    def pose_at(self, arc: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Positions (..., 2) [m] and headings (...,) [rad] on the centre line at arc lengths (any lap)."""
        arc = np.mod(np.asarray(arc, dtype=np.float64), self.length_m)
        index = np.clip(np.searchsorted(self.arc_m, arc, side="right") - 1, 0, len(self.centerline) - 1)
        following = self.centerline[(index + 1) % len(self.centerline)]
        segment = following - self.centerline[index]
        segment_length = self.arc_m[index + 1] - self.arc_m[index]
        fraction = (arc - self.arc_m[index]) / np.where(segment_length > 0, segment_length, 1.0)
        position = self.centerline[index] + fraction[..., None] * segment
        heading = np.arctan2(segment[..., 1], segment[..., 0])
        return position, heading

    @property
    def checkpoint_arcs_m(self) -> np.ndarray:
        """Arc lengths of the checkpoint gates, evenly spaced about every 25 m, the first at the start."""
        count = max(1, int(self.length_m // CHECKPOINT_SPACING_M))
        return np.arange(count) * (self.length_m / count)

    def gate(self, arc: float) -> tuple[np.ndarray, np.ndarray]:
        """End points of the line across the road at an arc length (for drawing the start line)."""
        position, heading = self.pose_at(arc)
        normal = np.array([-math.sin(float(heading)), math.cos(float(heading))])
        return position + normal * self.width_m / 2, position - normal * self.width_m / 2


class TrackError(NeuroCarError):
    """A track that cannot be used; `position` [m] is where the problem is on the track, when it has a place.

    The editor marks that place; everything else sees an ordinary `NeuroCarError` with the same one-line message.
    """

    def __init__(self, message: str, position: tuple[float, float] | None = None) -> None:
        super().__init__(message)
        self.position = position


def _error(file_name: str, message: str, position: np.ndarray | None = None) -> TrackError:
    where = None if position is None else (float(position[0]), float(position[1]))
    return TrackError(f"{file_name}: {message}", where)


def _segment_intersection(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """The point where segment a0-a1 crosses segment b0-b1 (they are known to cross properly)."""
    direction_a = a1 - a0
    direction_b = b1 - b0
    denominator = direction_a[0] * direction_b[1] - direction_a[1] * direction_b[0]
    if denominator == 0:
        return (a0 + a1) / 2
    offset = b0 - a0
    along = (offset[0] * direction_b[1] - offset[1] * direction_b[0]) / denominator
    return a0 + along * direction_a


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_points(raw: tuple[tuple[float, float], ...], file_name: str) -> np.ndarray:
    points = np.asarray(raw, dtype=np.float64)
    if np.allclose(points[0], points[-1]):
        points = points[:-1]
    step = np.hypot(*(np.roll(points, -1, axis=0) - points).T)
    if np.any(step < 1e-6):
        index = int(np.argmax(step < 1e-6))
        raise _error(file_name, f"centerline[{index}]: repeats the point before it; remove one of them", points[index])
    if len(points) < MIN_POINTS:
        raise _error(file_name, f"centerline: needs at least {MIN_POINTS} distinct points, got {len(points)}")
    span = points.max(axis=0) - points.min(axis=0)
    if np.any(span > MAX_SPAN_M):
        raise _error(
            file_name,
            f"centerline: the track spans {span[0]:,.0f} x {span[1]:,.0f} m; keep it within "
            f"{MAX_SPAN_M:,.0f} m on a side",
        )
    # A curve through the points in order is at least as long as the polygon through them: reject before smoothing.
    _check_length(file_name, float(np.sum(step)))
    return points


def _check_length(file_name: str, length_m: float) -> None:
    if length_m > MAX_LENGTH_M:
        raise _error(
            file_name,
            f"centerline: a lap is {length_m:,.0f} m long; keep it within {MAX_LENGTH_M:,.0f} m",
        )


def _check_room_for_car(file_name: str, width: float, collision_radius_m: float, car_width_m: float) -> None:
    """Reject a road the car cannot drive on: every car would crash at once."""
    needs = [
        ("physics.collision_radius_m", collision_radius_m, 2 * collision_radius_m + CAR_CLEARANCE_M),
        ("physics.car_width_m", car_width_m, car_width_m + CAR_CLEARANCE_M),
    ]
    key, value, required = max(needs, key=lambda need: need[2])
    if width < required:
        raise _error(
            file_name,
            f"width_m: the {width:g} m road is too narrow for the car ({key} {value:g} needs at least "
            f"{required:g} m); make width_m larger or {key} smaller",
        )


def catmull_rom_closed(points: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """A closed centripetal Catmull-Rom spline through `points`, sampled about every `spacing` metres.

    Returns the samples and, for each control point, the index of its sample.
    """
    count = len(points)
    samples: list[np.ndarray] = []
    control_index = np.zeros(count, dtype=np.int64)
    total = 0
    for index in range(count):
        p0, p1, p2, p3 = (points[(index + offset) % count] for offset in (-1, 0, 1, 2))
        t0 = 0.0
        t1 = t0 + math.sqrt(float(np.hypot(*(p1 - p0))))
        t2 = t1 + math.sqrt(float(np.hypot(*(p2 - p1))))
        t3 = t2 + math.sqrt(float(np.hypot(*(p3 - p2))))
        pieces = max(1, math.ceil(float(np.hypot(*(p2 - p1))) / spacing))
        t = np.linspace(t1, t2, pieces, endpoint=False)[:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        control_index[index] = total
        samples.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
        total += pieces
    return np.concatenate(samples), control_index


def resample_closed(points: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample a closed polyline at equal arc-length steps close to `spacing`; returns points and arc (n+1,)."""
    following = np.roll(points, -1, axis=0)
    lengths = np.hypot(*(following - points).T)
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    total = cumulative[-1]
    count = max(8, round(total / spacing))
    arc = np.linspace(0.0, total, count, endpoint=False)
    index = np.clip(np.searchsorted(cumulative, arc, side="right") - 1, 0, len(points) - 1)
    fraction = (arc - cumulative[index]) / lengths[index]
    resampled = points[index] + fraction[:, None] * (following - points)[index]
    steps = np.hypot(*(np.roll(resampled, -1, axis=0) - resampled).T)
    return resampled, np.concatenate([[0.0], np.cumsum(steps)])


def curvature_radii(points: np.ndarray, stride: int = 2) -> np.ndarray:
    """Radius of the circle through each point and its neighbours `stride` steps away (closed polyline)."""
    before = np.roll(points, stride, axis=0)
    after = np.roll(points, -stride, axis=0)
    a = np.hypot(*(points - before).T)
    b = np.hypot(*(after - points).T)
    c = np.hypot(*(after - before).T)
    twice_area = np.abs(
        (points[:, 0] - before[:, 0]) * (after[:, 1] - before[:, 1])
        - (points[:, 1] - before[:, 1]) * (after[:, 0] - before[:, 0])
    )
    with np.errstate(divide="ignore"):
        return np.where(twice_area > 1e-12, a * b * c / (2.0 * np.maximum(twice_area, 1e-300)), np.inf)


def offset_closed(points: np.ndarray, distance: float) -> np.ndarray:
    """The closed polyline moved `distance` to the left of its direction (negative: to the right)."""
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    tangent /= np.hypot(*tangent.T)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    return points + distance * normal


def simplify_closed(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Drop points of a closed polyline that lie within `tolerance` of the chord that would replace them.

    Greedy from point 0: the chord from the last kept point grows one point at a time until a point it replaces
    would lie further than `tolerance` from it (or the polyline ends); the point before is kept and starts the next
    chord. Short chords are tested with plain floats, long ones as arrays (the same arithmetic either way).
    """
    count = len(points)
    coordinates = points.tolist()
    keep = [0]
    anchor = 0
    for index in range(1, count):
        candidate = index + 1
        if candidate >= count:
            keep.append(index)
            break
        start_x, start_y = coordinates[anchor]
        end_x, end_y = coordinates[candidate]
        edge_x = end_x - start_x
        edge_y = end_y - start_y
        length = math.hypot(edge_x, edge_y)
        if length <= 0:
            too_far = True
        elif index - anchor <= SIMPLIFY_FLOAT_SPAN:
            too_far = any(
                abs((x - start_x) * edge_y - (y - start_y) * edge_x) / length > tolerance
                for x, y in coordinates[anchor + 1 : candidate]
            )
        else:
            between = points[anchor + 1 : candidate]
            deviation = np.abs((between[:, 0] - start_x) * edge_y - (between[:, 1] - start_y) * edge_x) / length
            too_far = bool(np.max(deviation) > tolerance)
        if too_far:
            keep.append(index)
            anchor = index
    return points[np.array(sorted(set(keep)))]


def _closed_segments(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return points, np.roll(points, -1, axis=0)


def _orientation(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle p, q, r (positive when anticlockwise)."""
    return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])


def _nearby_pairs(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of segments whose pieces share a square cell: a superset of the pairs that cross.

    Each segment is cut into pieces no longer than a cell and each piece listed under the cells of its bounding
    box (widened a little against rounding), so two segments that meet share the cell of the point where they do.
    """
    count = len(starts)
    length = np.hypot(*(ends - starts).T)
    cell = max(float(np.median(length)) * 4.0, 1e-6)
    pieces = np.maximum(1, np.ceil(length / cell).astype(np.int64))
    owner = np.repeat(np.arange(count), pieces)
    index = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    edge = (ends - starts)[owner]
    piece_start = starts[owner] + (index / pieces[owner])[:, None] * edge
    piece_end = starts[owner] + ((index + 1) / pieces[owner])[:, None] * edge
    slack = 1e-6 * max(1.0, float(np.abs(starts).max()))
    first = np.floor((np.minimum(piece_start, piece_end) - slack) / cell).astype(np.int64)
    last = np.floor((np.maximum(piece_start, piece_end) + slack) / cell).astype(np.int64)
    span = last - first + 1
    cells_per_piece = span[:, 0] * span[:, 1]
    entry_piece = np.repeat(np.arange(len(owner)), cells_per_piece)
    local = np.arange(len(entry_piece)) - np.repeat(np.cumsum(cells_per_piece) - cells_per_piece, cells_per_piece)
    column = first[entry_piece, 0] + local // span[entry_piece, 1]
    row = first[entry_piece, 1] + local % span[entry_piece, 1]
    key = (column - column.min()) * (int(row.max() - row.min()) + 1) + (row - row.min())
    segment = owner[entry_piece]
    order = np.lexsort((segment, key))
    key, segment = key[order], segment[order]
    # Pair every entry with the entries after it in its cell.
    group_start = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1])
    group_end = np.repeat(np.append(group_start[1:], len(key)), np.diff(np.append(group_start, len(key))))
    partners = group_end - np.arange(len(key)) - 1
    left = np.repeat(np.arange(len(key)), partners)
    right = left + 1 + np.arange(len(left)) - np.repeat(np.cumsum(partners) - partners, partners)
    first_segment = np.minimum(segment[left], segment[right])
    second_segment = np.maximum(segment[left], segment[right])
    unique = np.unique(first_segment * count + second_segment)
    return unique // count, unique % count


def _first_crossing(
    starts: np.ndarray, ends: np.ndarray, owner: np.ndarray, order: np.ndarray
) -> tuple[int, int] | None:
    """First pair of segments that properly cross (the smallest first index, then the smallest second), skipping
    neighbours along the same polyline.

    `owner` names each segment's polyline and `order` its position in it (polylines are closed). Only segments
    that come near each other are tested (`_nearby_pairs`).
    """
    first, second = _nearby_pairs(starts, ends)
    a0, a1, b0, b1 = starts[first], ends[first], starts[second], ends[second]
    crossing = (_orientation(a0, a1, b0) * _orientation(a0, a1, b1) < 0) & (
        _orientation(b0, b1, a0) * _orientation(b0, b1, a1) < 0
    )
    gap = np.abs(order[first] - order[second])
    ring = np.bincount(owner)[owner[second]]
    neighbours = (owner[first] == owner[second]) & ((gap <= 1) | (gap >= ring - 1))
    hits = np.flatnonzero(crossing & ~neighbours & (first != second))
    if len(hits) == 0:
        return None
    # Crossing is symmetric: the first pair in (row, column) order starts at the smallest index of any crossing.
    smallest = hits[np.lexsort((second[hits], first[hits]))[0]]
    return int(first[smallest]), int(second[smallest])


def _check_no_crossings(
    file_name: str, centerline: np.ndarray, left: np.ndarray, right: np.ndarray, arc: np.ndarray
) -> None:
    coarse = centerline[:: max(1, len(centerline) // 400)]
    starts, ends = _closed_segments(coarse)
    found = _first_crossing(starts, ends, np.zeros(len(coarse), dtype=np.int64), np.arange(len(coarse)))
    if found is not None:
        where = arc[found[0] * max(1, len(centerline) // 400)]
        crossing = _segment_intersection(starts[found[0]], ends[found[0]], starts[found[1]], ends[found[1]])
        raise _error(file_name, f"centerline: crosses itself (about {where:.0f} m from the start)", crossing)
    left_starts, left_ends = _closed_segments(left)
    right_starts, right_ends = _closed_segments(right)
    starts = np.concatenate([left_starts, right_starts])
    ends = np.concatenate([left_ends, right_ends])
    owner = np.concatenate([np.zeros(len(left), dtype=np.int64), np.ones(len(right), dtype=np.int64)])
    order = np.concatenate([np.arange(len(left)), np.arange(len(right))])
    found = _first_crossing(starts, ends, owner, order)
    if found is not None:
        point = (starts[found[0]] + ends[found[0]]) / 2
        raise _error(
            file_name,
            f"walls: the walls cross near ({point[0]:.0f}, {point[1]:.0f}); parts of the track are closer "
            "than the road width or a curve folds. Move them apart or make width_m smaller",
            _segment_intersection(starts[found[0]], ends[found[0]], starts[found[1]], ends[found[1]]),
        )


def track_from_data(
    data: Any,
    file_name: str,
    min_turn_radius_m: float | None = None,
    collision_radius_m: float = 0.0,
    car_width_m: float = 0.0,
) -> Track:
    """Validate parsed YAML and build the track.

    The car's size (`collision_radius_m`, `car_width_m` [m]) enables the 'road too narrow for the car' check and
    `min_turn_radius_m` [m] the 'curve too tight for the car' check. Every problem is a `TrackError`; a curve too
    tight, a crossing and a repeated point also say where they are (`position`).
    """
    if not isinstance(data, dict):
        raise _error(file_name, "expected a mapping with name, difficulty, width_m and centerline")
    try:
        fields = TRACK_FORMAT.check(data, "")
    except SchemaError as error:
        raise _error(file_name, str(error)) from None
    name, description, difficulty = fields["name"], fields["description"], fields["difficulty"]
    width = fields["width_m"]
    _check_room_for_car(file_name, width, collision_radius_m, car_width_m)
    points = _parse_points(fields["centerline"], file_name)
    start_index = fields["start_index"]
    if not 0 <= start_index < len(points):
        raise _error(file_name, f"start_index: {start_index} is not a point index (0 to {len(points) - 1})")

    spline, control_index = catmull_rom_closed(points, CENTERLINE_SPACING_M / 4)
    spline = np.roll(spline, -int(control_index[start_index]), axis=0)
    centerline, arc = resample_closed(spline, CENTERLINE_SPACING_M)
    _check_length(file_name, float(arc[-1]))
    radii = curvature_radii(centerline)
    tightest = int(np.argmin(radii))
    min_radius = float(radii[tightest])
    if min_radius < width / 2 + WALL_FOLD_CLEARANCE_M:
        raise _error(
            file_name,
            f"centerline: the curve {arc[tightest]:.0f} m from the start has a radius of {min_radius:.1f} m, "
            f"too tight for a {width:g} m road (the inner wall folds below {width / 2 + WALL_FOLD_CLEARANCE_M:.1f} m);"
            " spread the points of that curve out or make width_m smaller",
            centerline[tightest],
        )
    if min_turn_radius_m is not None:
        # The car can use the road: on the outside of the curve it turns on a circle up to half a road wider.
        usable = min_radius + width / 2 - collision_radius_m
        if usable < min_turn_radius_m:
            raise _error(
                file_name,
                f"centerline: the curve {arc[tightest]:.0f} m from the start (radius {min_radius:.1f} m) is too "
                f"tight for the car to turn (it needs {min_turn_radius_m:.1f} m); spread the points of that curve out",
                centerline[tightest],
            )
    left = simplify_closed(offset_closed(centerline, width / 2), WALL_SIMPLIFY_TOLERANCE_M)
    right = simplify_closed(offset_closed(centerline, -width / 2), WALL_SIMPLIFY_TOLERANCE_M)
    _check_no_crossings(file_name, centerline, left, right, arc)
    left_starts, left_ends = _closed_segments(left)
    right_starts, right_ends = _closed_segments(right)
    first_step = centerline[1] - centerline[0]
    return Track(
        name=printable(name).strip(),  # shown in terminals and windows: no escape codes
        description=printable(description).strip(),
        difficulty=difficulty,
        width_m=width,
        path=file_name,
        control_points=points,
        centerline=centerline,
        arc_m=arc,
        left_wall=left,
        right_wall=right,
        wall_starts=np.concatenate([left_starts, right_starts]),
        wall_ends=np.concatenate([left_ends, right_ends]),
        min_radius_m=min_radius,
        start_heading=float(math.atan2(first_step[1], first_step[0])),
    )


def _number_text(value: float) -> str:
    """A number as the shipped files write it: 12 not 12.0 for whole numbers, 9.5 otherwise."""
    return f"{value:g}" if float(value) != int(value) else str(int(value))


def _coordinate_text(value: float) -> str:
    rounded = round(float(value), TEXT_DECIMALS)
    return repr(0.0 if rounded == 0 else rounded)


def _yaml_line(key: str, value: str) -> str:
    """`key: value` with the value quoted only when YAML needs it."""
    return yaml.safe_dump({key: value}, allow_unicode=True, width=math.inf, sort_keys=False).rstrip("\n")


def track_text(data: dict[str, Any]) -> str:
    """Track data as a file in the shipped layout: name, description (if any), difficulty, width_m, centerline
    (one `[x, y]` per line, to 0.1 m) and start_index (if given)."""
    lines = [_yaml_line("name", data["name"])]
    if data.get("description"):
        lines.append(_yaml_line("description", data["description"]))
    lines.append(f"difficulty: {data['difficulty']}")
    lines.append(f"width_m: {_number_text(data['width_m'])}")
    lines.append("centerline:")
    lines += [f"  - [{_coordinate_text(x)}, {_coordinate_text(y)}]" for x, y in data["centerline"]]
    if "start_index" in data:
        lines.append(f"start_index: {data['start_index']}")
    return "\n".join(lines) + "\n"


def load_track(
    path: str | Path,
    min_turn_radius_m: float | None = None,
    collision_radius_m: float = 0.0,
    car_width_m: float = 0.0,
) -> Track:
    """Load and validate a track file; every problem is a `NeuroCarError` naming the file and the field.

    Give the car's physics values so the checks that the car fits on the road and can take its curves run.
    """
    track_path = Path(path)
    file_name = display_path(track_path)
    try:
        data, text = read_yaml_file(
            track_path,
            file_name,
            "track file",
            MAX_TRACK_FILE_BYTES,
            missing="track file not found (see `neurocar tracks` for the shipped ones)",
            folder="is a folder, not a track file",
        )
    except TrackError:
        raise
    except NeuroCarError as error:
        raise TrackError(str(error)) from None
    return dataclasses.replace(
        track_from_data(data, file_name, min_turn_radius_m, collision_radius_m, car_width_m), source_text=text
    )
