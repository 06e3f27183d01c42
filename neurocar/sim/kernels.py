"""The compiled simulation step: every car on every track moved, collision-checked, projected and sensed in one call.

One loop over the cars does, per car, what the array formulation does per batch: advance along the exact arc,
find the first time the swept disc touches a wall (candidates from the track's collision grid), back off the
contact point, project onto the nearby centre-line segments for progress and laps, apply the stopping rules and
cast the sensor rays (candidates from the track's sensor grid). All arithmetic is float64 and follows the same
formulas as `neurocar.geometry`, so results agree with it to rounding. The car state arrives as the world's three
blocks; everything else (tracks, ray angles, the step's constants, scratch rows) arrives in the world's two packed
buffers (see `neurocar.sim.packed`), read by flat index: a call costs time for every array it is passed, and
views made inside a call cost time too.

The functions are compiled by numba the first time they are called, and the machine code is cached on disk
(next to this file, or in numba's user cache folder when that is read-only, or in `NUMBA_CACHE_DIR`), so later
runs load it instead of compiling. Only `neurocar.sim.world` imports this module, and only when a world first
steps or senses, so commands that never simulate do not load numba.
"""

from __future__ import annotations

import math
import os

import numba
from numba import njit, prange
from numba.core import cgutils, types
from numba.extending import intrinsic

from neurocar.sim.packed import (
    CAR_BEST_PROGRESS,
    CAR_CRASHED,
    CAR_DRIVING,
    CAR_EPISODE_START,
    CAR_FINISHED,
    CAR_HEADING,
    CAR_LAP_START,
    CAR_LAPS,
    CAR_LAST_IMPROVEMENT,
    CAR_PROGRESS,
    CAR_SEGMENT,
    CAR_STALLED,
    CAR_TIME,
    CAR_TRACK,
    CAR_X,
    CAR_Y,
    CENTRE,
    CENTRE_ARC,
    CENTRE_COLUMNS,
    CENTRE_EDGE_X,
    CENTRE_EDGE_Y,
    CENTRE_INVERSE_SQUARED,
    CENTRE_LENGTH,
    CENTRE_X,
    CENTRE_Y,
    GRID_CELL_SIZE,
    GRID_COLUMNS,
    GRID_FLOAT_COLUMNS,
    GRID_FLOATS,
    GRID_INTEGER_COLUMNS,
    GRID_INTEGERS,
    GRID_OFFSETS,
    GRID_OFFSETS_START,
    GRID_ORIGIN_X,
    GRID_ORIGIN_Y,
    GRID_ROWS,
    GRID_WALLS,
    GRID_WALLS_START,
    LAP_RECORD_CAR,
    LAP_RECORD_COLUMNS,
    LAP_RECORD_LAP,
    LAP_RECORD_LAP_TIME,
    LAP_RECORD_OWN_TIME,
    LAP_RECORDS,
    LAP_TIME_COLUMNS,
    LAP_TIMES,
    NEXT_CHUNK,
    OUTCOMES,
    PARAMETER_DT,
    PARAMETER_RADIUS,
    PARAMETER_RANGE,
    PARAMETER_SPEED,
    PARAMETER_STALL,
    PARAMETER_TURN_RATE,
    PARAMETERS,
    RAY_ANGLES,
    TRACK_CENTRE_COUNT,
    TRACK_CENTRE_START,
    TRACK_COLLISION_GRID,
    TRACK_FLOAT_COLUMNS,
    TRACK_FLOATS,
    TRACK_INTEGER_COLUMNS,
    TRACK_INTEGERS,
    TRACK_LENGTH,
    TRACK_MAX_SECONDS,
    TRACK_SEARCH,
    TRACK_SENSOR_GRID,
    TRACK_WALL_COUNT,
    TRACK_WALL_START,
    WALL_COLUMNS,
    WALL_EDGE_X,
    WALL_EDGE_Y,
    WALL_START_X,
    WALL_START_Y,
    WALLS,
)

