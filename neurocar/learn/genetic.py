"""The genetic algorithm over flat parameter vectors: the first generation, elitism, tournament selection,
crossover, mutation and its schedule, gathered in `GeneticSearcher`.

Every random draw comes from the `torch.Generator` passed in, so a seed fixes the whole run. The best
individuals are copied unchanged into the next generation (elitism), so the best policy found is never lost.

**The first generation.** Readings lie in [0, 1] and the sigmoid's outputs in (0, 1). Weights drawn as plain
N(0, 1) noise, with biases of the same size, put most neurons far from the middle of their inputs' range: a small
weighted sum of inputs that barely move, next to a bias that decides alone. The hidden layer then hardly changes
with what the car sees, and the output biases pick the same action whatever happens: of 60 such 3-6-3 networks
about two thirds always choose one action and only one in eight ever steers both ways, so most of the first
generations' cars drive a fixed circle into a wall. `centred_population` draws each neuron's weights larger
(`init_sigma`) and sets its bias so the neuron sits at its zero when its inputs are at the centre of their range
(0.5 for readings; for a hidden layer, the activation's value at zero), plus a little noise. Every neuron then
reacts to its inputs, and nearly every network of the first generation steers one way or the other depending on
what its sensors read. The inputs and the network stay exactly as they are; only where the search starts changes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from neurocar.config import EvolutionConfig
from neurocar.learn.policy import linear_layers

READING_CENTRE = 0.5  # the middle of the sensor readings' range [0, 1]
BIAS_NOISE = 0.125  # the bias noise of the first generation, as a fraction of init_sigma
MAX_MUTATION_SCALE = 4.0
MUTATION_GROWTH = 1.5


def random_population(size: int, parameter_count: int, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """A (size, parameter_count) population of plain random vectors, every entry ~ N(0, sigma^2)."""
    return torch.randn(size, parameter_count, generator=generator, dtype=torch.float32) * sigma


def centred_population(size: int, network: nn.Sequential, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """A (size, n_parameters) first generation whose neurons all react to their inputs (see the module docstring):
    weights ~ N(0, sigma^2), each bias -w . centre + N(0, (sigma * BIAS_NOISE)^2), where `centre` is 0.5 for the
    readings and the activation's value at zero for the inputs of a later layer."""
    count = sum(parameter.numel() for parameter in network.parameters())
    population = torch.empty(size, count, dtype=torch.float32)
    centre = READING_CENTRE
    for weights, bias, outputs, inputs, activation in linear_layers(network):
        weight = torch.randn(size, outputs, inputs, generator=generator, dtype=torch.float32) * sigma
        noise = torch.randn(size, outputs, generator=generator, dtype=torch.float32) * (sigma * BIAS_NOISE)
        population[:, weights] = weight.reshape(size, -1)
        population[:, bias] = noise - weight.sum(dim=2) * centre
        if activation is not None:
            centre = float(activation(torch.zeros(1))[0])
    return population


def seeded_population(
    vector: torch.Tensor, size: int, sigma: float, mutation_rate: float, generator: torch.Generator
) -> torch.Tensor:
    """A population grown from one network: row 0 is the network itself, the rest are mutations of it."""
    base = vector.to(torch.float32).reshape(1, -1).repeat(size, 1)
    mutated = mutate(base[1:], sigma, mutation_rate, generator)
    return torch.cat([base[:1], mutated])


def mutate(population: torch.Tensor, sigma: float, rate: float, generator: torch.Generator) -> torch.Tensor:
    """Add N(0, sigma^2) noise to each weight with probability `rate`."""
    chosen = torch.rand(population.shape, generator=generator) < rate
    noise = torch.randn(population.shape, generator=generator) * sigma
    return population + chosen * noise


def rank(fitness: torch.Tensor) -> torch.Tensor:
    """Indices from best to worst; ties keep the lower index first, so ranking is deterministic."""
    return torch.argsort(fitness, descending=True, stable=True)


def next_generation(
    population: torch.Tensor,
    fitness: torch.Tensor,
    config: EvolutionConfig,
    generator: torch.Generator,
    mutation_scale: float = 1.0,
) -> torch.Tensor:
    """Breed the next population: the elite unchanged, then children of tournament winners."""
    size = population.shape[0]
    order = rank(fitness)
    elite = population[order[: config.elite]]
    children = size - config.elite
    contestants = torch.randint(0, size, (children, 2, config.tournament_size), generator=generator)
    winner_position = fitness[contestants].argmax(dim=2, keepdim=True)
    parents = torch.gather(contestants, 2, winner_position).squeeze(2)
    first, second = population[parents[:, 0]], population[parents[:, 1]]
    crossing = torch.rand(children, 1, generator=generator) < config.crossover_rate
    from_second = torch.rand(first.shape, generator=generator) < 0.5
    child = torch.where(crossing & from_second, second, first)
    child = mutate(child, config.mutation_sigma * mutation_scale, config.mutation_rate, generator)
    return torch.cat([elite, child])


class GeneticSearcher:
    """The search itself: a population, its random generator, and the mutation schedule.

    `population` is the generation to evaluate; `tell(fitness)` breeds the next one from the fitness of this one.
    When no generation beats the best fitness seen for `stagnation_generations` in a row, mutations grow by
    `MUTATION_GROWTH` (up to `MAX_MUTATION_SCALE` times `mutation_sigma`), searching wider rather than wiping the
    population; a new best resets them. The searcher knows nothing about cars or tracks.
    """

    def __init__(self, config: EvolutionConfig, population: torch.Tensor, generator: torch.Generator) -> None:
        self.config = config
        self.population = population
        self.generator = generator
        self.best_fitness = float("-inf")
        self.mutation_scale = 1.0
        self.stagnant_generations = 0

    @classmethod
    def fresh(cls, config: EvolutionConfig, network: nn.Sequential, seed: int) -> GeneticSearcher:
        """A search from a centred first generation (see `centred_population`), seeded by `seed`."""
        generator = torch.Generator().manual_seed(seed)
        return cls(config, centred_population(config.population, network, config.init_sigma, generator), generator)

    @classmethod
    def from_vector(cls, config: EvolutionConfig, vector: torch.Tensor, seed: int) -> GeneticSearcher:
        """A search whose first generation is one network (kept as is) and mutations of it."""
        generator = torch.Generator().manual_seed(seed)
        population = seeded_population(
            vector, config.population, config.mutation_sigma, config.mutation_rate, generator
        )
        return cls(config, population, generator)

    def tell(self, fitness: torch.Tensor, comparable: bool = True) -> bool:
        """Breed the next generation from this one's fitness (P,); returns True if it beat the best seen.

        `comparable` is False when this generation was scored on other tasks than the ones before (fresh generated
        tracks): a lower fitness may then only mean harder tracks, so it does not count as stagnation.
        """
        best = float(fitness.max())
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
        """Everything needed to continue the search bit for bit (tensors and plain numbers)."""
        return {
            "population": self.population.clone(),
            "generator_state": self.generator.get_state(),
            "best_fitness": self.best_fitness,
            "mutation_scale": self.mutation_scale,
            "stagnant_generations": self.stagnant_generations,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict`."""
        self.population = state["population"].clone()
        self.generator = torch.Generator()
        self.generator.set_state(state["generator_state"])
        self.best_fitness = float(state["best_fitness"])
        self.mutation_scale = float(state["mutation_scale"])
        self.stagnant_generations = int(state["stagnant_generations"])
