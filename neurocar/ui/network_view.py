"""The network view: one car's policy drawn as neurons and weights, lit by what it sees right now.

Columns are the layers (sensor inputs, hidden neurons, action outputs). A neuron's fill shows its live value; a
line's colour shows a weight's sign (blue positive, orange negative) and its thickness the magnitude. Inputs are
labelled with their ray and reading, outputs with their action, the chosen one highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame
from torch import nn

from neurocar.learn.policy import load_vector
from neurocar.sim.car import ACTION_NAMES
from neurocar.ui import theme
from neurocar.ui.theme import TextCache

MAX_LINE_WIDTH = 6
LABEL_WIDTH = 92


@dataclass
class NetworkSnapshot:
    """What to draw: every layer's values (inputs first, logits last) and the Linear layers' weights (out, in)."""

    values: list[np.ndarray]
    weights: list[np.ndarray]
    chosen: int


def layer_values(network: nn.Sequential, observation: np.ndarray, outputs: list[np.ndarray]) -> list[np.ndarray]:
    """Neuron values per column from one car's observation and its per-module outputs.

    `outputs` are the module outputs of `PopulationPolicy.activations` for that car: hidden neurons show the
    activation function's output, the last column shows the logits.
    """
    values = [np.asarray(observation, dtype=np.float64)]
    for module, output in zip(network, outputs[:-1], strict=False):
        if not isinstance(module, nn.Linear):
            values.append(np.asarray(output, dtype=np.float64))
    values.append(np.asarray(outputs[-1], dtype=np.float64))
    return values


def network_weights(network: nn.Sequential, vector) -> list[np.ndarray]:
    """The weight matrices (out, in) of `network` loaded with the flat parameter vector (the network is changed)."""
    load_vector(network, vector)
    return [module.weight.detach().numpy().copy() for module in network if isinstance(module, nn.Linear)]


def sensor_label(angle_deg: float) -> str:
    """A short name for a ray: 'left 45°', 'ahead', 'right 45°'."""
    if abs(angle_deg) < 1e-9:
        return "ahead"
    return f"{'left' if angle_deg > 0 else 'right'} {abs(angle_deg):g}°"


def _value_colour(value: float) -> tuple[int, int, int]:
    """Dark for 0, bright for 1 (values are clipped)."""
    level = min(1.0, max(0.0, value))
    return (int(40 + 200 * level), int(46 + 190 * level), int(60 + 160 * level))


class NetworkView:
    """Draws a `NetworkSnapshot` into a rectangle."""

    def __init__(self, texts: TextCache, sensor_angles_deg: tuple[float, ...]) -> None:
        self.texts = texts
        self.input_labels = [sensor_label(angle) for angle in sensor_angles_deg]
        self.output_labels = list(ACTION_NAMES)

    def _positions(self, rect: pygame.Rect, sizes: list[int]) -> list[list[tuple[int, int]]]:
        top = rect.top + 34
        height = rect.height - 44
        left = rect.left + LABEL_WIDTH
        right = rect.right - 96
        columns = []
        for index, size in enumerate(sizes):
            x = left + (right - left) * index / max(1, len(sizes) - 1)
            spacing = height / size
            columns.append([(round(x), round(top + spacing * (row + 0.5))) for row in range(size)])
        return columns

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, snapshot: NetworkSnapshot | None, title: str) -> None:
        """Draw the panel: title, weights, neurons, labels."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        surface.blit(self.texts.render(title, 22, theme.TEXT), (rect.left + 10, rect.top + 8))
        if snapshot is None:
            return
        sizes = [len(values) for values in snapshot.values]
        columns = self._positions(rect, sizes)
        radius = max(6, min(14, int((rect.height - 44) / max(sizes) / 2) - 3))
        largest = max(float(np.abs(weights).max()) for weights in snapshot.weights) or 1.0
        for layer, weights in enumerate(snapshot.weights):
            for target, start_row in enumerate(weights):
                end = columns[layer + 1][target]
                for source, weight in enumerate(start_row.tolist()):
                    width = max(1, round(MAX_LINE_WIDTH * abs(weight) / largest))
                    colour = theme.POSITIVE if weight >= 0 else theme.NEGATIVE
                    pygame.draw.line(surface, colour, columns[layer][source], end, width)
        logits = snapshot.values[-1]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        for layer, (values, column) in enumerate(zip(snapshot.values, columns, strict=True)):
            shown = probabilities if layer == len(columns) - 1 else values
            for row, (value, centre) in enumerate(zip(shown.tolist(), column, strict=True)):
                chosen = layer == len(columns) - 1 and row == snapshot.chosen
                pygame.draw.circle(surface, _value_colour(value), centre, radius)
                pygame.draw.circle(surface, theme.ACCENT if chosen else theme.PANEL_EDGE, centre, radius, 2)
        for row, centre in enumerate(columns[0]):
            label = self.input_labels[row] if row < len(self.input_labels) else f"input {row}"
            name = self.texts.render(label, 18, theme.TEXT_DIM)
            value = self.texts.render(f"{snapshot.values[0][row]:.2f}", 20, theme.TEXT)
            x = centre[0] - radius - 8
            surface.blit(name, (x - name.get_width(), centre[1] - name.get_height()))
            surface.blit(value, (x - value.get_width(), centre[1] + 1))
        for row, centre in enumerate(columns[-1]):
            chosen = row == snapshot.chosen
            label = self.output_labels[row] if row < len(self.output_labels) else f"output {row}"
            text = self.texts.render(label, 22 if chosen else 20, theme.ACCENT if chosen else theme.TEXT_DIM)
            x = centre[0] + radius + 8
            if chosen:
                box = pygame.Rect(
                    x - 4, centre[1] - text.get_height() // 2 - 3, text.get_width() + 8, text.get_height() + 6
                )
                pygame.draw.rect(surface, theme.ACCENT, box, 1, border_radius=4)
            surface.blit(text, (x, centre[1] - text.get_height() // 2))