# Big worlds step their cars on every core. Each car touches only its own rows, so the result is the same whatever
# the threads and their number. The thread pool must survive a fork (a Gymnasium vector environment forks its
# workers), so numba picks a fork-safe threading layer unless the user chose one.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "forksafe"

# The same constants as the array code (`neurocar.geometry`, `neurocar.sim.world`).
JOINT_TOLERANCE = 1e-9
PARALLEL_EPSILON = 1e-12
CONTACT_BACKOFF = 1e-6
TWO_PI = 2.0 * math.pi
BAD_ACTION = -1
# The parallel step hands out the cars in chunks of this many (about 30 us of work each).
CARS_PER_CHUNK = 32


@njit(cache=True)
def wrap_angle(angle: float) -> float:
    """An angle in [-pi, pi) [rad], as `np.mod(angle + pi, 2 pi) - pi` (a float `%` is numpy's `mod`)."""
    return (angle + math.pi) % TWO_PI - math.pi


@njit(cache=True)
def grid_cell(floats, integers, grid: int, x: float, y: float) -> int:
    """Cell key of a point in one grid (column * rows + row), -1 outside it (as `CellGrid.cells`)."""
    grid_float = integers[2 * GRID_FLOATS] + GRID_FLOAT_COLUMNS * grid
    grid_integer = integers[2 * GRID_INTEGERS] + GRID_INTEGER_COLUMNS * grid
    inverse_cell = 1.0 / floats[grid_float + GRID_CELL_SIZE]
    column = math.floor((x - floats[grid_float + GRID_ORIGIN_X]) * inverse_cell)
    row = math.floor((y - floats[grid_float + GRID_ORIGIN_Y]) * inverse_cell)
    rows = integers[grid_integer + GRID_ROWS]
    if column >= 0 and column < integers[grid_integer + GRID_COLUMNS] and row >= 0 and row < rows:
        return int(column) * rows + int(row)
    return -1


@njit(cache=True)
def point_segment_distance(px: float, py: float, ax: float, ay: float, ex: float, ey: float) -> float:
    """Distance from a point to the segment from (ax, ay) along (ex, ey) (as `point_segment_distances`)."""
    offset_x = px - ax
    offset_y = py - ay
    length_squared = ex * ex + ey * ey
    fraction = (offset_x * ex + offset_y * ey) / (length_squared if length_squared > 0 else 1.0)
    fraction = min(max(fraction, 0.0), 1.0)
    return math.hypot(offset_x - fraction * ex, offset_y - fraction * ey)


@njit(cache=True)
def swept_disc_impact(
    cx: float, cy: float, mx: float, my: float, radius: float, ax: float, ay: float, ex: float, ey: float
) -> float:
    """First fraction in [0, 1] of a straight move at which a disc touches a segment, `inf` if it never does
    (as `swept_disc_time_of_impact`)."""
    if point_segment_distance(cx, cy, ax, ay, ex, ey) <= radius:
        return 0.0
    length = math.hypot(ex, ey)
    safe_length = length if length > 0 else 1.0
    tangent_x = ex / safe_length
    tangent_y = ey / safe_length
    normal_x = -tangent_y
    normal_y = tangent_x
    relative_x = cx - ax
    relative_y = cy - ay
    side_distance = relative_x * normal_x + relative_y * normal_y
    normal_speed = mx * normal_x + my * normal_y
    best = math.inf
    side = 1.0 if side_distance >= 0 else -1.0
    if side * normal_speed < 0:
        fraction = (side * radius - side_distance) / normal_speed
        along = (relative_x + fraction * mx) * tangent_x + (relative_y + fraction * my) * tangent_y
        if 0 <= fraction <= 1 and 0 <= along <= length:
            best = fraction
    motion_squared = mx * mx + my * my
    if motion_squared > 0:
        for corner in range(2):
            offset_x = relative_x - (ex if corner else 0.0)
            offset_y = relative_y - (ey if corner else 0.0)
            half_b = offset_x * mx + offset_y * my
            c = offset_x * offset_x + offset_y * offset_y - radius * radius
            discriminant = half_b * half_b - motion_squared * c
            if discriminant >= 0:
                root = (-half_b - math.sqrt(discriminant)) / motion_squared
                if 0 <= root <= 1:
                    best = min(best, root)
    return best


