"""The best lap of a drive or a race, kept as it happens, as a lap replay a ghost can drive again.

A lap is the state a car crossed the line in and its actions until it crossed the line again: the simulation is
deterministic, so that is the whole lap. `BestLapRecorder` is told about every world step (`step`) and every reset
(`restart`); when a watched car completes a lap faster than the best so far, the lap is driven again in a world of
its own from the saved state, and kept only if that reproduces its lap time exactly, so a saved best lap always
plays back in the time it claims. A lap in which the car was moved by the program (R in `drive`) does not count.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurocar.config import EpisodeConfig, PhysicsConfig, SensorConfig
from neurocar.sim.replay import CarStart, Replay, ReplayCar, state_sha256, text_sha256
from neurocar.sim.track import Track
from neurocar.sim.world import World


class BestLapRecorder:
    """Watches some cars of a world and keeps the fastest clean lap any of them drove (`best`, a lap Replay)."""

    def __init__(
        self,
        kind: str,
        track: Track,
        physics: PhysicsConfig,
        sensors: SensorConfig,
        episode: EpisodeConfig,
        labels: Sequence[str],
        drivers: Sequence[str],
        cars: Sequence[int] | None = None,
    ) -> None:
        self.kind = kind
        self.track = track
        self.physics = physics
        self.sensors = sensors
        self.episode = episode
        self.labels = list(labels)
        self.drivers = list(drivers)
        self.cars = list(range(len(self.labels))) if cars is None else list(cars)
        self.best: Replay | None = None
        self.best_car: int | None = None
        self.improvements = 0  # how many times `best` changed (a window shows the new ghost when it grows)
        self.not_reproduced = 0  # laps that did not drive again in their own time (never expected)
        self._history: list[np.ndarray] = []  # one row of every car's action per step since the last restart
        self._starts: dict[int, tuple[CarStart, int]] = {}  # car -> (its state as the lap began, history index)
        self._spoiled: set[int] = set()
        self._events_seen = 0
        self._check_world: World | None = None

    def restart(self, world: World) -> None:
        """The world was reset (or is new): every watched car starts a lap where it stands."""
        self._history.clear()
        self._spoiled.clear()
        self._events_seen = len(world.state.lap_events)
        self._starts = {car: (CarStart.of(world, car), 0) for car in self.cars}

    def spoil(self, car: int) -> None:
        """The car was moved by the program: the lap it is driving does not count."""
        self._spoiled.add(int(car))

    def step(self, world: World, actions: np.ndarray) -> None:
        """After each world step with `actions`: note them, and look at the laps completed in that step."""
        if not self._starts:
            raise ValueError("call restart(world) before the first step")
        self._history.append(np.asarray(actions, dtype=np.int8).copy())
        events = world.state.lap_events
        if len(events) == self._events_seen:
            return
        new_events, self._events_seen = events[self._events_seen :], len(events)
        for event in new_events:
            if event.car not in self._starts:
                continue
            start, first = self._starts[event.car]
            if event.car not in self._spoiled and (self.best is None or event.lap_time_s < self.best_time_s):
                actions_of_lap = np.stack(self._history[first:])[:, event.car].copy()
                lap = self._checked_lap(event.car, event.lap, event.lap_time_s, start, actions_of_lap)
                if lap is not None:
                    self.best, self.best_car = lap, event.car
                    self.improvements += 1
            self._spoiled.discard(event.car)
            self._starts[event.car] = (CarStart.of(world, event.car), len(self._history))
        self._forget_old_steps(world)

    @property
    def best_time_s(self) -> float:
        """The best lap time so far [s] (infinite before the first lap)."""
        return float("inf") if self.best is None or self.best.lap_time_s is None else self.best.lap_time_s

    def _forget_old_steps(self, world: World) -> None:
        """Drop the actions no lap being driven needs any more (a long drive keeps only its current laps). A car
        that has stopped (crashed, stalled) holds none back: its lap can no longer count, so it is marked spoiled
        and, should it drive on, its next lap starts afresh."""
        if len(self._history) <= 1000:
            return
        for car, (start, first) in self._starts.items():
            if first < len(self._history) and not world.state.driving[car]:
                self._starts[car] = (start, len(self._history))
                self._spoiled.add(car)
        oldest = min(first for _start, first in self._starts.values())
        if oldest > 1000:
            del self._history[:oldest]
            self._starts = {car: (start, first - oldest) for car, (start, first) in self._starts.items()}

    def _checked_lap(
        self, car: int, number: int, lap_time_s: float, start: CarStart, actions: np.ndarray
    ) -> Replay | None:
        """The lap as a replay, if driving it again from `start` gives exactly `lap_time_s`; else None."""
        if self._check_world is None:
            self._check_world = World(self.track, self.physics, self.sensors, self.episode, population=1)
        world = self._check_world
        world.reset()
        start.apply(world)
        for action in actions.tolist():
            world.step(np.array([action], dtype=np.int64))
        times = [event.lap_time_s for event in world.state.lap_events if event.lap == number]
        if times != [lap_time_s]:
            self.not_reproduced += 1
            return None
        state = world.state
        return Replay(
            kind=self.kind,
            track_name=self.track.name,
            track_file=str(Path(self.track.path).resolve()) if self.track.path else "",
            track_sha256=text_sha256(self.track.source_text),
            track_text=self.track.source_text,
            physics=self.physics,
            sensors=self.sensors,
            episode=self.episode,
            laps=None,
            steps=len(actions),
            cars=(ReplayCar(self.labels[car], self.drivers[car], actions),),
            events=(),
            final_sha256=state_sha256(world),
            final_laps=(int(state.laps[0]),),
            final_progress_m=(float(state.progress_m[0]),),
            date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            start=start,
            lap_number=number,
            lap_time_s=lap_time_s,
        )
