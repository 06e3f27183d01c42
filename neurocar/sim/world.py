"""The world: cars on one or more tracks, all stepped at once with arrays.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from neurocar.config import EpisodeConfig, PhysicsConfig, SensorConfig
from neurocar.geometry import CELL_COVER_MARGIN_M, CellGrid
from neurocar.sim import packed
from neurocar.sim.packed import TrackParts, pack_world
from neurocar.sim.track import Track

if TYPE_CHECKING:
    from types import ModuleType

_ACTION_DTYPE = np.dtype(np.int64)
# From this many driving cars on, a step shares the cars out over the processor's cores (below it, starting the
# threads costs more than it saves).
PARALLEL_MIN_CARS = 512


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
    """What stepping needs of one track: the sensor and collision grids and the centre line as flat arrays.

    The sensor grid lists, per cell, the walls that pass through it (the rays walk it cell by cell); the collision
    grid lists every wall a car anywhere in the cell can touch within one step's move.
    """

    def __init__(self, track: Track, physics: PhysicsConfig, sensors: SensorConfig) -> None:
        self.track = track
        self.sensor_grid = CellGrid(track.wall_starts, track.wall_ends, CELL_COVER_MARGIN_M)
        self.max_move_m = physics.cruise_speed_mps * physics.dt_s
        self.collision_grid = CellGrid(track.wall_starts, track.wall_ends, physics.collision_radius_m + self.max_move_m)
        segment_length = np.diff(track.arc_m)
        # A car moves at most `max_move_m` per step: searching this many segments either way cannot lose it.
        self.search_segments = math.ceil(self.max_move_m / max(1e-9, float(np.min(segment_length)))) + 2

    def parts(self, max_seconds: float) -> TrackParts:
        """This track's share of the packed arrays, with its time limit [s]."""
        track = self.track
        return TrackParts(
            track.wall_starts,
            track.wall_ends,
            track.centerline,
            track.arc_m,
            self.search_segments,
            self.sensor_grid,
            self.collision_grid,
            max_seconds,
        )

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