@njit(cache=True)
def time_of_impact(floats, integers, track, x, y, mx, my, radius) -> float:
    """First fraction of a car's move at which it touches a wall of its track, `inf` if it does not."""
    track_row = integers[2 * TRACK_INTEGERS] + TRACK_INTEGER_COLUMNS * track
    grid = integers[track_row + TRACK_COLLISION_GRID]
    cell = grid_cell(floats, integers, grid, x, y)
    if cell >= 0:
        grid_row = integers[2 * GRID_INTEGERS] + GRID_INTEGER_COLUMNS * grid
        key = integers[2 * GRID_OFFSETS] + integers[grid_row + GRID_OFFSETS_START] + cell
        first = integers[key]
        last = integers[key + 1]
        walls_start = integers[2 * GRID_WALLS] + integers[grid_row + GRID_WALLS_START]
    else:  # outside the grid: every wall of the track
        first = 0
        last = integers[track_row + TRACK_WALL_COUNT]
        walls_start = -1
    wall_start = integers[track_row + TRACK_WALL_START]
    walls = integers[2 * WALLS]
    middle_x = x + 0.5 * mx
    middle_y = y + 0.5 * my
    reach = radius + 0.5 * math.hypot(mx, my) + 1e-9
    best = math.inf
    for position in range(first, last):
        wall = integers[walls_start + position] if walls_start >= 0 else wall_start + position
        wall_row = walls + WALL_COLUMNS * wall
        ax = floats[wall_row + WALL_START_X]
        ay = floats[wall_row + WALL_START_Y]
        ex = floats[wall_row + WALL_EDGE_X]
        ey = floats[wall_row + WALL_EDGE_Y]
        # Cheap filter first: only walls within reach of the middle of the move can be touched during it.
        if point_segment_distance(middle_x, middle_y, ax, ay, ex, ey) <= reach:
            best = min(best, swept_disc_impact(x, y, mx, my, radius, ax, ay, ex, ey))
    return best


@njit(cache=True, inline="always")
def ray_hit(floats, wall_row, x, y, ray_x, ray_y, best):
    """The nearer of `best` and the distance along a ray to the wall whose row starts at `wall_row` (as
    `SegmentGrid.cast`, with the sign of the denominator folded in so one division is needed)."""
    ex = floats[wall_row + WALL_EDGE_X]
    ey = floats[wall_row + WALL_EDGE_Y]
    offset_x = floats[wall_row + WALL_START_X] - x
    offset_y = floats[wall_row + WALL_START_Y] - y
    denominator = ray_x * ey - ray_y * ex
    along_ray = offset_x * ey - offset_y * ex
    along_segment = offset_x * ray_y - offset_y * ray_x
    if denominator < 0:
        denominator = -denominator
        along_ray = -along_ray
        along_segment = -along_segment
    tolerance = JOINT_TOLERANCE * denominator
    if (
        denominator >= PARALLEL_EPSILON
        and along_ray >= 0.0
        and along_segment >= -tolerance
        and along_segment <= denominator + tolerance
    ):
        return min(best, along_ray / denominator)
    return best


