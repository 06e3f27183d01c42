"""The network view: one snapshot of a network's values and parameters, drawn with every weight and bias, fitted to
its rectangle for any layer sizes, with the sensors and actions listed left to right, and a legend."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pygame
import pytest
import torch

from neurocar.learn.policy import build_network, network_vector, parameter_count
from neurocar.sim.sensors import sensor_display_order, sensor_name
from neurocar.ui import theme
from neurocar.ui.network_view import NetworkView, network_snapshot
from neurocar.ui.theme import TextCache

ANGLES = (-45.0, 0.0, 45.0)


@pytest.fixture(scope="module")
def texts() -> TextCache:
    pygame.font.init()
    return TextCache()


def seeded_network(hidden_sizes: list[int], inputs: int = 3) -> torch.nn.Sequential:
    generator = torch.Generator().manual_seed(7)
    network = build_network(inputs, hidden_sizes, "sigmoid")
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 2)
    return network


def test_sensor_names_and_order_go_from_left_to_right() -> None:
    assert [sensor_name(angle) for angle in ANGLES] == ["right 45°", "ahead", "left 45°"]
    assert sensor_name(22.5) == "left 22.5°"
    assert sensor_display_order(ANGLES) == [2, 1, 0]
    assert sensor_display_order([30.0, -30.0, 0.0, 60.0, -60.0]) == [3, 0, 2, 1, 4]


def test_snapshot_holds_every_value_and_parameter() -> None:
    network = seeded_network([6])
    observation = np.array([0.2, 0.9, 0.5])
    snapshot = network_snapshot(network, observation)
    assert [len(values) for values in snapshot.values] == [3, 6, 3]
    assert snapshot.parameter_count == parameter_count(network) == 45
    with torch.no_grad():
        hidden = network[1](network[0](torch.tensor(observation, dtype=torch.float32)))
        logits = network[2](hidden)
    assert np.allclose(snapshot.values[1], hidden.numpy(), atol=1e-6)
    assert np.allclose(snapshot.values[2], logits.numpy(), atol=1e-6)
    assert snapshot.chosen == int(torch.argmax(logits))
    assert np.array_equal(snapshot.biases[1], network[2].bias.detach().numpy())


def test_snapshot_loads_a_flat_vector_into_the_network() -> None:
    source = seeded_network([4, 4])
    scratch = build_network(3, [4, 4], "sigmoid")
    snapshot = network_snapshot(scratch, np.array([1.0, 0.0, 0.5]), network_vector(source).numpy())
    assert np.allclose(snapshot.weights[2], source[4].weight.detach().numpy())
    assert network_snapshot(scratch, np.zeros(3), chosen=2).chosen == 2


@pytest.mark.parametrize("hidden_sizes", [[6], [8, 4], [16, 16], [2]])
@pytest.mark.parametrize("size", [(336, 270), (336, 160), (420, 420)])
def test_every_parameter_is_drawn_and_every_label_fits(
    texts: TextCache, hidden_sizes: list[int], size: tuple[int, int]
) -> None:
    network = seeded_network(hidden_sizes)
    snapshot = network_snapshot(network, np.array([0.1, 0.6, 0.95]))
    surface = pygame.Surface((size[0] + 40, size[1] + 40))
    rect = pygame.Rect(20, 20, *size)
    view = NetworkView(texts, ANGLES)
    view.draw(surface, rect, snapshot, "Network of car 12 (leader) with a long caption that cannot fit")
    drawn = view.drawn
    weights = sum(layer.size for layer in snapshot.weights)
    biases = sum(layer.size for layer in snapshot.biases)
    assert drawn["lines"] == weights and drawn["rings"] == biases
    assert drawn["lines"] + drawn["rings"] == parameter_count(network)
    labels = [label for _, label in drawn["labels"]] + [drawn["legend"], drawn["title"]]
    for label in labels:
        assert rect.contains(label), f"{label} leaves {rect}"
    for first, second in combinations(labels, 2):
        assert not first.colliderect(second), f"{first} overlaps {second}"
    radius = drawn["radius"]
    for column in drawn["columns"]:
        for centre in column:
            circle = pygame.Rect(0, 0, 2 * radius, 2 * radius)
            circle.center = centre
            assert rect.contains(circle)
            assert not any(circle.colliderect(label) for label in labels)
    assert drawn["label_size"] >= 15


def test_inputs_and_outputs_are_listed_from_left_to_right(texts: TextCache) -> None:
    snapshot = network_snapshot(seeded_network([6]), np.array([0.1, 0.6, 0.95]))
    view = NetworkView(texts, ANGLES)
    view.draw(pygame.Surface((360, 300)), pygame.Rect(0, 0, 360, 300), snapshot, "Network")
    inputs, _hidden, outputs = view.drawn["columns"]
    right, ahead, left = (centre[1] for centre in inputs)  # observation slots: -45 (right), 0, +45 (left)
    assert left < ahead < right
    steer_left, straight, steer_right = (centre[1] for centre in outputs)
    assert steer_left < straight < steer_right
    names = [text for text, _ in view.drawn["labels"]]
    assert names[:6] == ["right 45°", "0.10", "ahead", "0.60", "left 45°", "0.95"]
    logits = snapshot.values[-1]
    expected = [[name, f"{value:+.2f}"] for name, value in zip(("left", "straight", "right"), logits, strict=True)]
    assert names[6:] == [text for pair in expected for text in pair]  # each output's name, then its value


def test_the_picked_action_the_bias_rings_and_the_legend_are_drawn(texts: TextCache) -> None:
    network = build_network(3, [6], "sigmoid")
    with torch.no_grad():
        network[0].weight.zero_()
        network[0].bias.fill_(2.0)  # positive hidden biases: blue rings
        network[2].weight.zero_()
        network[2].bias.copy_(torch.tensor([-1.0, -2.0, -0.5]))  # negative output biases, "right" is the largest
    snapshot = network_snapshot(network, np.array([0.5, 0.5, 0.5]))
    assert snapshot.chosen == 2
    surface = pygame.Surface((360, 300))
    view = NetworkView(texts, ANGLES)
    view.draw(surface, pygame.Rect(0, 0, 360, 300), snapshot, "Network")
    radius = view.drawn["radius"]
    _inputs, hidden, outputs = view.drawn["columns"]
    for x, y in hidden:
        assert tuple(surface.get_at((x, y - radius - 1)))[:3] == theme.POSITIVE
    for x, y in outputs:
        assert tuple(surface.get_at((x, y + radius + 1)))[:3] == theme.NEGATIVE
    chosen_label = view.drawn["labels"][6 + 2 * 2][1]  # the name of the third output
    pixels = pygame.surfarray.pixels3d(surface)[
        chosen_label.left : chosen_label.right, chosen_label.top : chosen_label.bottom
    ]
    assert np.all(pixels == np.array(theme.ACCENT), axis=2).sum() > 10
    del pixels
    legend = view.drawn["legend"]
    area = pygame.surfarray.array3d(surface)[legend.left : legend.right, legend.top : legend.bottom]
    for colour in (theme.POSITIVE, theme.NEGATIVE):
        assert np.all(area == np.array(colour), axis=2).sum() >= 10
