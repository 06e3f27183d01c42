"""Episodes for learning from reward: a `World` whose cars each drive their own episodes, with rewards and endings.

The reward of a step is the change in the car's weighted fitness terms (see `neurocar.sim.fitness`), so the rewards
of an episode add up to the fitness of the car's drive. Terms are counted from where the episode started: a car
started at 120 m along the track has progress 0 there. Laps are counted at the start line, as everywhere else.

| per car (N,) | meaning                                                                              |
|--------------|--------------------------------------------------------------------------------------|
| rewards      | change of the weighted fitness terms during the step                                  |
| terminated   | the episode ended in a crash                                                          |
| truncated    | the episode ended otherwise: a stall, its time limit or the target laps               |
| ended        | terminated or truncated                                                               |

`Episodes.step` returns the observations the cars ended the step with; the caller decides when to start new
episodes for ended cars (`start`), so an environment can offer either autoreset style.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocar.config import FitnessConfig
from neurocar.sim.fitness import FITNESS_TERMS, total_fitness
from neurocar.sim.world import World


@dataclass
class EpisodeStep:
    """What one step did, per car (N,): see the module docstring."""

    observations: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    @property
    def ended(self) -> np.ndarray:
        """Cars whose episode ended in this step."""
        return self.terminated | self.truncated


class Episodes:
    """Every car of `world` drives episodes one after another; `target_laps` ends an episode at that many laps."""

    def __init__(self, world: World, weights: FitnessConfig, target_laps: int | None = None) -> None:
        self.world = world
        self.weights = weights
        self.target_laps = target_laps
        count = world.car_count
        self.start_progress_m = np.zeros(count)
        self.start_laps = np.zeros(count, dtype=np.int64)
        self.fitness = np.zeros(count)

    @property
    def car_count(self) -> int:
        """Cars in the world (one episode each at a time)."""
        return self.world.car_count

    def terms(self) -> dict[str, np.ndarray]:
        """The unweighted fitness terms (N,) of each car's current episode, counted from its start."""
        state = self.world.state
        return {
            "progress": state.progress_m - self.start_progress_m,
            "lap": (state.laps - self.start_laps).astype(np.float64),
            "crash": state.crashed.astype(np.float64),
            "time": state.time_s.astype(np.float64),
        }

    def reset(self, progress_m: np.ndarray | float = 0.0) -> np.ndarray:
        """Start every car's first episode at `progress_m` along its track; returns the observations (N, R)."""
        self.world.reset()
        return self.start(np.arange(self.car_count), progress_m)

    def start(self, cars: np.ndarray, progress_m: np.ndarray | float = 0.0) -> np.ndarray:
        """Start a new episode for some cars at `progress_m` along their tracks; returns all observations (N, R)."""
        cars = np.asarray(cars, dtype=np.int64).reshape(-1)
        progress = np.asarray(progress_m, dtype=np.float64) * np.ones(len(cars))
        observations = self.world.reset_cars(cars, progress)
        self.start_progress_m[cars] = self.world.state.progress_m[cars]
        self.start_laps[cars] = self.world.state.laps[cars]
        self.fitness[cars] = self._weighted()[cars]
        return observations

    def _weighted(self) -> np.ndarray:
        return total_fitness(self.terms(), self.weights)

    def step(self, actions: np.ndarray) -> EpisodeStep:
        """Advance every driving car by one step; cars whose episode has ended stand still with reward 0."""
        world = self.world
        driving = world.state.driving.copy()
        observations = world.step(actions)
        if self.target_laps is not None:
            world.stop(np.nonzero(world.state.driving & (world.state.laps - self.start_laps >= self.target_laps))[0])
        fitness = self._weighted()
        rewards = np.where(driving, fitness - self.fitness, 0.0)
        self.fitness = fitness
        ended = driving & ~world.state.driving
        terminated = ended & world.state.crashed
        return EpisodeStep(observations, rewards, terminated, ended & ~terminated)

    def info(self, car: int) -> dict[str, object]:
        """Plain numbers about one car's episode: laps, progress [m] since the start, where it started [m along the
        track], the fitness and each term."""
        terms = self.terms()
        state = self.world.state
        return {
            "laps": int(state.laps[car] - self.start_laps[car]),
            "progress_m": float(terms["progress"][car]),
            "start_m": float(self.start_progress_m[car]),
            "fitness": float(self.fitness[car]),
            "terms": {name: float(terms[name][car]) for name in FITNESS_TERMS},
            "crashed": bool(state.crashed[car]),
            "stalled": bool(state.stalled[car]),
        }