@njit(cache=True)
def cast_ray(floats, integers, track, x, y, angle, range_m):
    """Distance along a ray to the nearest wall of a track; `inf` or a distance beyond `range_m` if no wall is
    within range (from outside the grid, every wall as `cast_rays_brute_force`).

    The ray walks the cells it crosses in order of distance (a 2D digital differential analyser), testing each
    cell's walls, and stops once its nearest hit so far lies within the cell it is in: every wall in a later cell
    is further along the ray.
    """
    ray_x = math.cos(angle)
    ray_y = math.sin(angle)
    track_row = integers[2 * TRACK_INTEGERS] + TRACK_INTEGER_COLUMNS * track
    grid = integers[track_row + TRACK_SENSOR_GRID]
    cell = grid_cell(floats, integers, grid, x, y)
    walls = integers[2 * WALLS]
    best = math.inf
    if cell < 0:
        wall_start = integers[track_row + TRACK_WALL_START]
        for wall in range(wall_start, wall_start + integers[track_row + TRACK_WALL_COUNT]):
            wall_row = walls + WALL_COLUMNS * wall
            ex = floats[wall_row + WALL_EDGE_X]
            ey = floats[wall_row + WALL_EDGE_Y]
            offset_x = floats[wall_row + WALL_START_X] - x
            offset_y = floats[wall_row + WALL_START_Y] - y
            denominator = ray_x * ey - ray_y * ex
            if abs(denominator) < PARALLEL_EPSILON:
                continue
            along_ray = (offset_x * ey - offset_y * ex) / denominator
            along_segment = (offset_x * ray_y - offset_y * ray_x) / denominator
            if along_ray >= 0.0 and -JOINT_TOLERANCE <= along_segment <= 1.0 + JOINT_TOLERANCE:
                best = min(best, along_ray)
        return best
    grid_integer = integers[2 * GRID_INTEGERS] + GRID_INTEGER_COLUMNS * grid
    grid_float = integers[2 * GRID_FLOATS] + GRID_FLOAT_COLUMNS * grid
    rows = integers[grid_integer + GRID_ROWS]
    columns = integers[grid_integer + GRID_COLUMNS]
    cell_size = floats[grid_float + GRID_CELL_SIZE]
    column = cell // rows
    row = cell - column * rows
    # Distance along the ray to the next column (row) boundary, and between two of them.
    inside_x = (x - floats[grid_float + GRID_ORIGIN_X]) - column * cell_size
    inside_y = (y - floats[grid_float + GRID_ORIGIN_Y]) - row * cell_size
    if ray_x > 0.0:
        column_step, next_column, column_spacing = 1, (cell_size - inside_x) / ray_x, cell_size / ray_x
    elif ray_x < 0.0:
        column_step, next_column, column_spacing = -1, -inside_x / ray_x, -cell_size / ray_x
    else:
        column_step, next_column, column_spacing = 0, math.inf, math.inf
    if ray_y > 0.0:
        row_step, next_row, row_spacing = 1, (cell_size - inside_y) / ray_y, cell_size / ray_y
    elif ray_y < 0.0:
        row_step, next_row, row_spacing = -1, -inside_y / ray_y, -cell_size / ray_y
    else:
        row_step, next_row, row_spacing = 0, math.inf, math.inf
    offsets_start = integers[2 * GRID_OFFSETS] + integers[grid_integer + GRID_OFFSETS_START]
    walls_start = integers[2 * GRID_WALLS] + integers[grid_integer + GRID_WALLS_START]
    while True:
        key = offsets_start + column * rows + row
        for position in range(integers[key], integers[key + 1]):
            best = ray_hit(floats, walls + WALL_COLUMNS * integers[walls_start + position], x, y, ray_x, ray_y, best)
        leave = min(next_column, next_row)
        if best <= leave or leave > range_m:
            return best
        if next_column < next_row:
            column += column_step
            next_column += column_spacing
            if column < 0 or column >= columns:
                return best
        else:
            row += row_step
            next_row += row_spacing
            if row < 0 or row >= rows:
                return best


@njit(cache=True)
def sense_car(car, floats, integers, car_floats, car_integers, observations) -> None:
    """One car's sensor readings: distance / range along each ray, clipped to [0, 1]."""
    track = car_integers[car, CAR_TRACK]
    x = car_floats[car, CAR_X]
    y = car_floats[car, CAR_Y]
    heading = car_floats[car, CAR_HEADING]
    range_m = floats[integers[2 * PARAMETERS] + PARAMETER_RANGE]
    inverse_range = 1.0 / range_m
    first_angle = integers[2 * RAY_ANGLES]
    for ray in range(integers[2 * RAY_ANGLES + 1] - first_angle):
        distance = cast_ray(floats, integers, track, x, y, heading + floats[first_angle + ray], range_m)
        observations[car, ray] = min(distance * inverse_range, 1.0)


