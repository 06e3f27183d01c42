"""The genetic algorithm over flat parameter vectors: elitism, tournament selection, crossover, mutation.

Every random draw comes from the `torch.Generator` passed in, so a seed fixes the whole run. The best
individuals are copied unchanged into the next generation (elitism), so the best policy found is never lost.
"""

from __future__ import annotations

import torch

from neurocar.config import EvolutionConfig


def initial_population(size: int, parameter_count: int, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """A (size, parameter_count) population of random networks, weights ~ N(0, sigma^2)."""
    return torch.randn(size, parameter_count, generator=generator, dtype=torch.float32) * sigma


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
