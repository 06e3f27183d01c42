"""The test oracle: the world written with numpy arrays only (no compiled code), step for step what
`neurocar.sim.world.World` computes. Tests compare the two on random states.

The world: cars on one or more tracks, all stepped at once with arrays.

`World.reset(seed)` puts every car on its track's start line and returns the first observations;
`World.step(actions)` moves every car still driving by one fixed `dt` and returns the new observations. The world
knows nothing about who chooses the actions (a network, a person, a script).

Cars are laid out track-major: with T tracks and a population of P, there are N = T * P cars and car k drives
`tracks[k // P]`. Each car has its own episode clock, started by `reset` (all cars) or `reset_cars` (some cars), so
the time limit, the stall timer and `time_s` are measured from that car's own start.

| per-car array (N,)  | meaning                                                            |
|---------------------|--------------------------------------------------------------------|
| positions (N, 2)    | centre of the car [m]                                              |
| headings            | direction of travel [rad], anticlockwise from +x                   |
| driving             | still moving: not crashed, not stalled, not finished, not out of time |
| crashed             | touched a wall (the car stops where it touched)                    |
| stalled             | stopped for making no new progress for `stall_seconds`             |
| finished            | stopped after completing the world's `target_laps`                 |
| progress_m          | net arc length along its track's centre line since the start, laps counted |
| laps                | completed laps (progress crossed k * lap length for the first time)|
| time_s              | seconds the car has driven in its current episode                  |

Observations are (N, R) sensor readings in [0, 1] (see `neurocar.sim.sensors`); actions are (N,) integers,
0 left, 1 straight, 2 right (see `neurocar.sim.car`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neurocar.config import EpisodeConfig, PhysicsConfig, SensorConfig
from neurocar.geometry import SegmentGrid, point_segment_distances, swept_disc_time_of_impact
from neurocar.sim.car import advance
from neurocar.sim.sensors import SENSOR_REGION_SLACK_M, observe, sensor_grid
from neurocar.sim.track import Track

# A crashed car is left this fraction of a step short of the contact point, so it never starts inside a wall.
_CONTACT_BACKOFF = 1e-6


@dataclass
class LapEvent:
    """A car completed a lap: which car, which lap (1 = first), when [s, on the car's own clock] and how long it
    took [s]."""

    car: int
    lap: int
    time_s: float
    lap_time_s: float


@dataclass
class CarState:
    """Every car's state as arrays (see the module docstring). Times ending in `_s` other than `time_s` are on the
    world's clock (`World.time_s`)."""

    positions: np.ndarray
    headings: np.ndarray
    driving: np.ndarray
    crashed: np.ndarray
    stalled: np.ndarray
    finished: np.ndarray
    progress_m: np.ndarray
    best_progress_m: np.ndarray
    laps: np.ndarray
    time_s: np.ndarray
    segment: np.ndarray
    episode_start_s: np.ndarray
    last_improvement_s: np.ndarray
    lap_start_s: np.ndarray
    lap_events: list[LapEvent] = field(default_factory=list)


class TrackGeometry:
    """What stepping needs of one track: the sensor and collision grids and the centre line as flat arrays."""

    def __init__(self, track: Track, physics: PhysicsConfig, sensors: SensorConfig) -> None:
        self.track = track
        self.sensor_grid = sensor_grid(track, sensors)
        self.max_move_m = physics.cruise_speed_mps * physics.dt_s
        self.collision_grid = SegmentGrid(
            track.wall_starts,
            track.wall_ends,
            physics.collision_radius_m + self.max_move_m,
            track.centerline,
            track.width_m / 2 + SENSOR_REGION_SLACK_M,
            direction_bins=1,
        )
        edges = np.roll(track.centerline, -1, axis=0) - track.centerline
        self.segment_x = np.ascontiguousarray(track.centerline[:, 0])
        self.segment_y = np.ascontiguousarray(track.centerline[:, 1])
        self.edge_x = np.ascontiguousarray(edges[:, 0])
        self.edge_y = np.ascontiguousarray(edges[:, 1])
        self.segment_length = np.diff(track.arc_m)
        self.inverse_length_squared = 1.0 / np.maximum(self.segment_length, 1e-12) ** 2
        # A car moves at most `max_move_m` per step: searching this many segments either way cannot lose it.
        self.search_segments = math.ceil(self.max_move_m / max(1e-9, float(np.min(self.segment_length)))) + 2
        self.window = np.arange(-self.search_segments, self.search_segments + 1)

    def segment_at(self, progress_m: np.ndarray) -> np.ndarray:
        """Index of the centre-line segment at each net progress (any lap)."""
        arc = np.mod(progress_m, self.track.length_m)
        return np.clip(
            np.searchsorted(self.track.arc_m, arc, side="right") - 1, 0, len(self.track.centerline) - 1
        ).astype(np.int64)


def _per_track(values: float | Sequence[float] | None, default: float, count: int, name: str) -> np.ndarray:
    """One float per track from a scalar, a sequence of them or nothing (the default)."""
    if values is None:
        return np.full(count, float(default))
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 1:
        return np.full(count, float(array[0]))
    if array.size != count:
        raise ValueError(f"{name}: expected one value or {count} (one per track), got {array.size}")
    return array


class ReferenceWorld:
    """Cars on one or more tracks, stepped together (see the module docstring for the layout)."""

    def __init__(
        self,
        tracks: Track | Sequence[Track],
        physics: PhysicsConfig,
        sensors: SensorConfig,
        episode: EpisodeConfig,
        population: int,
        max_seconds: float | Sequence[float] | None = None,
        target_laps: int | None = None,
    ) -> None:
        if population < 1:
            raise ValueError("population must be at least 1")
        self.tracks: list[Track] = [tracks] if isinstance(tracks, Track) else list(tracks)
        if not self.tracks:
            raise ValueError("a world needs at least one track")
        if target_laps is not None and target_laps < 1:
            raise ValueError("target_laps must be at least 1")
        self.track = self.tracks[0]
        self.physics = physics
        self.sensors = sensors
        self.episode = episode
        self.population = population
        self.target_laps = target_laps
        self.car_count = len(self.tracks) * population
        self.track_index = np.repeat(np.arange(len(self.tracks), dtype=np.int64), population)
        self.track_length_m = np.array([track.length_m for track in self.tracks])[self.track_index]
        self.max_seconds_per_track = _per_track(max_seconds, episode.max_seconds, len(self.tracks), "max_seconds")
        self.max_seconds = self.max_seconds_per_track[self.track_index]
        self.geometries = [TrackGeometry(track, physics, sensors) for track in self.tracks]
        self.grid = self.geometries[0].sensor_grid
        self.collision_grid = self.geometries[0].collision_grid
        self.time_s = 0.0
        self.steps = 0
        self.state = self._initial_state()
        self.observations = np.ones((self.car_count, len(sensors.angles_deg)))

    def _cars_of(self, track_number: int) -> slice:
        """The contiguous range of car indices on one track."""
        return slice(track_number * self.population, (track_number + 1) * self.population)

    def _initial_state(self) -> CarState:
        count = self.car_count
        starts = np.array([track.start_position for track in self.tracks])
        headings = np.array([track.start_heading for track in self.tracks])
        return CarState(
            positions=starts[self.track_index].copy(),
            headings=headings[self.track_index].copy(),
            driving=np.ones(count, dtype=bool),
            crashed=np.zeros(count, dtype=bool),
            stalled=np.zeros(count, dtype=bool),
            finished=np.zeros(count, dtype=bool),
            progress_m=np.zeros(count),
            best_progress_m=np.zeros(count),
            laps=np.zeros(count, dtype=np.int64),
            time_s=np.zeros(count),
            segment=np.zeros(count, dtype=np.int64),
            episode_start_s=np.zeros(count),
            last_improvement_s=np.zeros(count),
            lap_start_s=np.zeros(count),
        )

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Every car back on its start line, driving, its clock at 0; returns the first observations (N, R).

        The start is deterministic; `seed` is accepted so every driver of the world resets it the same way (a
        random start is the caller's choice, through `reset_cars`).
        """
        del seed
        self.time_s = 0.0
        self.steps = 0
        self.state = self._initial_state()
        self.observations = self._observe(np.arange(self.car_count))
        return self.observations

    def _observe(self, cars: np.ndarray) -> np.ndarray:
        """Sensor readings (len(cars), R) of some cars, each against its own track."""
        state = self.state
        result = np.empty((len(cars), len(self.sensors.angles_deg)))
        tracks = self.track_index[cars]
        for number, geometry in enumerate(self.geometries):
            rows = np.nonzero(tracks == number)[0]
            if len(rows):
                chosen = cars[rows]
                grid = geometry.sensor_grid
                result[rows] = observe(grid, state.positions[chosen], state.headings[chosen], self.sensors)
        return result

    def _put_on_centre_line(self, cars: np.ndarray, progress: np.ndarray) -> None:
        """Pose and segment of some cars at a net progress along their own tracks."""
        state = self.state
        tracks = self.track_index[cars]
        for number, geometry in enumerate(self.geometries):
            rows = np.nonzero(tracks == number)[0]
            if len(rows):
                position, heading = geometry.track.pose_at(progress[rows])
                state.positions[cars[rows]] = position
                state.headings[cars[rows]] = heading
                state.segment[cars[rows]] = geometry.segment_at(progress[rows])

    def place(self, cars: np.ndarray, progress_m: np.ndarray | float) -> None:
        """Put some cars back on the centre line at a net progress (laps included) along their own tracks,
        driving again; their clocks and lap history carry on."""
        cars = np.asarray(cars, dtype=np.int64).reshape(-1)
        progress = np.asarray(progress_m, dtype=np.float64) * np.ones(len(cars))
        state = self.state
        self._put_on_centre_line(cars, progress)
        state.driving[cars] = True
        state.crashed[cars] = False
        state.stalled[cars] = False
        state.finished[cars] = False
        state.progress_m[cars] = progress
        state.best_progress_m[cars] = np.maximum(state.best_progress_m[cars], progress)
        laps = np.floor(progress / self.track_length_m[cars]).astype(np.int64)
        state.laps[cars] = np.maximum(state.laps[cars], laps)
        state.last_improvement_s[cars] = self.time_s
        self.observations[cars] = self._observe(cars)

    def reset_cars(self, cars: np.ndarray, progress_m: np.ndarray | float = 0.0) -> np.ndarray:
        """Start a fresh episode for some cars, on the centre line at `progress_m` along their own tracks: no laps
        (beyond whole laps in `progress_m`), driving, their lap events dropped and their clocks starting now.
        Returns the observations of all cars (N, R)."""
        cars = np.asarray(cars, dtype=np.int64).reshape(-1)
        progress = np.asarray(progress_m, dtype=np.float64) * np.ones(len(cars))
        state = self.state
        self._put_on_centre_line(cars, progress)
        state.driving[cars] = True
        state.crashed[cars] = False
        state.stalled[cars] = False
        state.finished[cars] = False
        state.progress_m[cars] = progress
        state.best_progress_m[cars] = progress
        state.laps[cars] = np.floor(progress / self.track_length_m[cars]).astype(np.int64)
        state.time_s[cars] = 0.0
        state.episode_start_s[cars] = self.time_s
        state.last_improvement_s[cars] = self.time_s
        state.lap_start_s[cars] = self.time_s
        if state.lap_events:
            restarted = set(cars.tolist())
            state.lap_events = [event for event in state.lap_events if event.car not in restarted]
        self.observations[cars] = self._observe(cars)
        return self.observations

    def stop(self, cars: np.ndarray) -> None:
        """Stop some cars where they are, keeping their progress and laps (for example: their race is over)."""
        self.state.driving[np.asarray(cars)] = False

    @property
    def done(self) -> bool:
        """True when no car is driving any more."""
        return not bool(self.state.driving.any())

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Advance every driving car by one `dt` with its action (N,); returns observations (N, R)."""
        state = self.state
        active = np.nonzero(state.driving)[0]
        dt = self.physics.dt_s
        self.steps += 1
        self.time_s = self.steps * dt
        if len(active) == 0:
            return self.observations
        actions = np.asarray(actions)
        if actions.shape != (self.car_count,) or actions.dtype.kind not in "iu":
            raise ValueError(f"expected {self.car_count} integer actions, got shape {actions.shape} ({actions.dtype})")
        actions = actions[active]
        if actions.min() < 0 or actions.max() > 2:
            raise ValueError("actions must be 0 (left), 1 (straight) or 2 (right)")
        old_positions = state.positions[active]
        old_headings = state.headings[active]
        new_positions, new_headings = advance(old_positions, old_headings, actions, self.physics)

        impact = self._time_of_impact(active, old_positions, new_positions - old_positions)
        hit = impact <= 1.0
        if hit.any():
            fraction = np.maximum(impact[hit] - _CONTACT_BACKOFF, 0.0)
            new_positions[hit] = old_positions[hit] + fraction[:, None] * (new_positions[hit] - old_positions[hit])
            turn = np.mod(new_headings[hit] - old_headings[hit] + np.pi, 2 * np.pi) - np.pi
            new_headings[hit] = old_headings[hit] + fraction * turn
        state.positions[active] = new_positions
        state.headings[active] = new_headings
        own_time = self.time_s - state.episode_start_s[active]
        state.time_s[active] = own_time

        self._update_progress(active, new_positions, old_progress=state.progress_m[active].copy())

        crashed_now = active[hit]
        state.crashed[crashed_now] = True
        improved = state.progress_m[active] > state.best_progress_m[active] + 1e-9
        state.best_progress_m[active] = np.maximum(state.best_progress_m[active], state.progress_m[active])
        state.last_improvement_s[active[improved]] = self.time_s
        stalled = (self.time_s - state.last_improvement_s[active]) >= self.episode.stall_seconds - 1e-9
        state.stalled[active[stalled & ~hit]] = True
        still = ~hit & ~stalled
        if self.target_laps is not None:
            finished = still & (state.laps[active] >= self.target_laps)
            state.finished[active[finished]] = True
            still &= ~finished
        still &= own_time < self.max_seconds[active] - 1e-9
        state.driving[active] = still

        self.observations[active] = self._observe(active)
        return self.observations

    def _time_of_impact(self, active: np.ndarray, positions: np.ndarray, motions: np.ndarray) -> np.ndarray:
        """First fraction of each car's move at which it touches a wall of its track, `inf` if it does not."""
        result = np.full(len(active), np.inf)
        tracks = self.track_index[active]
        for number, geometry in enumerate(self.geometries):
            rows = np.nonzero(tracks == number)[0]
            if len(rows):
                result[rows] = self._time_of_impact_on(geometry, positions[rows], motions[rows])
        return result

    def _time_of_impact_on(self, geometry: TrackGeometry, positions: np.ndarray, motions: np.ndarray) -> np.ndarray:
        """Swept-disc time of impact of cars against one track's walls."""
        radius = self.physics.collision_radius_m
        car, wall = geometry.collision_grid.candidates_near(positions)
        result = np.full(len(positions), np.inf)
        if len(car) == 0:
            return result
        track = geometry.track
        starts, ends = track.wall_starts[wall], track.wall_ends[wall]
        # Cheap filter first: only walls within reach of the middle of the move can be touched during it.
        middle = positions[car] + 0.5 * motions[car]
        reach = radius + 0.5 * np.hypot(motions[car, 0], motions[car, 1]) + 1e-9
        close = point_segment_distances(middle, starts, ends) <= reach
        if not close.any():
            return result
        car, starts, ends = car[close], starts[close], ends[close]
        impact = swept_disc_time_of_impact(positions[car], motions[car], radius, starts, ends)
        np.minimum.at(result, car, impact)
        return result

    def _update_progress(self, active: np.ndarray, positions: np.ndarray, old_progress: np.ndarray) -> None:
        """Project cars onto nearby centre-line segments of their tracks and accumulate net arc length, counting
        laps."""
        state = self.state
        tracks = self.track_index[active]
        progress = np.empty(len(active))
        for number, geometry in enumerate(self.geometries):
            rows = np.nonzero(tracks == number)[0]
            if len(rows) == 0:
                continue
            cars = active[rows]
            candidates = state.segment[cars, None] + geometry.window[None, :]
            candidates %= len(geometry.track.centerline)
            offset_x = positions[rows, 0, None] - geometry.segment_x.take(candidates)
            offset_y = positions[rows, 1, None] - geometry.segment_y.take(candidates)
            edge_x = geometry.edge_x.take(candidates)
            edge_y = geometry.edge_y.take(candidates)
            fraction = (offset_x * edge_x + offset_y * edge_y) * geometry.inverse_length_squared.take(candidates)
            np.clip(fraction, 0.0, 1.0, out=fraction)
            offset_x -= fraction * edge_x
            offset_y -= fraction * edge_y
            best = np.argmin(offset_x * offset_x + offset_y * offset_y, axis=1)
            picks = np.arange(len(rows))
            segment = candidates[picks, best]
            arc = geometry.track.arc_m[segment] + fraction[picks, best] * geometry.segment_length[segment]
            length = geometry.track.length_m
            previous_arc = np.mod(old_progress[rows], length)
            delta = np.mod(arc - previous_arc + length / 2, length) - length / 2
            progress[rows] = old_progress[rows] + delta
            state.segment[cars] = segment
        state.progress_m[active] = progress

        next_lap = (state.laps[active] + 1) * self.track_length_m[active]
        completed = progress >= next_lap
        if completed.any():
            for index in np.nonzero(completed)[0]:  # rare: at most a few cars per step cross the line
                car = int(active[index])
                self._record_lap(car, float(next_lap[index]), float(old_progress[index]), float(progress[index]))

    def _record_lap(self, car: int, threshold_m: float, old_progress_m: float, progress_m: float) -> None:
        """A car crossed its next lap line in this step: the crossing time is interpolated within the step."""
        state = self.state
        moved = progress_m - old_progress_m
        crossing = self.time_s - self.physics.dt_s * (1.0 - (threshold_m - old_progress_m) / moved)
        lap = int(state.laps[car]) + 1
        own_crossing = crossing - float(state.episode_start_s[car])
        state.lap_events.append(LapEvent(car, lap, own_crossing, crossing - float(state.lap_start_s[car])))
        state.laps[car] = lap
        state.lap_start_s[car] = crossing

    def lap_times(self, car: int) -> list[float]:
        """Lap times [s] of one car, in order."""
        return [event.lap_time_s for event in self.state.lap_events if event.car == car]
