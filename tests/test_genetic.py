"""The genetic algorithm: elitism, seeding, the first generation, the operators doing nothing when switched off,
and the random generator's state surviving a checkpoint."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurocar.learn.genetic import (
    centred_population,
    generator_state,
    mutate,
    next_generation,
    random_population,
    rank,
    restore_generator,
    seeded_population,
)
from neurocar.learn.policy import NetworkLayout, PopulationPolicy


def setup(config, seed=0, size=20, **changes):
    evolution = dataclasses.replace(config.evolution, population=size, **changes)
    generator = np.random.default_rng(seed)
    population = random_population(size, 45, 1.0, generator)
    fitness = generator.standard_normal(size)
    return evolution, population, fitness


def test_elite_rows_are_kept_unchanged_in_rank_order(config):
    evolution, population, fitness = setup(config, elite=4)
    children = next_generation(population, fitness, evolution, np.random.default_rng(1))
    assert children.shape == population.shape and children.dtype == np.float32
    best = np.argsort(-fitness)[:4]
    assert np.array_equal(children[:4], population[best])
    assert not np.array_equal(children[4:], population[4:])


def test_same_generator_seed_same_next_generation(config):
    evolution, population, fitness = setup(config)
    first = next_generation(population, fitness, evolution, np.random.default_rng(5))
    second = next_generation(population, fitness, evolution, np.random.default_rng(5))
    other = next_generation(population, fitness, evolution, np.random.default_rng(6))
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_no_mutation_no_crossover_children_are_copies_of_parents(config):
    evolution, population, fitness = setup(config, crossover_rate=0.0, mutation_rate=0.0)
    children = next_generation(population, fitness, evolution, np.random.default_rng(2))
    for child in children:
        assert (child == population).all(axis=1).any()


def test_crossover_without_mutation_mixes_weights_of_two_parents(config):
    evolution, population, fitness = setup(config, crossover_rate=1.0, mutation_rate=0.0)
    children = next_generation(population, fitness, evolution, np.random.default_rng(3))
    mixed = 0
    for child in children[evolution.elite :]:
        # Every weight comes from some parent at the same position.
        assert (child[None] == population).any(axis=0).all()
        mixed += not (child == population).all(axis=1).any()
    assert mixed > 0  # and some children are no single parent's copy


def test_tournament_selection_favours_the_fit(config):
    evolution, population, _ = setup(config, size=200, crossover_rate=0.0, mutation_rate=0.0, tournament_size=3)
    fitness = np.arange(200, dtype=np.float64)  # row i has fitness i
    children = next_generation(population, fitness, evolution, np.random.default_rng(4))
    parent = [int(np.flatnonzero((child == population).all(axis=1))[0]) for child in children[evolution.elite :]]
    assert sum(parent) / len(parent) > 120  # uniform picking would average 100; best of 3 averages 150


def test_mutation_rate_and_sigma():
    population = np.zeros((100, 45), dtype=np.float32)
    mutated = mutate(population, 2.0, 0.25, np.random.default_rng(0))
    changed = mutated != 0
    assert mutated.dtype == np.float32
    assert 0.2 < changed.mean() < 0.3
    assert 1.8 < mutated[changed].std() < 2.2
    assert np.array_equal(mutate(population, 2.0, 0.0, np.random.default_rng(0)), population)


def test_rank_is_stable_for_ties():
    assert rank(np.array([1.0, 3.0, 3.0, 0.0])).tolist() == [1, 2, 0, 3]


def test_seeded_population_keeps_the_model_as_row_zero():
    vector = np.arange(45, dtype=np.float32)
    population = seeded_population(vector, 10, 0.5, 0.5, np.random.default_rng(0))
    assert np.array_equal(population[0], vector)
    assert population.shape == (10, 45) and not np.array_equal(population[1], vector)


def test_a_centred_first_generation_has_every_hidden_neuron_at_its_middle_for_middle_readings():
    """With readings at 0.5 every hidden neuron's weighted sum is only its bias noise, so the sigmoid sits near
    0.5, and most networks steer both ways over the readings' range."""
    layout = NetworkLayout(3, (6,), "sigmoid")
    population = centred_population(500, layout, 4.0, np.random.default_rng(0))
    policy = PopulationPolicy(layout)
    policy.set_parameters(population)
    hidden = policy.activations(np.full((500, 3), 0.5))[1]
    assert np.abs(hidden - 0.5).mean() < 0.15
    policy.set_parameters(random_population(500, 45, 4.0, np.random.default_rng(0)))
    plain = policy.activations(np.full((500, 3), 0.5))[1]
    assert np.abs(plain - 0.5).mean() > 0.3  # plain noise of the same size: most neurons saturated
    policy.set_parameters(population)
    readings = np.random.default_rng(1).random((20, 3))
    both_ways = 0
    for row in range(0, 500, 25):
        policy.set_parameters(np.repeat(population[row : row + 1], 20, axis=0))
        both_ways += set(policy.actions(readings).tolist()) >= {0, 2}
    assert both_ways >= 10  # of 20 networks


def test_the_generator_state_round_trips_through_plain_values():
    generator = np.random.default_rng(123)
    generator.standard_normal(7)
    saved = generator_state(generator)
    assert all(isinstance(value, (str, int)) for value in saved.values())
    restored = restore_generator(saved)
    assert np.array_equal(restored.standard_normal(50), generator.standard_normal(50))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bit_generator": "MT19937"}, "MT19937"),
        ({"state": "12x"}, "state is not a 128-bit number"),
        ({"inc": str(2**128)}, "inc is not a 128-bit number"),
    ],
)
def test_a_damaged_generator_state_is_refused(change, message):
    saved = {**generator_state(np.random.default_rng(0)), **change}
    with pytest.raises(ValueError, match=message):
        restore_generator(saved)
