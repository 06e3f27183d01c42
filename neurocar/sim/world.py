"""The world: a whole population of cars on one track, stepped at once with arrays.

`World.reset(seed)` puts every car on the start line and returns the first observations; `World.step(actions)`
moves every car still driving by one fixed `dt` and returns the new observations. The world knows nothing about
who chooses the actions (a network, a person, a script).

| per-car array (N,)  | meaning                                                            |
|---------------------|--------------------------------------------------------------------|
| positions (N, 2)    | centre of the car [m]                                              |
| headings            | direction of travel [rad], anticlockwise from +x                   |
| driving             | still moving: not crashed, not stalled, not out of time            |
| crashed             | touched a wall (the car stops where it touched)                    |
| stalled             | stopped for making no new progress for `stall_seconds`             |
| progress_m          | net arc length along the centre line since the start, laps counted |
| laps                | completed laps (progress crossed k * lap length for the first time)|
| time_s              | seconds the car has driven                                         |

Observations are (N, R) sensor readings in [0, 1] (see `neurocar.sim.sensors`); actions are (N,) integers,
0 left, 1 straight, 2 right (see `neurocar.sim.car`).
"""

from __future__ import annotations

import math
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
    """A car completed a lap: which car, which lap (1 = first), when [s] and how long it took [s]."""

    car: int
    lap: int
    time_s: float
    lap_time_s: float


@dataclass
class CarState:
    """Every car's state as arrays (see the module docstring)."""

    positions: np.ndarray
    headings: np.ndarray
    driving: np.ndarray
    crashed: np.ndarray
    stalled: np.ndarray
    progress_m: np.ndarray
    best_progress_m: np.ndarray
    laps: np.ndarray
    time_s: np.ndarray
    segment: np.ndarray
    last_improvement_s: np.ndarray
    lap_start_s: np.ndarray
    lap_events: list[LapEvent] = field(default_factory=list)


