"""The genetic algorithm: elitism, seeding, and the operators doing nothing when switched off."""

from __future__ import annotations

import dataclasses

import torch

from neurocar.learn.genetic import mutate, next_generation, random_population, rank, seeded_population


def setup(config, seed=0, size=20, **changes):
    evolution = dataclasses.replace(config.evolution, population=size, **changes)
    generator = torch.Generator().manual_seed(seed)
    population = random_population(size, 45, 1.0, generator)
    fitness = torch.randn(size, generator=generator, dtype=torch.float64)
    return evolution, population, fitness


def test_elite_rows_are_kept_unchanged_in_rank_order(config):
    evolution, population, fitness = setup(config, elite=4)
    children = next_generation(population, fitness, evolution, torch.Generator().manual_seed(1))
    assert children.shape == population.shape
    best = torch.argsort(fitness, descending=True)[:4]
    assert torch.equal(children[:4], population[best])
    assert not torch.equal(children[4:], population[4:])


def test_same_generator_seed_same_next_generation(config):
    evolution, population, fitness = setup(config)
    first = next_generation(population, fitness, evolution, torch.Generator().manual_seed(5))
    second = next_generation(population, fitness, evolution, torch.Generator().manual_seed(5))
    other = next_generation(population, fitness, evolution, torch.Generator().manual_seed(6))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_no_mutation_no_crossover_children_are_copies_of_parents(config):
    evolution, population, fitness = setup(config, crossover_rate=0.0, mutation_rate=0.0)
    children = next_generation(population, fitness, evolution, torch.Generator().manual_seed(2))
    for child in children:
        assert (child == population).all(dim=1).any()


def test_crossover_without_mutation_mixes_weights_of_two_parents(config):
    evolution, population, fitness = setup(config, crossover_rate=1.0, mutation_rate=0.0)
    children = next_generation(population, fitness, evolution, torch.Generator().manual_seed(3))
    for child in children[evolution.elite :]:
        # Every weight comes from some parent at the same position.
        assert (child[None] == population).any(dim=0).all()


def test_tournament_selection_favours_the_fit(config):
    evolution, population, _ = setup(config, size=200, crossover_rate=0.0, mutation_rate=0.0, tournament_size=3)
    fitness = torch.arange(200, dtype=torch.float64)  # row i has fitness i
    children = next_generation(population, fitness, evolution, torch.Generator().manual_seed(4))
    parent = [int(torch.nonzero((child == population).all(dim=1))[0]) for child in children[evolution.elite :]]
    assert sum(parent) / len(parent) > 120  # uniform picking would average 100; best of 3 averages 150


def test_mutation_rate_and_sigma():
    population = torch.zeros(100, 45)
    mutated = mutate(population, 2.0, 0.25, torch.Generator().manual_seed(0))
    changed = mutated != 0
    assert 0.2 < changed.float().mean() < 0.3
    assert 1.8 < mutated[changed].std() < 2.2
    assert torch.equal(mutate(population, 2.0, 0.0, torch.Generator().manual_seed(0)), population)


def test_rank_is_stable_for_ties():
    assert rank(torch.tensor([1.0, 3.0, 3.0, 0.0])).tolist() == [1, 2, 0, 3]


def test_seeded_population_keeps_the_model_as_row_zero():
    vector = torch.arange(45, dtype=torch.float32)
    population = seeded_population(vector, 10, 0.5, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(population[0], vector)
    assert population.shape == (10, 45) and not torch.equal(population[1], vector)
