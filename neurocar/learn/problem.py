"""The driving problem: a population of policies drives on a set of tracks and is scored, one step at a time.

`DrivingProblem.start(parameters, tracks)` puts one car per individual and track on the start lines, all in one
batched world;
`step()` advances every car one simulation step with its own network; once no car is driving, `evaluation()`
returns each individual's fitness and its named terms, averaged over the tracks (laps: the minimum over the
tracks). `evaluate` does the whole drive in one call. The problem knows nothing about how the population is
searched (see `neurocar.learn.genetic`).

With target laps, a car that has driven them stops on that track while the others drive on, and each track's
drive lasts long enough to drive them at cruise speed (`time_for_laps`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocar.config import Config
from neurocar.learn.evaluation import time_for_laps
from neurocar.learn.policy import PopulationPolicy, layout_from_config
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
    """Drive a population on tracks and score it, steppable one simulation step at a time.

    Every track and every individual drive in one batched `World`: with T tracks and a population of P, car k
    drives track k // P with the network of individual k % P (the parameters are repeated per track).
    """

    def __init__(self, config: Config, target_laps: int | None = None) -> None:
        self.config = config
        self.target_laps = target_laps
        self.layout = layout_from_config(config)
        self.policy = PopulationPolicy(self.layout)
        self.parameter_count = self.policy.parameter_count
        self.world: World | None = None
        self.population = 0
        self.running = False
        self.car_steps = 0
        self._observations = np.zeros((0, len(config.sensors.angles_deg)))
        self._world_key: tuple[int | None, int, list[int]] | None = None
        self._tracks: list[Track] = []

    def _world_for(self, tracks: list[Track], population: int) -> World:
        """The batched world, kept while the tracks, the population and the target laps stay the same."""
        key = (self.target_laps, population, [id(track) for track in tracks])
        if self.world is None or key != self._world_key:
            max_seconds = [self.config.episode.max_seconds] * len(tracks)
            if self.target_laps is not None:
                needed = [time_for_laps(track, self.config.physics, self.target_laps) for track in tracks]
                max_seconds = [max(limit, time) for limit, time in zip(max_seconds, needed, strict=True)]
            self.world = World(
                tracks,
                self.config.physics,
                self.config.sensors,
                self.config.episode,
                population,
                max_seconds=max_seconds,
                target_laps=self.target_laps,
            )
            self._world_key = key
            self._tracks = list(tracks)  # keeps the tracks alive, so their ids stay theirs
        return self.world

    def start(self, parameters: np.ndarray, tracks: list[Track]) -> None:
        """Put every individual's car on the start line of every track (P, n_parameters drive P cars per track)."""
        if not tracks:
            raise ValueError("a drive needs at least one track")
        population = parameters.shape[0]
        world = self._world_for(tracks, population)
        self.population = population
        self.policy.set_parameters(np.tile(parameters, (len(tracks), 1)))
        self._observations = world.reset()
        self.car_steps = 0
        self.running = True

    @property
    def done(self) -> bool:
        """True when no car is driving any more on any track."""
        return self.world is None or self.world.done

    def step(self) -> bool:
        """One simulation step of every car still driving; returns True when that step ended the drive."""
        world = self.world
        if not self.running or world is None:
            raise RuntimeError("start a drive before stepping it")
        actions = self.policy.actions(self._observations, world.state.driving)
        self.car_steps += world.driving_count
        self._observations = world.step(actions)
        if world.done:
            self.running = False
            return True
        return False

    def per_track(self, values: np.ndarray) -> np.ndarray:
        """A per-car array (N,) as (tracks, population)."""
        return np.asarray(values).reshape(-1, self.population)

    def evaluation(self) -> Evaluation:
        """The scores of the drive that just ended."""
        assert self.world is not None
        state = self.world.state
        progress = state.progress_m
        if self.target_laps is not None:
            # A car that drove the target laps stops just past the line, by however far its last step took it.
            # That overshoot is chance, not skill: every car that drove the laps scores the same distance (so
            # among equals the one ranked first before, the elite, keeps its place).
            progress = np.minimum(progress, self.target_laps * self.world.track_length_m)
        per_track = fitness_terms(progress, state.laps, state.crashed, state.time_s)
        terms = {name: self.per_track(per_track[name]).mean(axis=0) for name in FITNESS_TERMS}
        alive = self.per_track(~state.crashed & ~state.stalled).sum(axis=1)
        return Evaluation(
            fitness=total_fitness(terms, self.config.fitness),
            terms=terms,
            laps=self.per_track(state.laps).min(axis=0),
            alive_at_end=float(alive.mean()),
            car_steps=self.car_steps,
        )

    def evaluate(self, parameters: np.ndarray, tracks: list[Track]) -> Evaluation:
        """Drive the whole way and score it."""
        self.start(parameters, tracks)
        while not self.step():
            pass
        return self.evaluation()
