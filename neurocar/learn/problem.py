"""The driving problem: a population of policies drives on a set of tracks and is scored, one step at a time.

`DrivingProblem.start(parameters, tracks)` puts one car per individual and track on the start lines;
`step()` advances every car one simulation step with its own network; once no car is driving, `evaluation()`
returns each individual's fitness and its named terms, averaged over the tracks (laps: the minimum over the
tracks). `evaluate` does the whole drive in one call. The problem knows nothing about how the population is
searched (see `neurocar.learn.genetic`).

With target laps, a car that has driven them stops on that track while the others drive on, and each track's
drive lasts long enough to drive them at cruise speed (`time_for_laps`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from neurocar.config import Config
from neurocar.learn.evaluation import time_for_laps
from neurocar.learn.policy import PopulationPolicy, build_network
from neurocar.sim.fitness import FITNESS_TERMS, fitness_terms, total_fitness
from neurocar.sim.track import Track
from neurocar.sim.world import World


@dataclass
class Evaluation:
    """How a population drove. Arrays are per individual (P,), averaged over the tracks (laps: the minimum)."""

    fitness: np.ndarray
    terms: dict[str, np.ndarray]
    laps: np.ndarray
    alive_at_end: float
    car_steps: int


class DrivingProblem:
    """Drive a population on tracks and score it, steppable one simulation step at a time."""

    def __init__(self, config: Config, target_laps: int | None = None) -> None:
        self.config = config
        self.target_laps = target_laps
        self.network = build_network(
            len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation
        )
        self.policy = PopulationPolicy(self.network)
        self.parameter_count = self.policy.parameter_count
        self.worlds: list[World] = []
        self.running = False
        self.car_steps = 0
        self._observations: list[np.ndarray] = []
        self._world_key: tuple[int | None, list[int]] | None = None

    def _worlds_for(self, tracks: list[Track], population: int) -> list[World]:
        """One world per track, kept while the tracks, the population and the target laps stay the same."""
        key = (self.target_laps, population, [id(track) for track in tracks])
        if key != self._world_key:
            episode = self.config.episode
            worlds = []
            for track in tracks:
                seconds = episode.max_seconds
                if self.target_laps is not None:
                    seconds = max(seconds, time_for_laps(track, self.config.physics, self.target_laps))
                track_episode = dataclasses.replace(episode, max_seconds=seconds)
                worlds.append(World(track, self.config.physics, self.config.sensors, track_episode, population))
            self.worlds = worlds
            self._world_key = key
            self._tracks = list(tracks)  # keeps the tracks alive, so their ids stay theirs
        return self.worlds

    @property
    def world(self) -> World | None:
        """The world of the first track (what a window shows), None before the first drive."""
        return self.worlds[0] if self.worlds else None

    def start(self, parameters: torch.Tensor, tracks: list[Track]) -> None:
        """Put every individual's car on the start line of every track (P, n_parameters drive P cars per track)."""
        if not tracks:
            raise ValueError("a drive needs at least one track")
        worlds = self._worlds_for(tracks, parameters.shape[0])
        self.policy.set_parameters(parameters)
        self._observations = [world.reset() for world in worlds]
        self.car_steps = 0
        self.running = True

    @property
    def done(self) -> bool:
        """True when no car is driving any more on any track."""
        return all(world.done for world in self.worlds)

    def step(self) -> bool:
        """One simulation step on every track; returns True when that step ended the drive."""
        if not self.running:
            raise RuntimeError("start a drive before stepping it")
        for index, world in enumerate(self.worlds):
            if world.done:
                continue
            actions = self.policy.actions(self._observations[index])
            self.car_steps += int(world.state.driving.sum())
            self._observations[index] = world.step(actions)
            if self.target_laps is not None:
                state = world.state
                world.stop(np.nonzero(state.driving & (state.laps >= self.target_laps))[0])
        if self.done:
            self.running = False
            return True
        return False

    def evaluation(self) -> Evaluation:
        """The scores of the drive that just ended."""
        per_track_terms = []
        per_track_laps = []
        alive = []
        for world in self.worlds:
            state = world.state
            per_track_terms.append(fitness_terms(state.progress_m, state.laps, state.crashed, state.time_s))
            per_track_laps.append(state.laps.copy())
            alive.append(float((~state.crashed & ~state.stalled).sum()))
        terms = {name: np.mean([terms[name] for terms in per_track_terms], axis=0) for name in FITNESS_TERMS}
        return Evaluation(
            fitness=total_fitness(terms, self.config.fitness),
            terms=terms,
            laps=np.min(per_track_laps, axis=0),
            alive_at_end=float(np.mean(alive)),
            car_steps=self.car_steps,
        )

    def evaluate(self, parameters: torch.Tensor, tracks: list[Track]) -> Evaluation:
        """Drive the whole way and score it."""
        self.start(parameters, tracks)
        while not self.step():
            pass
        return self.evaluation()