class World:
    """A population of cars on a track, stepped together."""

    def __init__(
        self,
        track: Track,
        physics: PhysicsConfig,
        sensors: SensorConfig,
        episode: EpisodeConfig,
        population: int,
    ) -> None:
        if population < 1:
            raise ValueError("population must be at least 1")
        self.track = track
        self.physics = physics
        self.sensors = sensors
        self.episode = episode
        self.population = population
        self.grid = sensor_grid(track, sensors)
        max_move = physics.cruise_speed_mps * physics.dt_s
        self.collision_grid = SegmentGrid(
            track.wall_starts,
            track.wall_ends,
            physics.collision_radius_m + max_move,
            track.centerline,
            track.width_m / 2 + SENSOR_REGION_SLACK_M,
            direction_bins=1,
        )
        edges = np.roll(track.centerline, -1, axis=0) - track.centerline
        self._segment_x = np.ascontiguousarray(track.centerline[:, 0])
        self._segment_y = np.ascontiguousarray(track.centerline[:, 1])
        self._edge_x = np.ascontiguousarray(edges[:, 0])
        self._edge_y = np.ascontiguousarray(edges[:, 1])
        self._segment_length = np.diff(track.arc_m)
        self._inverse_length_squared = 1.0 / np.maximum(self._segment_length, 1e-12) ** 2
        # A car moves at most `max_move` per step: searching this many segments either way cannot lose it.
        search = math.ceil(max_move / max(1e-9, float(np.min(self._segment_length)))) + 2
        self._window = np.arange(-search, search + 1)
        self.time_s = 0.0
        self.steps = 0
        self.state = self._initial_state()
        self.observations = np.ones((population, len(sensors.angles_deg)))

    def _initial_state(self) -> CarState:
        count = self.population
        return CarState(
            positions=np.repeat(self.track.start_position[None], count, axis=0),
            headings=np.full(count, self.track.start_heading),
            driving=np.ones(count, dtype=bool),
            crashed=np.zeros(count, dtype=bool),
            stalled=np.zeros(count, dtype=bool),
            progress_m=np.zeros(count),
            best_progress_m=np.zeros(count),
            laps=np.zeros(count, dtype=np.int64),
            time_s=np.zeros(count),
            segment=np.zeros(count, dtype=np.int64),
            last_improvement_s=np.zeros(count),
            lap_start_s=np.zeros(count),
        )

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Every car back on the start line, driving; returns the first observations (N, R).

        The start is deterministic; `seed` is accepted so every driver of the world resets it the same way.
        """
        del seed
        self.time_s = 0.0
        self.steps = 0
        self.state = self._initial_state()
        self.observations = observe(self.grid, self.state.positions, self.state.headings, self.sensors)
        return self.observations

    def place(self, cars: np.ndarray, progress_m: np.ndarray) -> None:
        """Put some cars back on the centre line at a net progress (laps included), driving again."""
        cars = np.asarray(cars, dtype=np.int64)
        progress = np.asarray(progress_m, dtype=np.float64) * np.ones(len(cars))
        state = self.state
        position, heading = self.track.pose_at(progress)
        state.positions[cars] = position
        state.headings[cars] = heading
        state.driving[cars] = True
        state.crashed[cars] = False
        state.stalled[cars] = False
        state.progress_m[cars] = progress
        state.best_progress_m[cars] = np.maximum(state.best_progress_m[cars], progress)
        state.laps[cars] = np.maximum(state.laps[cars], np.floor(progress / self.track.length_m).astype(np.int64))
        arc = np.mod(progress, self.track.length_m)
        state.segment[cars] = np.clip(
            np.searchsorted(self.track.arc_m, arc, side="right") - 1, 0, len(self.track.centerline) - 1
        )
        state.last_improvement_s[cars] = self.time_s
        self.observations[cars] = observe(self.grid, state.positions[cars], state.headings[cars], self.sensors)

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
        if actions.shape != (self.population,) or actions.dtype.kind not in "iu":
            raise ValueError(f"expected {self.population} integer actions, got shape {actions.shape} ({actions.dtype})")
        actions = actions[active]
        if actions.min() < 0 or actions.max() > 2:
            raise ValueError("actions must be 0 (left), 1 (straight) or 2 (right)")
        old_positions = state.positions[active]
        old_headings = state.headings[active]
        new_positions, new_headings = advance(old_positions, old_headings, actions, self.physics)

        impact = self._time_of_impact(old_positions, new_positions - old_positions)
        hit = impact <= 1.0
        if hit.any():
            fraction = np.maximum(impact[hit] - _CONTACT_BACKOFF, 0.0)
            new_positions[hit] = old_positions[hit] + fraction[:, None] * (new_positions[hit] - old_positions[hit])
            turn = np.mod(new_headings[hit] - old_headings[hit] + np.pi, 2 * np.pi) - np.pi
            new_headings[hit] = old_headings[hit] + fraction * turn
        state.positions[active] = new_positions
        state.headings[active] = new_headings
        state.time_s[active] = self.time_s

        self._update_progress(active, new_positions, old_progress=state.progress_m[active].copy())

        crashed_now = active[hit]
        state.crashed[crashed_now] = True
        improved = state.progress_m[active] > state.best_progress_m[active] + 1e-9
        state.best_progress_m[active] = np.maximum(state.best_progress_m[active], state.progress_m[active])
        state.last_improvement_s[active[improved]] = self.time_s
        stalled = (self.time_s - state.last_improvement_s[active]) >= self.episode.stall_seconds - 1e-9
        state.stalled[active[stalled & ~hit]] = True
        still = ~hit & ~stalled
        if self.time_s >= self.episode.max_seconds - 1e-9:
            still[:] = False
        state.driving[active] = still

        self.observations[active] = observe(self.grid, new_positions, new_headings, self.sensors)
        return self.observations

    def _time_of_impact(self, positions: np.ndarray, motions: np.ndarray) -> np.ndarray:
        """First fraction of each car's move at which it touches a wall, `inf` if it does not (swept disc)."""
        radius = self.physics.collision_radius_m
        car, wall = self.collision_grid.candidates_near(positions)
        result = np.full(len(positions), np.inf)
        if len(car) == 0:
            return result
        starts, ends = self.track.wall_starts[wall], self.track.wall_ends[wall]
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
        """Project cars onto nearby centre-line segments and accumulate net arc length, counting laps."""
        state = self.state
        track = self.track
        candidates = state.segment[active, None] + self._window[None, :]
        candidates %= len(track.centerline)
        offset_x = positions[:, 0, None] - self._segment_x.take(candidates)
        offset_y = positions[:, 1, None] - self._segment_y.take(candidates)
        edge_x = self._edge_x.take(candidates)
        edge_y = self._edge_y.take(candidates)
        fraction = (offset_x * edge_x + offset_y * edge_y) * self._inverse_length_squared.take(candidates)
        np.clip(fraction, 0.0, 1.0, out=fraction)
        offset_x -= fraction * edge_x
        offset_y -= fraction * edge_y
        best = np.argmin(offset_x * offset_x + offset_y * offset_y, axis=1)
        rows = np.arange(len(active))
        segment = candidates[rows, best]
        arc = track.arc_m[segment] + fraction[rows, best] * self._segment_length[segment]
        length = track.length_m
        previous_arc = np.mod(old_progress, length)
        delta = np.mod(arc - previous_arc + length / 2, length) - length / 2
        progress = old_progress + delta
        state.segment[active] = segment
        state.progress_m[active] = progress

        next_lap = (state.laps[active] + 1) * length
        completed = progress >= next_lap
        if completed.any():
            for index in np.nonzero(completed)[0]:  # rare: at most a few cars per step cross the line
                car = int(active[index])
                threshold = float(next_lap[index])
                moved = float(progress[index] - old_progress[index])
                crossing = self.time_s - self.physics.dt_s * (1.0 - (threshold - old_progress[index]) / moved)
                lap = int(state.laps[car]) + 1
                state.lap_events.append(LapEvent(car, lap, crossing, crossing - float(state.lap_start_s[car])))
                state.laps[car] = lap
                state.lap_start_s[car] = crossing

    def lap_times(self, car: int) -> list[float]:
        """Lap times [s] of one car, in order."""
        return [event.lap_time_s for event in self.state.lap_events if event.car == car]
