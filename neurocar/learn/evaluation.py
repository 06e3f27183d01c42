"""Closed-loop evaluation: a model drives one car per track, every track at once, until each car laps, crashes or
runs out of time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from neurocar.config import Config, PhysicsConfig
from neurocar.learn.policy import PopulationPolicy, network_rows
from neurocar.sim.track import Track
from neurocar.sim.world import World

if TYPE_CHECKING:
    from torch import nn

# Time allowed per lap, as a multiple of the time a car on the centre line needs, plus a fixed margin [s].
TIME_ALLOWANCE = 2.0
TIME_MARGIN_S = 10.0


@dataclass
class EvaluationResult:
    """How one model drove on one track."""

    track: str
    track_path: str
    difficulty: int
    length_m: float
    laps_target: int
    laps_completed: int
    crashed: bool
    stalled: bool
    progress_m: float
    time_s: float
    lap_times_s: list[float]
    crash_position: tuple[float, float] | None

    @property
    def progress_percent(self) -> float:
        """Progress as a percentage of the laps asked for."""
        return 100.0 * self.progress_m / (self.length_m * self.laps_target)

    def to_json(self) -> dict[str, object]:
        """The JSON form printed by `neurocar evaluate --json`."""
        return {
            "track": self.track,
            "path": self.track_path,
            "difficulty": self.difficulty,
            "laps_completed": self.laps_completed,
            "crashed": self.crashed,
            "stalled": self.stalled,
            "progress_m": round(self.progress_m, 3),
            "progress_percent": round(self.progress_percent, 2),
            "time_s": round(self.time_s, 3),
            "lap_times_s": [round(lap, 3) for lap in self.lap_times_s],
            "crash_position_m": None if self.crash_position is None else [round(v, 2) for v in self.crash_position],
        }


def time_for_laps(track: Track, physics: PhysicsConfig, laps: int) -> float:
    """Time a car is given to drive `laps` laps of `track` [s]: twice what the centre line takes, plus a margin."""
    return laps * track.length_m / physics.cruise_speed_mps * TIME_ALLOWANCE + TIME_MARGIN_S


def evaluate_network(network: nn.Sequential, config: Config, track: Track, laps: int) -> EvaluationResult:
    """Drive one car with `network` on `track` until `laps` laps, a crash, a stall or the time limit."""
    return evaluate_network_on_tracks(network, config, [track], laps)[0]


def evaluate_network_on_tracks(
    network: nn.Sequential, config: Config, tracks: Sequence[Track], laps: int
) -> list[EvaluationResult]:
    """Drive `network` on every track at once, one car per track in one world, each until `laps` laps, a crash,
    a stall or its own time limit (`time_for_laps`); one result per track, in order."""
    return evaluate_in_world(network, evaluation_world(config, tracks, laps), laps)


def evaluation_world(config: Config, tracks: Sequence[Track], laps: int) -> World:
    """The world an evaluation drives: one car per track, each with the time its track needs for `laps` laps."""
    return World(
        list(tracks),
        config.physics,
        config.sensors,
        config.episode,
        population=1,
        max_seconds=[time_for_laps(track, config.physics, laps) for track in tracks],
        target_laps=laps,
    )


def evaluate_in_world(network: nn.Sequential, world: World, laps: int) -> list[EvaluationResult]:
    """Drive `network` in an `evaluation_world` (from its start) and report each track."""
    policy = PopulationPolicy(network)
    policy.set_parameters(network_rows(network, world.car_count))
    observations = world.reset()
    while not world.done:
        observations = world.step(policy.actions(observations, world.state.driving))
    state = world.state
    results = []
    for car, track in enumerate(world.tracks):
        crashed = bool(state.crashed[car])
        results.append(
            EvaluationResult(
                track=track.name,
                track_path=track.path,
                difficulty=track.difficulty,
                length_m=track.length_m,
                laps_target=laps,
                laps_completed=int(min(state.laps[car], laps)),
                crashed=crashed,
                stalled=bool(state.stalled[car]),
                progress_m=float(np.minimum(state.progress_m[car], laps * track.length_m)),
                time_s=float(state.time_s[car]),
                lap_times_s=world.lap_times(car)[:laps],
                crash_position=(float(state.positions[car, 0]), float(state.positions[car, 1])) if crashed else None,
            )
        )
    return results