@njit(cache=True)
def observe_cars(floats, integers, car_floats, car_integers, observations, cars) -> None:
    """Fill the observation rows of some cars (after they were placed). The tracks and the ray angles arrive
    packed in `floats` and `integers` (see `neurocar.sim.packed`)."""
    for index in range(len(cars)):
        sense_car(cars[index], floats, integers, car_floats, car_integers, observations)


@njit(cache=True)
def update_progress(car, floats, integers, car_floats, car_integers, x, y) -> float:
    """Project a car onto the centre-line segments near its last one; returns its new net progress [m] and
    updates its segment."""
    track = car_integers[car, CAR_TRACK]
    track_row = integers[2 * TRACK_INTEGERS] + TRACK_INTEGER_COLUMNS * track
    centre = integers[2 * CENTRE] + CENTRE_COLUMNS * integers[track_row + TRACK_CENTRE_START]
    count = integers[track_row + TRACK_CENTRE_COUNT]
    search = integers[track_row + TRACK_SEARCH]
    segment = car_integers[car, CAR_SEGMENT]
    best_distance = math.inf
    best_segment = 0
    best_fraction = 0.0
    for step in range(-search, search + 1):
        candidate = (segment + step) % count
        row = centre + CENTRE_COLUMNS * candidate
        edge_x = floats[row + CENTRE_EDGE_X]
        edge_y = floats[row + CENTRE_EDGE_Y]
        offset_x = x - floats[row + CENTRE_X]
        offset_y = y - floats[row + CENTRE_Y]
        fraction = (offset_x * edge_x + offset_y * edge_y) * floats[row + CENTRE_INVERSE_SQUARED]
        fraction = min(max(fraction, 0.0), 1.0)
        offset_x -= fraction * edge_x
        offset_y -= fraction * edge_y
        distance = offset_x * offset_x + offset_y * offset_y
        if distance < best_distance:  # the first of equals, as argmin
            best_distance = distance
            best_segment = candidate
            best_fraction = fraction
    row = centre + CENTRE_COLUMNS * best_segment
    arc = floats[row + CENTRE_ARC] + best_fraction * floats[row + CENTRE_LENGTH]
    length = floats[integers[2 * TRACK_FLOATS] + TRACK_FLOAT_COLUMNS * track + TRACK_LENGTH]
    old_progress = car_floats[car, CAR_PROGRESS]
    previous_arc = old_progress % length
    delta = (arc - previous_arc + length / 2) % length - length / 2
    car_integers[car, CAR_SEGMENT] = best_segment
    return old_progress + delta


