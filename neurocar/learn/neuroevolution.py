"""Neuroevolution: a population of policies drives, the fittest breed, generation after generation.

`Neuroevolution` holds everything a run needs to continue exactly where it stopped (population, random generator
state, best policy so far, mutation scale); `run_evolution` is the loop, and it reports through `Reporter` hooks
(console, CSV log, checkpoints, the window) instead of printing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocar.config import Config, PhysicsConfig
from neurocar.learn.evaluation import time_for_laps
from neurocar.learn.genetic import initial_population, next_generation, seeded_population
from neurocar.learn.policy import PopulationPolicy, build_network, load_vector
from neurocar.sim.fitness import FITNESS_TERMS, fitness_terms, total_fitness
from neurocar.sim.generator import MAX_DIFFICULTY, check_car_fits, generate_track
from neurocar.sim.track import Track
from neurocar.sim.world import World

MAX_MUTATION_SCALE = 4.0
MUTATION_GROWTH = 1.5


@dataclass
class GenerationResult:
    """What one generation did. Arrays are per individual (P,), averaged over the tracks (laps: the minimum)."""

    generation: int
    fitness: np.ndarray
    terms: dict[str, np.ndarray]
    laps: np.ndarray
    alive_at_end: float
    car_steps: int
    seconds: float
    mutation_scale: float
    best_ever_fitness: float

    @property
    def best_index(self) -> int:
        """Index of the fittest individual (the lowest index among ties)."""
        return int(np.argmax(self.fitness))

    @property
    def best_fitness(self) -> float:
        """Fitness of the fittest individual."""
        return float(self.fitness[self.best_index])

    @property
    def mean_fitness(self) -> float:
        """Mean fitness of the population."""
        return float(self.fitness.mean())

    @property
    def best_laps(self) -> int:
        """Laps completed by the fittest individual (on every track)."""
        return int(self.laps[self.best_index])

    @property
    def car_steps_per_second(self) -> float:
        """Simulation speed of this generation (car-steps per wall-clock second)."""
        return self.car_steps / self.seconds if self.seconds > 0 else 0.0

    def log_row(self) -> dict[str, Any]:
        """The CSV log row: only values that are identical for identical runs (no timings)."""
        best = self.best_index
        row: dict[str, Any] = {
            "generation": self.generation,
            "best_fitness": repr(self.best_fitness),
            "mean_fitness": repr(self.mean_fitness),
            "best_laps": self.best_laps,
            "alive_at_end": repr(float(self.alive_at_end)),
            "mutation_scale": repr(self.mutation_scale),
            "best_ever_fitness": repr(self.best_ever_fitness),
        }
        for name in FITNESS_TERMS:
            row[f"best_{name}"] = repr(float(self.terms[name][best]))
        for name in FITNESS_TERMS:
            row[f"mean_{name}"] = repr(float(self.terms[name].mean()))
        return row


LOG_COLUMNS = [
    "generation",
    "best_fitness",
    "mean_fitness",
    "best_laps",
    "alive_at_end",
    "mutation_scale",
    "best_ever_fitness",
    *[f"best_{name}" for name in FITNESS_TERMS],
    *[f"mean_{name}" for name in FITNESS_TERMS],
]


class Reporter:
    """A hook into the evolution loop. Override what you need; `on_step` is only called if overridden."""

    def on_run_start(self, evolution: Neuroevolution) -> None:
        """The run starts (or resumes)."""

    def on_episode_start(self, evolution: Neuroevolution, world: World, track_index: int) -> None:
        """The population starts driving on one track."""

    def on_step(self, evolution: Neuroevolution, world: World, actions: np.ndarray) -> None:
        """One simulation step was taken (only for reporters that override this: it costs time)."""

    def on_generation(self, evolution: Neuroevolution, result: GenerationResult) -> None:
        """A generation was evaluated and the next one bred."""

    def on_run_end(self, evolution: Neuroevolution, outcome: str) -> None:
        """The run ends: 'target' (laps reached), 'generations' (budget spent), 'interrupted' (Ctrl-C),
        'closed' (the window was closed) or 'aborted' (restarted from the window, or an error)."""


@dataclass(frozen=True)
class RandomTracks:
    """Generated tracks added to every generation: `count` of them, difficulties cycling from 1 to
    `max_difficulty`; fresh ones each generation (derived from the run's seed and the generation number), or the
    same set throughout when `fixed`."""

    count: int = 0
    max_difficulty: int = MAX_DIFFICULTY
    fixed: bool = False

    def specs(self, run_seed: int, generation: int) -> list[tuple[int, int]]:
        """(seed, difficulty) of each generated track of a generation (numbered from 0)."""
        if self.fixed:
            generation = 0
        specs = []
        for index in range(self.count):
            seed = int(np.random.SeedSequence([run_seed, generation, index]).generate_state(1, np.uint64)[0])
            specs.append((seed & (2**63 - 1), 1 + (generation + index) % self.max_difficulty))
        return specs

    def check(self, physics: PhysicsConfig) -> None:
        """Fail with the reason if a difficulty these tracks use cannot suit the car (nothing to check without
        generated tracks)."""
        for difficulty in range(1, self.max_difficulty + 1 if self.count else 1):
            check_car_fits(difficulty, physics)

    def describe(self) -> list[str]:
        """How a log names these tracks: nothing, or one phrase."""
        if not self.count:
            return []
        kind = "the same" if self.fixed else "fresh"
        return [f"{self.count} generated tracks ({kind} each generation, difficulty 1-{self.max_difficulty})"]

    @property
    def fresh(self) -> bool:
        """True when the generated tracks change every generation."""
        return self.count > 0 and not self.fixed

    def to_dict(self) -> dict[str, Any]:
        """Plain values for checkpoints and model files."""
        return {"count": self.count, "max_difficulty": self.max_difficulty, "fixed": self.fixed}


@dataclass
class Neuroevolution:
    """The complete, resumable state of an evolution run.

    Each generation drives on every track in `tracks` and on the generated tracks of `random_tracks`.
    """

    config: Config
    tracks: list[Track]
    seed: int
    target_laps: int | None = None
    random_tracks: RandomTracks = field(default_factory=RandomTracks)
    generation: int = 0
    population: torch.Tensor = field(default=None)  # type: ignore[assignment]
    generator: torch.Generator = field(default=None)  # type: ignore[assignment]
    best_vector: torch.Tensor | None = None
    best_fitness: float = float("-inf")
    best_row: dict[str, Any] = field(default_factory=dict)
    best_generation: int = 0
    mutation_scale: float = 1.0
    stagnant_generations: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.network = build_network(
            len(self.config.sensors.angles_deg), self.config.policy.hidden_sizes, self.config.policy.activation
        )
        self.policy = PopulationPolicy(self.network)
        # Worlds are built when a generation first needs them, and again when the target laps change.
        self._track_worlds: tuple[int | None, list[World]] = (None, [])
        self._random_worlds: tuple[tuple[int | None, list[tuple[int, int]]], list[World]] = ((None, []), [])
        if self.generator is None:
            self.generator = torch.Generator().manual_seed(self.seed)
        if self.population is None:
            self.population = initial_population(
                self.config.evolution.population,
                self.policy.parameter_count,
                self.config.evolution.init_sigma,
                self.generator,
            )
        if not self.tracks and not self.random_tracks.count:
            raise ValueError("an evolution needs at least one track")

    def _world(self, track: Track) -> World:
        """A world for the population on `track`; with target laps, the drive lasts long enough to drive them."""
        episode = self.config.episode
        max_seconds = episode.max_seconds
        if self.target_laps is not None:
            max_seconds = max(max_seconds, time_for_laps(track, self.config.physics, self.target_laps))
        return World(
            track,
            self.config.physics,
            self.config.sensors,
            episode,
            self.config.evolution.population,
            max_seconds=max_seconds,
            target_laps=self.target_laps,
        )

    def generation_worlds(self) -> list[World]:
        """The worlds the current generation drives in: the given tracks, then this generation's generated ones."""
        if self._track_worlds[0] != self.target_laps or len(self._track_worlds[1]) != len(self.tracks):
            self._track_worlds = (self.target_laps, [self._world(track) for track in self.tracks])
        key = (self.target_laps, self.random_tracks.specs(self.seed, self.generation))
        if key != self._random_worlds[0]:
            tracks = [generate_track(seed, difficulty, self.config.physics)[0] for seed, difficulty in key[1]]
            self._random_worlds = (key, [self._world(track) for track in tracks])
        return self._track_worlds[1] + self._random_worlds[1]

    @classmethod
    def from_model(
        cls,
        config: Config,
        tracks: list[Track],
        seed: int,
        target_laps: int | None,
        vector: torch.Tensor,
        random_tracks: RandomTracks | None = None,
    ) -> Neuroevolution:
        """A run whose first population is a trained network (kept as is) and mutations of it."""
        generator = torch.Generator().manual_seed(seed)
        population = seeded_population(
            vector,
            config.evolution.population,
            config.evolution.mutation_sigma,
            config.evolution.mutation_rate,
            generator,
        )
        return cls(
            config,
            tracks,
            seed,
            target_laps,
            random_tracks or RandomTracks(),
            population=population,
            generator=generator,
        )

    def evaluate(self, reporters: list[Reporter]) -> GenerationResult:
        """Drive the current population on every track and score it (does not breed)."""
        started = time.perf_counter()
        stepping = [reporter for reporter in reporters if type(reporter).on_step is not Reporter.on_step]
        self.policy.set_parameters(self.population)
        per_track_terms: list[dict[str, np.ndarray]] = []
        per_track_laps: list[np.ndarray] = []
        alive: list[float] = []
        car_steps = 0
        for track_index, world in enumerate(self.generation_worlds()):
            observations = world.reset(self.seed)
            for reporter in reporters:
                reporter.on_episode_start(self, world, track_index)
            while not world.done:
                actions = self.policy.actions(observations)
                car_steps += int(world.state.driving.sum())
                observations = world.step(actions)
                for reporter in stepping:
                    reporter.on_step(self, world, actions)
            state = world.state
            per_track_terms.append(fitness_terms(state.progress_m, state.laps, state.crashed, state.time_s))
            per_track_laps.append(state.laps.copy())
            alive.append(float((~state.crashed & ~state.stalled).sum()))
        terms = {name: np.mean([terms[name] for terms in per_track_terms], axis=0) for name in FITNESS_TERMS}
        fitness = total_fitness(terms, self.config.fitness)
        return GenerationResult(
            generation=self.generation + 1,
            fitness=fitness,
            terms=terms,
            laps=np.min(per_track_laps, axis=0),
            alive_at_end=float(np.mean(alive)),
            car_steps=car_steps,
            seconds=time.perf_counter() - started,
            mutation_scale=self.mutation_scale,
            best_ever_fitness=self.best_fitness,
        )

    def advance(self, reporters: list[Reporter]) -> GenerationResult:
        """Evaluate this generation, remember the best policy ever, and breed the next generation."""
        result = self.evaluate(reporters)
        best = result.best_index
        improved = result.best_fitness > self.best_fitness
        fresh = self.random_tracks.fresh
        if improved:
            self.best_fitness = result.best_fitness
            self.stagnant_generations = 0
            self.mutation_scale = 1.0
        else:
            self.stagnant_generations += 1
            # Stalled: search wider rather than wiping the population; the elite keeps the best safe. Not on fresh
            # generated tracks: there a lower best fitness than before may only mean harder tracks.
            if not fresh and self.stagnant_generations % self.config.evolution.stagnation_generations == 0:
                self.mutation_scale = min(MAX_MUTATION_SCALE, self.mutation_scale * MUTATION_GROWTH)
        result.best_ever_fitness = self.best_fitness
        if improved or fresh:
            # On fresh generated tracks, fitness from different generations is not comparable (the tracks differ):
            # the model kept is the champion of the latest generation, which drove tracks it had never seen.
            self.best_vector = self.population[best].clone()
            self.best_row = result.log_row()
            self.best_generation = result.generation
        fitness = torch.from_numpy(result.fitness)
        self.population = next_generation(
            self.population, fitness, self.config.evolution, self.generator, self.mutation_scale
        )
        self.generation += 1
        self.history.append(result.log_row())
        return result

    def reached_target(self, result: GenerationResult) -> bool:
        """True when the best individual of `result` completed the target laps on every track (a car that did
        has the highest fitness: the others lost a lap bonus or progress somewhere)."""
        return self.target_laps is not None and result.best_laps >= self.target_laps

    def training_info(self) -> dict[str, Any]:
        """The `training` section of a model file saved from this run."""
        return {
            "method": "neuroevolution",
            "seed": self.seed,
            "tracks": [track.path for track in self.tracks],
            "track_names": [track.name for track in self.tracks],
            "random_tracks": self.random_tracks.to_dict(),
            "generations": self.generation,
            "target_laps": self.target_laps,
            "metrics": dict(self.best_row),
            "config": self.config.to_dict(),
        }

    def best_network(self) -> nn.Sequential:
        """A copy of the network with the best parameters found so far."""
        network = build_network(
            len(self.config.sensors.angles_deg), self.config.policy.hidden_sizes, self.config.policy.activation
        )
        vector = self.best_vector if self.best_vector is not None else self.population[0]
        return load_vector(network, vector)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit for bit (plain types and tensors: loadable with weights_only)."""
        return {
            "generation": self.generation,
            "population": self.population.clone(),
            "generator_state": self.generator.get_state(),
            "best_vector": None if self.best_vector is None else self.best_vector.clone(),
            "best_fitness": self.best_fitness,
            "best_row": dict(self.best_row),
            "best_generation": self.best_generation,
            "mutation_scale": self.mutation_scale,
            "stagnant_generations": self.stagnant_generations,
            "history": [dict(row) for row in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict`."""
        self.generation = int(state["generation"])
        self.population = state["population"].clone()
        self.generator = torch.Generator()
        self.generator.set_state(state["generator_state"])
        self.best_vector = None if state["best_vector"] is None else state["best_vector"].clone()
        self.best_fitness = float(state["best_fitness"])
        self.best_row = dict(state["best_row"])
        self.best_generation = int(state.get("best_generation", self.generation))
        self.mutation_scale = float(state["mutation_scale"])
        self.stagnant_generations = int(state["stagnant_generations"])
        self.history = [dict(row) for row in state["history"]]


def run_evolution(evolution: Neuroevolution, generations: int, reporters: list[Reporter]) -> str:
    """Evolve until `generations` have been run in total or the target laps are reached.

    Returns the outcome: 'target', 'generations', 'interrupted' (Ctrl-C) or the `outcome` attribute of the
    KeyboardInterrupt that stopped it (the window's 'closed'). Reporters are told in every case, so the best model
    and the last checkpoint are on disk before the caller exits; any other exception (a window restart) is passed
    on after they have been told ('aborted').
    """
    for reporter in reporters:
        reporter.on_run_start(evolution)
    outcome = "generations"
    try:
        while evolution.generation < generations:
            result = evolution.advance(reporters)
            for reporter in reporters:
                reporter.on_generation(evolution, result)
            if evolution.reached_target(result):
                outcome = "target"
                break
    except KeyboardInterrupt as stop:
        outcome = getattr(stop, "outcome", "interrupted")
    except BaseException:
        for reporter in reporters:
            reporter.on_run_end(evolution, "aborted")
        raise
    for reporter in reporters:
        reporter.on_run_end(evolution, outcome)
    return outcome
