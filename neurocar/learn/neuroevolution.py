"""Neuroevolution: a population of policies drives, the fittest breed, generation after generation.

A run is three parts: the `DrivingProblem` (drive a population on tracks, score it), the `GeneticSearcher`
(population, random generator, elitism, mutation schedule) and `Neuroevolution`, the run state that joins them
with everything a run needs to continue exactly where it stopped: its tracks and their texts, its total
generations, the best policy so far and the history. The caller owns the loop: `step()` advances one simulation
step and `step_generation()` one generation; when the run is over, `outcome` says why (a `RunOutcome`). The
headless command is a plain loop over `step_generation()` that tells its `Reporter`s; the window calls `step()` as
its frame budget allows.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from neurocar.config import Config, PhysicsConfig
from neurocar.learn.genetic import GeneticSearcher
from neurocar.learn.policy import PopulationPolicy, as_rows, build_network, load_vector
from neurocar.learn.problem import DrivingProblem
from neurocar.learn.runs import Reporter, RunOutcome
from neurocar.sim.fitness import FITNESS_TERMS
from neurocar.sim.generator import MAX_DIFFICULTY, check_car_fits, generate_track
from neurocar.sim.track import Track
from neurocar.sim.world import World

if TYPE_CHECKING:
    import torch
    from torch import nn

UNLIMITED_GENERATIONS = sys.maxsize  # a window evolves until it is closed


# On fresh generated tracks, the target counts once one network, the champion kept as each generation's first, has
# driven it on tracks new to it this many generations in a row (see `Neuroevolution.reached_target`). With the
# recipe's 5 tracks a generation that is 40 tracks, 8 of each difficulty: fewer let some runs stop with a driver
# that had not yet met the narrowest roads.
HELD_OUT_GENERATIONS = 8


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
        """The history row, as numbers (formatted where written): only values identical for identical runs."""
        best = self.best_index
        row: dict[str, Any] = {
            "generation": self.generation,
            "best_fitness": self.best_fitness,
            "mean_fitness": self.mean_fitness,
            "best_laps": self.best_laps,
            "alive_at_end": float(self.alive_at_end),
            "mutation_scale": float(self.mutation_scale),
            "best_ever_fitness": float(self.best_ever_fitness),
        }
        for name in FITNESS_TERMS:
            row[f"best_{name}"] = float(self.terms[name][best])
        for name in FITNESS_TERMS:
            row[f"mean_{name}"] = float(self.terms[name].mean())
        return row

    def console_line(self, total: int) -> str:
        """The console's line for this generation (`total`: the run's generations)."""
        # With several tracks, cars alive is the mean over the tracks.
        alive = f"{self.alive_at_end:g}" if float(self.alive_at_end).is_integer() else f"{self.alive_at_end:.1f}"
        return (
            f"gen {self.generation:>4}/{total}  best {self.best_fitness:9.1f}  "
            f"mean {self.mean_fitness:9.1f}  laps {self.best_laps}  "
            f"alive {alive}/{len(self.fitness)}  {self.car_steps_per_second:>9,.0f} car-steps/s"
        )


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


class Neuroevolution:
    """The complete, resumable state of an evolution run, advanced by its caller.

    Each generation drives on every track in `tracks` and on the generated tracks of `random_tracks`.
    `track_texts` are the tracks' YAML texts (what a checkpoint keeps), `generations` the run's total.
    """

    unit = "generation"
    command = "evolve"
    log_columns = LOG_COLUMNS

    def __init__(
        self,
        config: Config,
        tracks: list[Track],
        seed: int,
        target_laps: int | None = None,
        random_tracks: RandomTracks | None = None,
        *,
        generations: int | None = None,
        track_texts: list[str] | None = None,
        initial_vector: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        self.config = config
        self.tracks = list(tracks)
        self.seed = seed
        self.random_tracks = random_tracks or RandomTracks()
        if not self.tracks and not self.random_tracks.count:
            raise ValueError("an evolution needs at least one track")
        self.generations = generations or config.evolution.generations
        self.track_texts = list(track_texts) if track_texts is not None else [t.source_text for t in self.tracks]
        self.problem = DrivingProblem(config, target_laps)
        if initial_vector is None:
            self.searcher = GeneticSearcher.fresh(config.evolution, self.problem.layout, seed)
        else:
            self.searcher = GeneticSearcher.from_vector(config.evolution, as_rows(initial_vector), seed)
        self.generation = 0
        self.best_vector: np.ndarray | None = None
        self.best_row: dict[str, Any] = {}
        self.best_generation = 0
        self.history: list[dict[str, Any]] = []
        self.outcome: RunOutcome | None = None
        self.held_out_vector: np.ndarray | None = None
        self.held_out_generations = 0
        self._random: tuple[list[tuple[int, int]], list[Track]] = ([], [])
        self._drive_started = 0.0

    @classmethod
    def from_model(
        cls,
        config: Config,
        tracks: list[Track],
        seed: int,
        target_laps: int | None,
        vector: np.ndarray | torch.Tensor,
        random_tracks: RandomTracks | None = None,
        **options: Any,
    ) -> Neuroevolution:
        """A run whose first population is a trained network (kept as is) and mutations of it."""
        return cls(config, tracks, seed, target_laps, random_tracks, initial_vector=vector, **options)

    # --- the parts ----------------------------------------------------------------------------------------------

    @property
    def target_laps(self) -> int | None:
        """Laps that end the run once the best car drove them on every track (None: run all generations)."""
        return self.problem.target_laps

    @target_laps.setter
    def target_laps(self, laps: int | None) -> None:
        self.problem.target_laps = laps

    @property
    def population(self) -> np.ndarray:
        """The generation being evaluated, (P, n_parameters)."""
        return self.searcher.population

    @population.setter
    def population(self, population: np.ndarray) -> None:
        self.searcher.population = population

    @property
    def best_fitness(self) -> float:
        """The best fitness of any generation so far (-inf before the first)."""
        return self.searcher.best_fitness

    @property
    def mutation_scale(self) -> float:
        """How much wider than `mutation_sigma` the search currently mutates."""
        return self.searcher.mutation_scale

    @property
    def policy(self) -> PopulationPolicy:
        """The batched policy driving the current generation."""
        return self.problem.policy

    @property
    def world(self) -> World | None:
        """The batched world the current generation drives in (every track; car k on track k // population)."""
        return self.problem.world

    def generation_tracks(self) -> list[Track]:
        """The tracks the current generation drives: the given ones, then this generation's generated ones."""
        specs = self.random_tracks.specs(self.seed, self.generation)
        if specs != self._random[0]:
            self._random = (specs, [generate_track(seed, level, self.config.physics)[0] for seed, level in specs])
        return self.tracks + self._random[1]

    @property
    def completed(self) -> int:
        """Generations done."""
        return self.generation

    @property
    def total(self) -> int:
        """The run's total generations."""
        return self.generations

    @property
    def best_at(self) -> int:
        """The generation whose champion is the kept best (0 before any)."""
        return self.best_generation

    def heading(self) -> str:
        """The line that says what is being trained."""
        tracks = ", ".join([track.name for track in self.tracks] + self.random_tracks.describe())
        resumed = f", resuming after generation {self.generation}" if self.generation else ""
        target = f", until {self.target_laps} lap(s)" if self.target_laps else ""
        return f"evolving {self.config.evolution.population} cars on {tracks} (seed {self.seed}{target}{resumed})"

    def chart_series(self) -> tuple[str, dict[str, list[float]]]:
        """The fitness chart: best and mean fitness per generation."""
        title = f"Fitness per generation - {', '.join(track.name for track in self.tracks)}"
        return title, {
            "best": [float(row["best_fitness"]) for row in self.history],
            "mean": [float(row["mean_fitness"]) for row in self.history],
        }

    # --- stepping -----------------------------------------------------------------------------------------------

    def step(self) -> GenerationResult | None:
        """One simulation step of the current generation's drive (starting it if needed). When that step ends the
        drive, the generation is scored, the next one bred, and its result returned; otherwise None."""
        if self.outcome is not None:
            raise RuntimeError(f"the run has ended ({self.outcome.value})")
        if not self.problem.running:
            self.start_drive()
        if not self.problem.step():
            return None
        return self._end_generation()

    def step_generation(self) -> GenerationResult:
        """Drive the rest of the current generation, score it and breed the next."""
        while (result := self.step()) is None:
            pass
        return result

    def start_drive(self) -> None:
        """Put the current generation on the start lines (done by `step` when needed; a window calls it to show
        the cars before the first step)."""
        self.problem.start(self.population, self.generation_tracks())
        self._drive_started = time.perf_counter()

    def evaluate(self) -> GenerationResult:
        """Drive the current population and score it without breeding or changing the run."""
        evaluation = self.problem.evaluate(self.population, self.generation_tracks())
        return self._result(evaluation, 0.0)

    def stop(self, outcome: RunOutcome) -> None:
        """End the run from outside (Ctrl-C, a closed window); a generation that was driving is dropped."""
        self.outcome = outcome
        self.problem.running = False

    def _result(self, evaluation: Any, seconds: float) -> GenerationResult:
        return GenerationResult(
            generation=self.generation + 1,
            fitness=evaluation.fitness,
            terms=evaluation.terms,
            laps=evaluation.laps,
            alive_at_end=evaluation.alive_at_end,
            car_steps=evaluation.car_steps,
            seconds=seconds,
            mutation_scale=self.mutation_scale,
            best_ever_fitness=self.best_fitness,
        )

    def _end_generation(self) -> GenerationResult:
        """Score the drive that ended, remember the best policy, breed the next generation, decide the outcome."""
        result = self._result(self.problem.evaluation(), time.perf_counter() - self._drive_started)
        fresh = self.random_tracks.fresh
        best = self.population[result.best_index].copy()
        first = self.population[0].copy()
        improved = self.searcher.tell(result.fitness, comparable=not fresh)
        result.best_ever_fitness = self.best_fitness
        if improved or fresh:
            # On fresh generated tracks, fitness from different generations is not comparable (the tracks differ):
            # the model kept is the champion of the latest generation, which drove tracks it had never seen.
            self.best_vector = best
            self.best_row = result.log_row()
            self.best_generation = result.generation
        self.generation += 1
        self.history.append(result.log_row())
        if fresh and self.target_laps is not None:
            self._record_held_out(first, int(result.laps[0]) >= self.target_laps)
        if self.reached_target(result):
            self.outcome = RunOutcome.TARGET_REACHED
            if fresh:
                self.best_vector = first  # the network that proved itself on new tracks
        elif self.generation >= self.generations:
            self.outcome = RunOutcome.FINISHED
        return result

    def _record_held_out(self, first: np.ndarray, lapped: bool) -> None:
        """Count the generations in a row in which the same first network drove the target laps on fresh tracks
        (a new champion starts again from one)."""
        if not lapped:
            self.held_out_generations, self.held_out_vector = 0, None
            return
        same = self.held_out_vector is not None and np.array_equal(first, self.held_out_vector)
        self.held_out_generations = self.held_out_generations + 1 if same else 1
        self.held_out_vector = first

    def reached_target(self, result: GenerationResult) -> bool:
        """True when the target laps were driven on every track of `result`'s generation.

        On given tracks, by its best individual (a car that did has the highest fitness: the others lost a lap
        bonus or progress somewhere). On fresh generated tracks, by its first individual, the same network in
        HELD_OUT_GENERATIONS generations in a row: that is the previous generation's champion, kept unchanged as the
        first elite (in the first generation, a network nobody chose), driving tracks it was never selected on. A
        champion that lapped the very tracks it was picked on may only have been the luckiest of the population
        there; one that keeps lapping new tracks, of every difficulty, has learnt to drive. (Every car that drove
        the target laps scores the same progress, so a champion keeps its place while it keeps lapping.)
        """
        if self.target_laps is None:
            return False
        if self.random_tracks.fresh:
            return self.held_out_generations >= HELD_OUT_GENERATIONS
        return result.best_laps >= self.target_laps

    # --- what is kept -------------------------------------------------------------------------------------------

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

    @property
    def kept_vector(self) -> np.ndarray:
        """The best parameters found so far (before the first generation, the first individual's)."""
        return self.best_vector if self.best_vector is not None else self.population[0]

    def best_state_dict(self) -> dict[str, np.ndarray]:
        """The best parameters found so far as the network's state_dict (numpy arrays: saving needs no torch)."""
        return self.problem.layout.state_dict(self.kept_vector)

    def best_network(self) -> nn.Sequential:
        """A copy of the network with the best parameters found so far (imports torch)."""
        layout = self.problem.layout
        return load_vector(build_network(layout.input_size, layout.hidden_sizes, layout.activation), self.kept_vector)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit for bit from the start of the current generation (plain types and
        arrays: loadable with weights_only). A generation still driving is not part of it."""
        return {
            "generation": self.generation,
            **self.searcher.state_dict(),
            "best_vector": None if self.best_vector is None else self.best_vector.copy(),
            "best_row": dict(self.best_row),
            "best_generation": self.best_generation,
            "history": [dict(row) for row in self.history],
            "held_out_vector": None if self.held_out_vector is None else self.held_out_vector.copy(),
            "held_out_generations": self.held_out_generations,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict`."""
        self.generation = int(state["generation"])
        self.searcher.load_state_dict(state)
        self.best_vector = None if state["best_vector"] is None else as_rows(state["best_vector"]).copy()
        self.best_row = dict(state["best_row"])
        self.best_generation = int(state.get("best_generation", self.generation))
        self.history = [dict(row) for row in state["history"]]
        held_out = state.get("held_out_vector")
        self.held_out_vector = None if held_out is None else as_rows(held_out).copy()
        self.held_out_generations = int(state.get("held_out_generations", 0))
        self.problem.running = False
        self.outcome = None


def run_evolution(evolution: Neuroevolution, reporters: list[Reporter] | None = None) -> RunOutcome:
    """Step `evolution` a generation at a time until it ends, telling the reporters; returns the outcome.

    A KeyboardInterrupt is not caught here: the command that owns the terminal catches it, calls
    `evolution.stop(RunOutcome.INTERRUPTED)` and tells the reporters `on_run_end`, which save.
    """
    reporters = reporters or []
    for reporter in reporters:
        reporter.on_run_start(evolution)
    while evolution.outcome is None:
        result = evolution.step_generation()
        for reporter in reporters:
            reporter.on_result(evolution, result)
    for reporter in reporters:
        reporter.on_run_end(evolution, evolution.outcome)
    return evolution.outcome