@njit(cache=True)
def step_car_range(
    first, last, floats, integers, car_floats, car_integers, car_flags, observations, actions, time_s, target_laps
) -> None:
    """Advance the driving cars among `first` .. `last` - 1 by one step to world time `time_s`.

    Every car of the range gets its outcome (bit 0 still driving, bit 1 completed a lap) and, if it lapped, its own
    time at the line and the lap's time [s] in its lap-times row. A car touches only its own rows, so ranges can
    step on several threads at once. This is the one body of the step: `step_cars` runs it over every car,
    `step_cars_in_parallel` over chunks of them on every thread (the loop is written out here because a call per
    car costs a fifth more time).
    """
    parameters = integers[2 * PARAMETERS]
    dt = floats[parameters + PARAMETER_DT]
    speed = floats[parameters + PARAMETER_SPEED]
    turn_rate_rad = floats[parameters + PARAMETER_TURN_RATE]
    radius = floats[parameters + PARAMETER_RADIUS]
    stall_seconds = floats[parameters + PARAMETER_STALL]
    outcomes = integers[2 * OUTCOMES]
    lap_times = integers[2 * LAP_TIMES]
    track_floats = integers[2 * TRACK_FLOATS]
    for car in range(first, last):
        if not car_flags[car, CAR_DRIVING]:
            integers[outcomes + car] = 0
            continue
        track = car_integers[car, CAR_TRACK]
        track_row = track_floats + TRACK_FLOAT_COLUMNS * track
        x = car_floats[car, CAR_X]
        y = car_floats[car, CAR_Y]
        heading = car_floats[car, CAR_HEADING]
        # The exact arc of a kinematic car at constant speed and turn rate (as `neurocar.sim.car.advance`).
        turn_rate = (1.0 - actions[car]) * turn_rate_rad
        turned = heading + turn_rate * dt
        if turn_rate != 0.0:
            move_x = speed / turn_rate * (math.sin(turned) - math.sin(heading))
            move_y = -speed / turn_rate * (math.cos(turned) - math.cos(heading))
        else:
            move_x = speed * dt * math.cos(heading)
            move_y = speed * dt * math.sin(heading)
        new_x = x + move_x
        new_y = y + move_y
        new_heading = wrap_angle(turned)

        impact = time_of_impact(floats, integers, track, x, y, new_x - x, new_y - y, radius)
        hit = impact <= 1.0
        if hit:
            fraction = max(impact - CONTACT_BACKOFF, 0.0)
            new_x = x + fraction * (new_x - x)
            new_y = y + fraction * (new_y - y)
            new_heading = heading + fraction * wrap_angle(new_heading - heading)
        car_floats[car, CAR_X] = new_x
        car_floats[car, CAR_Y] = new_y
        car_floats[car, CAR_HEADING] = new_heading
        own_time = time_s - car_floats[car, CAR_EPISODE_START]
        car_floats[car, CAR_TIME] = own_time

        old_progress = car_floats[car, CAR_PROGRESS]
        progress = update_progress(car, floats, integers, car_floats, car_integers, new_x, new_y)
        car_floats[car, CAR_PROGRESS] = progress
        next_lap = (car_integers[car, CAR_LAPS] + 1) * floats[track_row + TRACK_LENGTH]
        lapped = progress >= next_lap
        if lapped:
            # The crossing time is interpolated within the step.
            crossing = time_s - dt * (1.0 - (next_lap - old_progress) / (progress - old_progress))
            lap_row = lap_times + LAP_TIME_COLUMNS * car
            floats[lap_row] = crossing - car_floats[car, CAR_EPISODE_START]
            floats[lap_row + 1] = crossing - car_floats[car, CAR_LAP_START]
            car_integers[car, CAR_LAPS] += 1
            car_floats[car, CAR_LAP_START] = crossing

        if hit:
            car_flags[car, CAR_CRASHED] = True
        if progress > car_floats[car, CAR_BEST_PROGRESS] + 1e-9:
            car_floats[car, CAR_LAST_IMPROVEMENT] = time_s
        car_floats[car, CAR_BEST_PROGRESS] = max(car_floats[car, CAR_BEST_PROGRESS], progress)
        stalled = (time_s - car_floats[car, CAR_LAST_IMPROVEMENT]) >= stall_seconds - 1e-9
        if stalled and not hit:
            car_flags[car, CAR_STALLED] = True
        still = not hit and not stalled
        if still and target_laps > 0 and car_integers[car, CAR_LAPS] >= target_laps:
            car_flags[car, CAR_FINISHED] = True
            still = False
        if own_time >= floats[track_row + TRACK_MAX_SECONDS] - 1e-9:
            still = False
        car_flags[car, CAR_DRIVING] = still
        integers[outcomes + car] = still + 2 * lapped

        sense_car(car, floats, integers, car_floats, car_integers, observations)


@njit(cache=True, inline="always")
def actions_valid(car_flags, actions) -> bool:
    """True if every driving car's action is 0, 1 or 2."""
    for car in range(car_flags.shape[0]):
        if car_flags[car, CAR_DRIVING] and (actions[car] < 0 or actions[car] > 2):
            return False
    return True


