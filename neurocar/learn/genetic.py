"""The genetic algorithm over flat parameter vectors: the first generation, elitism, tournament selection,
crossover, mutation and its schedule, gathered in `GeneticSearcher`.

Every random draw comes from the `numpy.random.Generator` passed in, so a seed fixes the whole run (populations
are float32 arrays; nothing here imports torch). The best
individuals are copied unchanged into the next generation (elitism), so the best policy found is never lost.

**The first generation.** Readings lie in [0, 1] and the sigmoid's outputs in (0, 1). Weights drawn as plain
N(0, 1) noise, with biases of the same size, put most neurons far from the middle of their inputs' range: a small
weighted sum of inputs that barely move, next to a bias that decides alone. The hidden layer then hardly changes
with what the car sees, and the output biases pick the same action whatever happens: of 60 such 3-6-3 networks
about three quarters always choose one action and only one in ten ever steers both ways, so most of the first
generations' cars drive a fixed circle into a wall. `centred_population` draws each neuron's weights larger
(`init_sigma`) and sets its bias so the neuron sits at its zero when its inputs are at the centre of their range
(0.5 for readings; for a hidden layer, the activation's value at zero), plus a little noise. Every neuron then
reacts to its inputs, and nearly every network of the first generation steers one way or the other depending on
what its sensors read. The inputs and the network stay exactly as they are; only where the search starts changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocar.config import EvolutionConfig
from neurocar.learn.policy import ACTIVATION_AT_ZERO, NetworkLayout, as_rows

READING_CENTRE = 0.5  # the middle of the sensor readings' range [0, 1]
BIAS_NOISE = 0.125  # the bias noise of the first generation, as a fraction of init_sigma
MAX_MUTATION_SCALE = 4.0
MUTATION_GROWTH = 1.5
GENERATOR = "PCG64"  # numpy's default bit generator, the one a checkpoint can restore


def normal(generator: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """float32 N(0, sigma^2) draws."""
    return generator.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def random_population(size: int, parameter_count: int, sigma: float, generator: np.random.Generator) -> np.ndarray:
    """A (size, parameter_count) population of plain random vectors, every entry ~ N(0, sigma^2)."""
    return normal(generator, (size, parameter_count), sigma)


def centred_population(size: int, layout: NetworkLayout, sigma: float, generator: np.random.Generator) -> np.ndarray:
    """A (size, n_parameters) first generation whose neurons all react to their inputs (see the module docstring):
    weights ~ N(0, sigma^2), each bias -w . centre + N(0, (sigma * BIAS_NOISE)^2), where `centre` is 0.5 for the
    readings and the activation's value at zero for the inputs of a later layer."""
    population = np.empty((size, layout.parameter_count), dtype=np.float32)
    centre = READING_CENTRE
    for slot in layout.linear_layers():
        weight = normal(generator, (size, slot.outputs, slot.inputs), sigma)
        noise = normal(generator, (size, slot.outputs), sigma * BIAS_NOISE)
        population[:, slot.weights] = weight.reshape(size, -1)
        population[:, slot.bias] = noise - weight.sum(axis=2) * np.float32(centre)
        if slot.activation is not None:
            centre = ACTIVATION_AT_ZERO[slot.activation]
    return population


def seeded_population(
    vector: np.ndarray, size: int, sigma: float, mutation_rate: float, generator: np.random.Generator
) -> np.ndarray:
    """A population grown from one network: row 0 is the network itself, the rest are mutations of it."""
    base = np.repeat(as_rows(vector).reshape(1, -1), size, axis=0)
    mutated = mutate(base[1:], sigma, mutation_rate, generator)
    return np.concatenate([base[:1], mutated])


def mutate(population: np.ndarray, sigma: float, rate: float, generator: np.random.Generator) -> np.ndarray:
    """Add N(0, sigma^2) noise to each weight with probability `rate`."""
    chosen = generator.random(population.shape) < rate
    noise = normal(generator, population.shape, sigma)
    return population + chosen * noise


def rank(fitness: np.ndarray) -> np.ndarray:
    """Indices from best to worst; ties keep the lower index first, so ranking is deterministic."""
    return np.argsort(-np.asarray(fitness, dtype=np.float64), kind="stable")


def next_generation(
    population: np.ndarray,
    fitness: np.ndarray,
    config: EvolutionConfig,
    generator: np.random.Generator,
    mutation_scale: float = 1.0,
) -> np.ndarray:
    """Breed the next population: the elite unchanged, then children of tournament winners."""
    size = population.shape[0]
    fitness = np.asarray(fitness, dtype=np.float64)
    order = rank(fitness)
    elite = population[order[: config.elite]]
    children = size - config.elite
    contestants = generator.integers(0, size, (children, 2, config.tournament_size))
    winner_position = fitness[contestants].argmax(axis=2)[..., np.newaxis]
    parents = np.take_along_axis(contestants, winner_position, axis=2)[..., 0]
    first, second = population[parents[:, 0]], population[parents[:, 1]]
    crossing = generator.random((children, 1)) < config.crossover_rate
    from_second = generator.random(first.shape) < 0.5
    child = np.where(crossing & from_second, second, first)
    child = mutate(child, config.mutation_sigma * mutation_scale, config.mutation_rate, generator)
    return np.concatenate([elite, child]).astype(np.float32, copy=False)


def generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """The generator's state as plain values (its two 128-bit numbers as decimal text), for a checkpoint."""
    state = generator.bit_generator.state
    return {
        "bit_generator": state["bit_generator"],
        "state": str(state["state"]["state"]),
        "inc": str(state["state"]["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def restore_generator(saved: dict[str, Any]) -> np.random.Generator:
    """A generator in a state saved by `generator_state` (a ValueError if it is not one)."""
    if saved.get("bit_generator") != GENERATOR:
        raise ValueError(f"the random generator is {saved.get('bit_generator')!r}, not {GENERATOR}")
    numbers = []
    for key in ("state", "inc"):
        text = saved.get(key)
        if not isinstance(text, str) or not text.isdigit() or len(text) > 39 or int(text) >= 2**128:
            raise ValueError(f"the random generator's {key} is not a 128-bit number")
        numbers.append(int(text))
    bit_generator = np.random.PCG64()
    bit_generator.state = {
        "bit_generator": GENERATOR,
        "state": {"state": numbers[0], "inc": numbers[1]},
        "has_uint32": int(saved.get("has_uint32", 0)) & 1,
        "uinteger": int(saved.get("uinteger", 0)) & 0xFFFFFFFF,
    }
    return np.random.Generator(bit_generator)


class GeneticSearcher:
    """The search itself: a population, its random generator, and the mutation schedule.

    `population` is the generation to evaluate; `tell(fitness)` breeds the next one from the fitness of this one.
    When no generation beats the best fitness seen for `stagnation_generations` in a row, mutations grow by
    `MUTATION_GROWTH` (up to `MAX_MUTATION_SCALE` times `mutation_sigma`), searching wider rather than wiping the
    population; a new best resets them. The searcher knows nothing about cars or tracks.
    """

    def __init__(self, config: EvolutionConfig, population: np.ndarray, generator: np.random.Generator) -> None:
        self.config = config
        self.population = population
        self.generator = generator
        self.best_fitness = float("-inf")
        self.mutation_scale = 1.0
        self.stagnant_generations = 0

    @classmethod
    def fresh(cls, config: EvolutionConfig, layout: NetworkLayout, seed: int) -> GeneticSearcher:
        """A search from a centred first generation (see `centred_population`), seeded by `seed`."""
        generator = np.random.default_rng(seed)
        return cls(config, centred_population(config.population, layout, config.init_sigma, generator), generator)

    @classmethod
    def from_vector(cls, config: EvolutionConfig, vector: np.ndarray, seed: int) -> GeneticSearcher:
        """A search whose first generation is one network (kept as is) and mutations of it."""
        generator = np.random.default_rng(seed)
        population = seeded_population(
            vector, config.population, config.mutation_sigma, config.mutation_rate, generator
        )
        return cls(config, population, generator)

    def tell(self, fitness: np.ndarray, comparable: bool = True) -> bool:
        """Breed the next generation from this one's fitness (P,); returns True if it beat the best seen.

        `comparable` is False when this generation was scored on other tasks than the ones before (fresh generated
        tracks): a lower fitness may then only mean harder tracks, so it does not count as stagnation.
        """
        best = float(np.max(fitness))
        improved = best > self.best_fitness
        if improved:
            self.best_fitness = best
            self.stagnant_generations = 0
            self.mutation_scale = 1.0
        else:
            self.stagnant_generations += 1
            if comparable and self.stagnant_generations % self.config.stagnation_generations == 0:
                self.mutation_scale = min(MAX_MUTATION_SCALE, self.mutation_scale * MUTATION_GROWTH)
        self.population = next_generation(self.population, fitness, self.config, self.generator, self.mutation_scale)
        return improved

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the search bit for bit (arrays and plain values)."""
        return {
            "population": self.population.copy(),
            "generator_state": generator_state(self.generator),
            "best_fitness": self.best_fitness,
            "mutation_scale": self.mutation_scale,
            "stagnant_generations": self.stagnant_generations,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict` (arrays may come back as torch tensors from a file)."""
        self.population = as_rows(state["population"])
        self.generator = restore_generator(state["generator_state"])
        self.best_fitness = float(state["best_fitness"])
        self.mutation_scale = float(state["mutation_scale"])
        self.stagnant_generations = int(state["stagnant_generations"])
