"""A race: every car on one track in one world, a countdown, laps to drive, and the finishing order.

The cars never collide with each other (the world has no car-to-car contact), so a race is a population driving
at once. `Race` is the model a window or a test drives: `tick()` spends one step of the window's budget, first on
the countdown (no car moves before "go"), then on world steps whose actions come from the `choose` callable. A car
that has driven the laps is parked where it crossed the line. When no car drives any more, `standings()` is the
finishing order: the finished cars by the time they crossed the line for the last time, then the others by laps
and progress, each marked with why it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.replay import ReplayRecorder
from neurocar.sim.world import LapEvent, World

COUNTDOWN_SECONDS = 3.0  # "3", "2", "1", then go


@dataclass(frozen=True)
class Standing:
    """One car's place in the finishing order."""

    place: int
    car: int
    status: str  # finished, crashed, stalled, out of time, driving
    laps: int
    finish_time_s: float | None
    lap_times_s: tuple[float, ...]
    progress_m: float


def finishing_order(
    lap_events: Sequence[LapEvent],
    laps: int,
    progress_m: np.ndarray,
    crashed: np.ndarray,
    stalled: np.ndarray,
    driving: np.ndarray,
) -> list[Standing]:
    """The standings: cars that drove `laps` laps first, by the time they finished (earliest first), then the
    others by completed laps, then progress [m]. Ties keep the car order."""
    count = len(progress_m)
    lap_times: list[list[float]] = [[] for _ in range(count)]
    finish: list[float | None] = [None] * count
    for event in lap_events:
        if event.car >= count or event.lap > laps:
            continue
        lap_times[event.car].append(event.lap_time_s)
        if event.lap == laps:
            finish[event.car] = event.time_s
    completed = [len(times) for times in lap_times]

    def order(car: int) -> tuple[float, ...]:
        if finish[car] is not None:
            return (0.0, float(finish[car]), float(car))
        return (1.0, -float(completed[car]), -float(progress_m[car]), float(car))

    standings = []
    for place, car in enumerate(sorted(range(count), key=order), start=1):
        if finish[car] is not None:
            status = "finished"
        elif crashed[car]:
            status = "crashed"
        elif stalled[car]:
            status = "stalled"
        elif driving[car]:
            status = "driving"
        else:
            status = "out of time"
        standings.append(
            Standing(place, car, status, completed[car], finish[car], tuple(lap_times[car]), float(progress_m[car]))
        )
    return standings


class Race:
    """Cars racing on one world: the countdown, the steps, parking at the finish, recording."""

    def __init__(
        self,
        world: World,
        laps: int,
        choose: Callable[[World], np.ndarray] | None = None,
        *,
        countdown_s: float = COUNTDOWN_SECONDS,
        recorder: ReplayRecorder | None = None,
        best_laps: BestLapRecorder | None = None,
    ) -> None:
        self.world = world
        self.laps = laps
        self.choose = choose
        self.countdown_steps = max(0, math.ceil(countdown_s / world.physics.dt_s - 1e-9))
        self.recorder = recorder
        self.best_laps = best_laps
        self.finished = np.zeros(world.population, dtype=bool)
        self.restart()

    def restart(self) -> None:
        """Everyone back on the start line and the countdown again (the best lap so far is kept)."""
        if self.recorder is not None:
            self.recorder.restart(self.world)
        self.world.reset()
        if self.best_laps is not None:
            self.best_laps.restart(self.world)
        self.finished[:] = False
        self.countdown_left = self.countdown_steps

    @property
    def counting_down(self) -> bool:
        """True before "go": nobody moves."""
        return self.countdown_left > 0

    @property
    def countdown_label(self) -> str | None:
        """ "3", "2", "1" during the countdown, "GO!" for the first second of racing, else None."""
        dt = self.world.physics.dt_s
        if self.counting_down:
            return str(math.ceil(self.countdown_left * dt - 1e-9))
        if self.world.steps * dt < 1.0 and not self.done:
            return "GO!"
        return None

    @property
    def done(self) -> bool:
        """The race is over: no car drives any more."""
        return self.world.done

    def tick(self) -> bool:
        """Spend one step: a countdown step, or a world step; returns False when there was nothing to do."""
        if self.counting_down:
            self.countdown_left -= 1
            return True
        if self.done:
            return False
        self.step()
        return True

    def step(self) -> None:
        """One world step with the chosen actions; cars that drove the laps are parked."""
        world = self.world
        if self.choose is None:
            raise ValueError("the race has no driver (set `choose`)")
        actions = np.asarray(self.choose(world), dtype=np.int64)
        world.step(actions)
        if self.recorder is not None:
            self.recorder.step(actions)
        if self.best_laps is not None:
            self.best_laps.step(world, actions)
        newly_finished = world.state.driving & (world.state.laps >= self.laps)
        if newly_finished.any():
            cars = np.nonzero(newly_finished)[0]
            world.stop(cars)
            self.finished[cars] = True
            if self.recorder is not None:
                self.recorder.stop(cars)

    def standings(self) -> list[Standing]:
        """The order now (the finishing order once `done`)."""
        state = self.world.state
        population = self.world.population
        return finishing_order(
            state.lap_events,
            self.laps,
            state.progress_m[:population],
            state.crashed[:population],
            state.stalled[:population],
            state.driving[:population],
        )


def format_time(seconds: float | None) -> str:
    """A race time as m:ss.ss (or s.ss under a minute); '-' for none."""
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:05.2f}" if minutes else f"{rest:.2f}s"


def standings_lines(standings: Sequence[Standing], labels: Sequence[str], laps: int) -> list[str]:
    """The finishing order as text lines, one per car (what the race prints at the end)."""
    width = max(len(label) for label in labels)
    lines = []
    for standing in standings:
        label = labels[standing.car]
        times = ", ".join(f"{lap:.2f}s" for lap in standing.lap_times_s) or "no lap"
        result = (
            f"finished in {format_time(standing.finish_time_s)}"
            if standing.status == "finished"
            else f"{standing.status} after {standing.laps}/{laps} laps, {standing.progress_m:.0f} m"
        )
        lines.append(f"{standing.place:>2}. {label:<{width}}  {result}  (laps: {times})")
    return lines