@njit(cache=True, inline="always")
def record_outcomes(floats, integers, car_integers):
    """Count the cars still driving and write the step's laps to the lap-records section in car order (car, lap,
    the car's own time at the line, the lap time [s]); returns (cars still driving, laps completed)."""
    outcomes = integers[2 * OUTCOMES]
    lap_times = integers[2 * LAP_TIMES]
    lap_records = integers[2 * LAP_RECORDS]
    driving_count = 0
    laps_recorded = 0
    for car in range(car_integers.shape[0]):
        outcome = integers[outcomes + car]
        driving_count += outcome & 1
        if outcome & 2:
            record = lap_records + LAP_RECORD_COLUMNS * laps_recorded
            floats[record + LAP_RECORD_CAR] = car
            floats[record + LAP_RECORD_LAP] = car_integers[car, CAR_LAPS]
            floats[record + LAP_RECORD_OWN_TIME] = floats[lap_times + LAP_TIME_COLUMNS * car]
            floats[record + LAP_RECORD_LAP_TIME] = floats[lap_times + LAP_TIME_COLUMNS * car + 1]
            laps_recorded += 1
    return driving_count, laps_recorded


@njit(cache=True)
def step_cars(floats, integers, car_floats, car_integers, car_flags, observations, actions, time_s, target_laps):
    """Advance every driving car by one step of `dt` to world time `time_s`; returns (cars still driving, laps
    completed), or (`BAD_ACTION`, 0) without changing anything if a driving car's action is not 0, 1 or 2.

    The tracks, ray angles, step constants and scratch rows arrive packed in `floats` and `integers` (see
    `neurocar.sim.packed`). Each completed lap is written to a row of the lap-records section, in car order: car,
    lap, the car's own time at the line and the lap time [s]. `target_laps` <= 0 means no target.
    """
    if not actions_valid(car_flags, actions):
        return BAD_ACTION, 0
    step_car_range(
        0,
        car_flags.shape[0],
        floats,
        integers,
        car_floats,
        car_integers,
        car_flags,
        observations,
        actions,
        time_s,
        target_laps,
    )
    return record_outcomes(floats, integers, car_integers)


@intrinsic
def take_next(typingctx, counter):
    """Add one to `counter[0]` (an int64 array) atomically; returns its value before. Threads that share out work
    with it each get a different number."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, arguments):
        counter_type = signature.args[0]
        array = context.make_array(counter_type)(context, builder, arguments[0])
        first = cgutils.get_item_pointer(context, builder, counter_type, array, [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", first, context.get_constant(types.int64, 1), "seq_cst")

    return types.int64(counter), codegen


@njit(cache=True, parallel=True)
def step_cars_in_parallel(
    floats, integers, car_floats, car_integers, car_flags, observations, actions, time_s, target_laps
):
    """`step_cars` with the cars shared out over the threads; the same results, the same order of lap records.

    The cars are cut into chunks of `CARS_PER_CHUNK` and every thread takes the next chunk nobody has taken until
    none is left, so a core slowed by other work simply steps fewer chunks. Every car writes only its own rows and
    the laps are recorded in car order afterwards, so neither the number of threads nor who stepped which chunk
    changes a result.
    """
    if not actions_valid(car_flags, actions):
        return BAD_ACTION, 0
    count = car_flags.shape[0]
    chunks = (count + CARS_PER_CHUNK - 1) // CARS_PER_CHUNK
    next_chunk = integers[integers[2 * NEXT_CHUNK] : integers[2 * NEXT_CHUNK + 1]]
    next_chunk[0] = 0
    # One taker per chunk: the loop hands each thread an equal share of takers, and a thread's first taker already
    # steps chunks until none is left, so the later ones find nothing to do.
    for _taker in prange(chunks):
        chunk = take_next(next_chunk)
        while chunk < chunks:
            step_car_range(
                chunk * CARS_PER_CHUNK,
                min(count, (chunk + 1) * CARS_PER_CHUNK),
                floats,
                integers,
                car_floats,
                car_integers,
                car_flags,
                observations,
                actions,
                time_s,
                target_laps,
            )
            chunk = take_next(next_chunk)
    return record_outcomes(floats, integers, car_integers)
