"""The policy: the exact default network, and a batched population forward equal to one network at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from neurocar.learn.policy import (
    NetworkLayout,
    PopulationPolicy,
    build_network,
    load_vector,
    network_vector,
    parameter_count,
)


def test_default_network_is_exactly_3_6_3(config):
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    assert [type(layer) for layer in network] == [nn.Linear, nn.Sigmoid, nn.Linear]
    assert (network[0].in_features, network[0].out_features) == (3, 6)
    assert (network[2].in_features, network[2].out_features) == (6, 3)
    assert parameter_count(network) == 45


def test_vector_round_trip():
    network = build_network(3, (6,), "sigmoid")
    vector = torch.arange(45, dtype=torch.float32)
    load_vector(network, vector)
    assert torch.equal(network_vector(network), vector)
    assert torch.equal(network[0].weight[0], torch.tensor([0.0, 1.0, 2.0]))  # row-major weights come first


@pytest.mark.parametrize(
    ("inputs", "hidden_sizes", "activation", "population"),
    [
        (3, (6,), "sigmoid", 1),
        (3, (6,), "sigmoid", 17),
        (5, (8, 4), "tanh", 9),
        (2, (3,), "relu", 33),
        (4, (), "sigmoid", 5),
    ],
)
def test_batched_forward_equals_one_network_at_a_time(inputs, hidden_sizes, activation, population):
    generator = torch.Generator().manual_seed(population)
    network = build_network(inputs, hidden_sizes, activation)
    count = parameter_count(network)
    parameters = torch.randn(population, count, generator=generator)
    observations = torch.rand(population, inputs, generator=generator)
    policy = PopulationPolicy(network)
    policy.set_parameters(parameters)
    batched = torch.from_numpy(policy.logits(observations.numpy()))
    reference = build_network(inputs, hidden_sizes, activation)
    for row in range(population):
        nn.utils.vector_to_parameters(parameters[row], reference.parameters())
        with torch.no_grad():
            expected = reference(observations[row : row + 1])[0]
        assert torch.allclose(batched[row], expected, atol=1e-6), row
    actions = policy.actions(observations.numpy())
    assert actions.shape == (population,)
    assert np.array_equal(actions, batched.argmax(dim=1).numpy())
    layers = policy.activations(observations.numpy())
    assert len(layers) == len(network) and np.array_equal(layers[-1], batched.numpy())


def test_set_parameters_rejects_the_wrong_shape():
    policy = PopulationPolicy(build_network(3, (6,), "sigmoid"))
    with pytest.raises(ValueError, match=r"\(P, 45\)"):
        policy.set_parameters(torch.zeros(4, 44))


@pytest.mark.parametrize(("hidden_sizes", "activation"), [((6,), "sigmoid"), ((8, 4), "tanh"), ((5,), "relu")])
def test_compiled_actions_are_the_torch_networks_actions(hidden_sizes, activation):
    """The driving loops' compiled forward picks what the nn.Sequential picks, for thousands of networks and
    readings, including readings of exactly 0 and 1 (a wall touching, nothing in range)."""
    generator = torch.Generator().manual_seed(7)
    network = build_network(3, hidden_sizes, activation)
    population = 3000
    parameters = torch.randn(population, parameter_count(network), generator=generator) * 2.0
    observations = torch.rand(population, 3, generator=generator, dtype=torch.float64)
    observations[::7, 1] = 1.0
    observations[::11, 0] = 0.0
    policy = PopulationPolicy(network)
    policy.set_parameters(parameters)
    actions = policy.actions(observations.numpy())
    logits = policy.logits(observations.numpy())
    assert np.array_equal(actions, logits.argmax(axis=1))
    assert len(set(actions.tolist())) == 3  # every action is chosen somewhere
    reference = build_network(3, hidden_sizes, activation)
    for row in range(0, population, 300):
        nn.utils.vector_to_parameters(parameters[row], reference.parameters())
        with torch.no_grad():
            expected = int(reference(observations[row : row + 1].to(torch.float32)).argmax())
        assert actions[row] == expected, row


def test_compiled_actions_refuse_observations_of_the_wrong_shape():
    policy = PopulationPolicy(build_network(3, (6,), "sigmoid"))
    policy.set_parameters(torch.zeros(4, 45))
    with pytest.raises(ValueError, match=r"expected observations of shape \(4, 3\)"):
        policy.actions(np.zeros((4, 5)))


@pytest.mark.parametrize(
    ("inputs", "hidden_sizes", "activation"), [(3, (6,), "sigmoid"), (5, (8, 4), "tanh"), (2, (4,), "relu")]
)
def test_a_layout_describes_the_network_it_builds(inputs, hidden_sizes, activation):
    """Without torch, a layout knows the network's parameter count, where each layer sits in the flat vector and
    its state_dict: the same names, shapes and values as the nn.Sequential loaded with that vector."""
    layout = NetworkLayout(inputs, hidden_sizes, activation)
    network = build_network(inputs, hidden_sizes, activation)
    assert NetworkLayout.of(network) == layout
    assert layout.parameter_count == parameter_count(network)
    vector = np.random.default_rng(0).standard_normal(layout.parameter_count).astype(np.float32)
    load_vector(network, vector)
    expected = {name: value.numpy() for name, value in network.state_dict().items()}
    state = layout.state_dict(vector)
    assert list(state) == list(expected)
    for name, value in expected.items():
        assert state[name].dtype == np.float32 and np.array_equal(state[name], value), name


def test_a_layout_refuses_what_it_cannot_describe():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        NetworkLayout(3, (6,), "gelu")
    with pytest.raises(ValueError, match="one activation"):
        NetworkLayout.of(nn.Sequential(nn.Linear(3, 6), nn.Sigmoid(), nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 3)))
    with pytest.raises(ValueError, match="expected 45 parameters, got 44"):
        NetworkLayout(3, (6,), "sigmoid").state_dict(np.zeros(44))


def test_only_driving_cars_are_computed_and_the_others_go_straight():
    layout = NetworkLayout(3, (6,), "sigmoid")
    policy = PopulationPolicy(layout)
    generator = np.random.default_rng(3)
    policy.set_parameters(generator.standard_normal((200, 45)).astype(np.float32) * 3)
    observations = generator.random((200, 3))
    everyone = policy.actions(observations)
    assert set(everyone.tolist()) == {0, 1, 2}
    driving = generator.random(200) < 0.5
    some = policy.actions(observations, driving)
    assert np.array_equal(some[driving], everyone[driving])
    assert np.all(some[~driving] == 1)
    with pytest.raises(ValueError, match="expected 200 driving flags"):
        policy.actions(observations, driving[:10])