class World:
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
        self.max_seconds_per_track = _per_track(max_seconds, episode.max_seconds, len(self.tracks), "max_seconds")
        self.geometries = [TrackGeometry(track, physics, sensors) for track in self.tracks]
        self.grid = self.geometries[0].sensor_grid
        self.collision_grid = self.geometries[0].collision_grid
        parameters = np.zeros(packed.PARAMETER_COUNT)
        parameters[packed.PARAMETER_DT] = physics.dt_s
        parameters[packed.PARAMETER_SPEED] = physics.cruise_speed_mps
        parameters[packed.PARAMETER_TURN_RATE] = physics.turn_rate_rad_per_s
        parameters[packed.PARAMETER_RADIUS] = physics.collision_radius_m
        parameters[packed.PARAMETER_STALL] = episode.stall_seconds
        parameters[packed.PARAMETER_RANGE] = sensors.range_m
        # The kernels take these two buffers instead of a dozen arrays: each array passed costs time on every call.
        self.packed = pack_world(
            [
                geometry.parts(limit)
                for geometry, limit in zip(self.geometries, self.max_seconds_per_track, strict=True)
            ],
            np.asarray(sensors.angles_rad, dtype=np.float64),
            parameters,
            self.car_count,
        )
        self._floats = self.packed.floats
        self._integers = self.packed.integers
        self._kernels: ModuleType | None = None
        self._step_kernel = None
        self._parallel_kernel = None
        # Steps with at least this many driving cars run on every core (a caller may raise it to stay on one).
        self.parallel_min_cars: float = PARALLEL_MIN_CARS
        self._dt_s = physics.dt_s
        self._actions_shape = (self.car_count,)
        self._target_laps = target_laps or 0
        self.time_s = 0.0
        self.steps = 0
        self.driving_count = self.car_count
        self.state = self._initial_state()
        self.track_index = self.state_integers[:, packed.CAR_TRACK].copy()
        self.track_length_m = self.packed.track_floats[self.track_index, packed.TRACK_LENGTH]
        self.max_seconds = self.max_seconds_per_track[self.track_index]
        self.observations = np.ones((self.car_count, len(sensors.angles_deg)))

    def _compiled(self) -> ModuleType:
        """The compiled kernels, loaded (and, the very first time, compiled) when first needed."""
        if self._kernels is None:
            from neurocar.sim import kernels

            self._kernels = kernels
        return self._kernels

    def _initial_state(self) -> CarState:
        count = self.car_count
        track_index = np.repeat(np.arange(len(self.tracks), dtype=np.int64), self.population)
        # Three row-per-car blocks, so the compiled step takes a few arrays; the state's arrays are their columns.
        self.state_floats = np.zeros((count, packed.CAR_FLOAT_COLUMNS))
        self.state_integers = np.zeros((count, packed.CAR_INTEGER_COLUMNS), dtype=np.int64)
        self.state_flags = np.zeros((count, packed.CAR_FLAG_COLUMNS), dtype=bool)
        floats, integers, flags = self.state_floats, self.state_integers, self.state_flags
        floats[:, packed.CAR_X : packed.CAR_Y + 1] = np.array([track.start_position for track in self.tracks])[
            track_index
        ]
        floats[:, packed.CAR_HEADING] = np.array([track.start_heading for track in self.tracks])[track_index]
        integers[:, packed.CAR_TRACK] = track_index
        flags[:, packed.CAR_DRIVING] = True
        return CarState(
            positions=floats[:, packed.CAR_X : packed.CAR_Y + 1],
            headings=floats[:, packed.CAR_HEADING],
            driving=flags[:, packed.CAR_DRIVING],
            crashed=flags[:, packed.CAR_CRASHED],
            stalled=flags[:, packed.CAR_STALLED],
            finished=flags[:, packed.CAR_FINISHED],
            progress_m=floats[:, packed.CAR_PROGRESS],
            best_progress_m=floats[:, packed.CAR_BEST_PROGRESS],
            laps=integers[:, packed.CAR_LAPS],
            time_s=floats[:, packed.CAR_TIME],
            segment=integers[:, packed.CAR_SEGMENT],
            episode_start_s=floats[:, packed.CAR_EPISODE_START],
            last_improvement_s=floats[:, packed.CAR_LAST_IMPROVEMENT],
            lap_start_s=floats[:, packed.CAR_LAP_START],
        )

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Every car back on its start line, driving, its clock at 0; returns the first observations (N, R).

        The start is deterministic; `seed` is accepted so every driver of the world resets it the same way (a
        random start is the caller's choice, through `reset_cars`).
        """
        del seed
        self.time_s = 0.0
        self.steps = 0
        self.driving_count = self.car_count
        self.state = self._initial_state()
        self._observe(np.arange(self.car_count))
        return self.observations

    def observe_cars(self, cars: np.ndarray) -> None:
        """Read the sensors of some cars again, after their poses were written from outside (a saved state)."""
        self._observe(np.asarray(cars, dtype=np.int64).reshape(-1))

    def _observe(self, cars: np.ndarray) -> None:
        """Fill the observation rows of some cars, each against its own track."""
        self._compiled().observe_cars(
            self._floats,
            self._integers,
            self.state_floats,
            self.state_integers,
            self.observations,
            np.ascontiguousarray(cars, dtype=np.int64),
        )

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
        self.driving_count = int(state.driving.sum())
        self._observe(cars)

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
        self.driving_count = int(state.driving.sum())
        self._observe(cars)
        return self.observations

    def stop(self, cars: np.ndarray) -> None:
        """Stop some cars where they are, keeping their progress and laps (for example: their race is over)."""
        self.state.driving[np.asarray(cars)] = False
        self.driving_count = int(self.state.driving.sum())

    @property
    def done(self) -> bool:
        """True when no car is driving any more."""
        return not bool(self.state.driving.any())

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Advance every driving car by one `dt` with its action (N,); returns observations (N, R)."""
        self.steps = steps = self.steps + 1
        self.time_s = time_s = steps * self._dt_s
        # The common case (an int64 array of the right shape) is checked in a few attribute reads: at one car the
        # whole step costs a few microseconds.
        if (
            type(actions) is not np.ndarray
            or actions.dtype is not _ACTION_DTYPE
            or actions.shape != self._actions_shape
        ):
            actions = self._checked_actions(actions)
        # From `parallel_min_cars` driving cars on, the cars are shared over the cores: each writes its outcome
        # and lap time to its own scratch row, and the laps are recorded in car order afterwards, so the result is
        # the same on any number of cores.
        kernel = self._step_kernel if self.driving_count < self.parallel_min_cars else self._parallel_kernel
        if kernel is None:
            kernel = self._load_step_kernel()
        driving, laps = kernel(
            self._floats,
            self._integers,
            self.state_floats,
            self.state_integers,
            self.state_flags,
            self.observations,
            actions,
            time_s,
            self._target_laps,
        )
        if driving < 0:
            raise ValueError("actions must be 0 (left), 1 (straight) or 2 (right)")
        self.driving_count = driving
        if laps:
            events = self.state.lap_events
            for car, lap, own_time_s, lap_time_s in self.packed.lap_records[:laps].tolist():
                events.append(LapEvent(int(car), int(lap), own_time_s, lap_time_s))
        return self.observations

    def _load_step_kernel(self) -> Callable:
        """The kernel this step needs (serial or parallel), loaded on first use."""
        if self.driving_count < self.parallel_min_cars:
            self._step_kernel = self._compiled().step_cars
            return self._step_kernel
        self._parallel_kernel = self._compiled().step_cars_in_parallel
        return self._parallel_kernel

    def _checked_actions(self, actions: np.ndarray) -> np.ndarray:
        """Actions of any integer type as an int64 array (N,), or a ValueError that says what was wrong."""
        actions = np.asarray(actions)
        if actions.shape != self._actions_shape or actions.dtype.kind not in "iu":
            raise ValueError(f"expected {self.car_count} integer actions, got shape {actions.shape} ({actions.dtype})")
        return np.ascontiguousarray(actions, dtype=np.int64)

    def lap_times(self, car: int) -> list[float]:
        """Lap times [s] of one car, in order."""
        return [event.lap_time_s for event in self.state.lap_events if event.car == car]
