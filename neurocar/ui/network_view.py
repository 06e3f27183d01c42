"""The network view: one car's policy drawn as neurons and weights, lit by what it sees right now.

Columns are the layers (sensor inputs, hidden neurons, action outputs), sized to the rectangle and to the layer
sizes. Every parameter is drawn: a weight is a line whose colour is its sign (blue positive, orange negative) and
whose thickness is its magnitude, a bias is a ring round its neuron in the same colours, ring thickness for
magnitude. A neuron's fill is its value (dark 0, bright 1). The inputs are listed top to bottom from the car's
leftmost ray to its rightmost, as the actions are (left, straight, right); each is labelled with its reading, each
output with its value, and the action picked is highlighted. A legend under the network says all this.

`network_snapshot` is the one way every window turns a network and an observation into what is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pygame
import torch
from torch import nn

from neurocar.learn.policy import load_vector
from neurocar.sim.car import ACTION_NAMES
from neurocar.sim.sensors import sensor_display_order, sensor_name
from neurocar.ui import theme
from neurocar.ui.text_layout import fit_text
from neurocar.ui.theme import TextCache

MIN_RADIUS = 2
MAX_RADIUS = 14
MIN_LABEL_SIZE = 15
MIN_COLUMN_GAP = 40
ROW_PITCH = 24  # preferred pixels per neuron in the tallest column
CHART_ROOM = 140  # what the panel keeps below the network for the chart


@dataclass
class NetworkSnapshot:
    """What to draw: every column's values (inputs first, then each hidden layer's activations, logits last), the
    Linear layers' weights (out, in) and biases (out,), and the action picked."""

    values: list[np.ndarray]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    chosen: int

    @property
    def parameter_count(self) -> int:
        """Weights and biases (45 for the default 3-6-3)."""
        return sum(weights.size for weights in self.weights) + sum(biases.size for biases in self.biases)


def network_snapshot(
    network: nn.Sequential,
    observation: np.ndarray,
    vector: torch.Tensor | np.ndarray | None = None,
    chosen: int | None = None,
) -> NetworkSnapshot:
    """One car's network as the view draws it: its observation run forward through `network` (first loaded with the
    flat parameter `vector`, if given, which changes the network), every layer's values and every parameter.

    `chosen` is the action the car takes; by default the largest output (how every trained model drives).
    """
    if vector is not None:
        load_vector(network, torch.as_tensor(vector))
    modules = list(network)
    inputs = np.asarray(observation, dtype=np.float64).reshape(-1)
    values = [inputs]
    current = torch.from_numpy(inputs.astype(np.float32)).reshape(1, -1)
    with torch.no_grad():
        for index, module in enumerate(modules):
            current = module(current)
            last = index == len(modules) - 1
            next_is_linear = not last and isinstance(modules[index + 1], nn.Linear)
            if not isinstance(module, nn.Linear) or last or next_is_linear:
                values.append(current[0].numpy().astype(np.float64))
    linear = [module for module in modules if isinstance(module, nn.Linear)]
    weights = [module.weight.detach().numpy().astype(np.float64) for module in linear]
    biases = [
        module.bias.detach().numpy().astype(np.float64) if module.bias is not None else np.zeros(module.out_features)
        for module in linear
    ]
    logits = values[-1]
    return NetworkSnapshot(values, weights, biases, int(np.argmax(logits)) if chosen is None else int(chosen))


def _value_colour(value: float) -> tuple[int, int, int]:
    """Dark for 0, bright for 1 (values are clipped)."""
    level = min(1.0, max(0.0, value))
    return (int(40 + 200 * level), int(46 + 190 * level), int(60 + 160 * level))


def _sign_colour(value: float) -> tuple[int, int, int]:
    return theme.POSITIVE if value >= 0 else theme.NEGATIVE


class NetworkView:
    """Draws a `NetworkSnapshot` into a rectangle of any size; `drawn` keeps what the last draw placed, for tests."""

    def __init__(self, texts: TextCache, sensor_angles_deg: Sequence[float]) -> None:
        self.texts = texts
        angles = [float(angle) for angle in sensor_angles_deg]
        self.input_labels = [sensor_name(angle) for angle in angles]  # per observation slot
        self.input_order = sensor_display_order(angles)  # slots from top to bottom
        self.output_labels = list(ACTION_NAMES)
        self.drawn: dict[str, object] = {}
        self.scale = 1.0

    # --- sizes -------------------------------------------------------------------------------------------------

    def preferred_height(self, snapshot: NetworkSnapshot | None, available: int, scale: float = 1.0) -> int:
        """The height this view would like below a HUD when `available` pixels are left in the panel: enough for
        the tallest layer at a readable pitch, leaving `CHART_ROOM` for the chart below, and at least half. `scale`
        is the window's text scale (1 at 1280x800)."""
        tallest = max((len(values) for values in snapshot.values), default=3) if snapshot is not None else 6
        chrome = (theme.TITLE_SIZE + 3 * theme.SMALL_SIZE + 24) * scale
        wanted = chrome + max(6, tallest) * ROW_PITCH * scale + 16
        room = available - CHART_ROOM * scale
        return int(min(available, max(available // 2, min(wanted, room))))

    def _label_texts(self, snapshot: NetworkSnapshot) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        inputs = []
        for slot, reading in enumerate(snapshot.values[0].tolist()):
            name = self.input_labels[slot] if slot < len(self.input_labels) else f"input {slot + 1}"
            inputs.append((name, f"{reading:.2f}"))
        outputs = []
        for row, value in enumerate(snapshot.values[-1].tolist()):
            name = self.output_labels[row] if row < len(self.output_labels) else f"output {row + 1}"
            outputs.append((name, f"{value:+.2f}"))
        return inputs, outputs

    # --- drawing -----------------------------------------------------------------------------------------------

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        snapshot: NetworkSnapshot | None,
        title: str,
        scale: float = 1.0,
    ) -> None:
        """Draw the panel: title, weights, neurons with their bias rings, labels and the legend; text sizes follow
        `scale` (the window's, 1 at 1280x800) and shrink further only when the rectangle needs it."""
        self.scale = scale
        texts = self.texts
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        self.drawn = {"labels": [], "lines": 0, "rings": 0}
        pad = 10
        title_size = max(12, min(self._size(theme.TITLE_SIZE), rect.height // 8))
        top = rect.top + pad
        if title:
            title_text = fit_text(texts, title, title_size, rect.width - 2 * pad)
            title_surface = texts.render(title_text, title_size, theme.TEXT)
            surface.blit(title_surface, (rect.left + pad, top))
            self.drawn["title"] = title_surface.get_rect(topleft=(rect.left + pad, top))
            top += title_surface.get_height() + 4
        if snapshot is None:
            return
        legend_size = max(self._size(MIN_LABEL_SIZE), min(self._size(theme.SMALL_SIZE), rect.height // 12))
        legend_height = self._draw_legend(surface, rect.inflate(-2 * pad, 0), rect.bottom - pad, legend_size, True)
        graph = pygame.Rect(rect.left + pad, top, rect.width - 2 * pad, rect.bottom - pad - legend_height - 4 - top)
        if graph.height < 40 or graph.width < 120:
            return
        self._draw_graph(surface, graph, snapshot)
        self._draw_legend(surface, rect.inflate(-2 * pad, 0), rect.bottom - pad, legend_size, False)

    def _size(self, size: float) -> int:
        """A pixel size at the current scale (never below 10, so text stays text)."""
        return max(10, round(size * self.scale))

    def _draw_graph(self, surface: pygame.Surface, graph: pygame.Rect, snapshot: NetworkSnapshot) -> None:
        texts = self.texts
        sizes = [len(values) for values in snapshot.values]
        tallest = max(sizes)
        inputs, outputs = self._label_texts(snapshot)
        pitch = graph.height / tallest
        # The largest label size at which both label columns and the layers between them fit.
        for size in range(self._size(theme.LABEL_SIZE), self._size(MIN_LABEL_SIZE) - 1, -1):
            font = texts.font(size)
            line = font.get_linesize()
            stacked = graph.height / len(inputs) >= 2 * line
            if stacked:
                left_width = max(max(font.size(name)[0], font.size(value)[0]) for name, value in inputs)
            else:
                left_width = max(font.size(f"{name} {value}")[0] for name, value in inputs)
            output_stacked = graph.height / len(outputs) >= 2 * line + 4
            if output_stacked:
                right_width = max(max(font.size(name)[0], font.size(value)[0]) for name, value in outputs) + 8
            else:
                right_width = max(font.size(f"{name} {value}")[0] for name, value in outputs) + 8
            radius = int(max(MIN_RADIUS, min(self._size(MAX_RADIUS), pitch * 0.36)))
            ring_room = max(2, radius // 2) + 3
            room = graph.width - left_width - right_width - 2 * (radius + 8) - ring_room
            if room >= self._size(MIN_COLUMN_GAP) * (len(sizes) - 1):
                break
        left = graph.left + left_width + radius + 8
        right = graph.right - right_width - radius - ring_room - 8
        columns: list[list[tuple[int, int]]] = []
        for index, count in enumerate(sizes):
            x = left + (right - left) * index / max(1, len(sizes) - 1)
            spacing = graph.height / count
            column = [(round(x), round(graph.top + spacing * (row + 0.5))) for row in range(count)]
            if index == 0:  # slot order -> drawn from the leftmost ray down
                by_slot = [(0, 0)] * count
                order = self.input_order if len(self.input_order) == count else list(range(count))
                for position, slot in enumerate(order):
                    by_slot[slot] = column[position]
                column = by_slot
            columns.append(column)
        largest = max(
            max((float(np.abs(weights).max()) for weights in snapshot.weights if weights.size), default=0.0),
            max((float(np.abs(biases).max()) for biases in snapshot.biases if biases.size), default=0.0),
        )
        largest = largest or 1.0
        max_line = max(2, min(6, round(16 / math.sqrt(tallest))))
        lines = []
        for layer, weights in enumerate(snapshot.weights):
            for target, row in enumerate(weights.tolist()):
                for source, weight in enumerate(row):
                    lines.append((abs(weight), weight, columns[layer][source], columns[layer + 1][target]))
        lines.sort(key=lambda item: item[0])  # the strongest weights are drawn last, on top
        for magnitude, weight, start, end in lines:
            width = max(1, round(max_line * magnitude / largest))
            pygame.draw.line(surface, _sign_colour(weight), start, end, width)
        self.drawn["lines"] = len(lines)
        ring_max = max(2, radius // 2)
        rings = 0
        last = len(columns) - 1
        logits = snapshot.values[-1]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        for layer, (values, column) in enumerate(zip(snapshot.values, columns, strict=True)):
            biases = snapshot.biases[layer - 1] if layer > 0 else None
            for row, (value, centre) in enumerate(zip(values.tolist(), column, strict=True)):
                if biases is not None:
                    bias = float(biases[row])
                    ring = max(1, round(ring_max * abs(bias) / largest))
                    pygame.draw.circle(surface, _sign_colour(bias), centre, radius + ring)
                    rings += 1
                shown = value if layer < last else float(probabilities[row])  # outputs: the softmax share
                pygame.draw.circle(surface, _value_colour(shown), centre, radius)
                if biases is None:
                    pygame.draw.circle(surface, theme.PANEL_EDGE, centre, radius, 1)
                if layer == last and row == snapshot.chosen:
                    pygame.draw.circle(surface, theme.ACCENT, centre, radius + ring_max + 3, 2)
        self.drawn["rings"] = rings
        self.drawn.update({"columns": columns, "radius": radius, "label_size": size})
        labels: list[tuple[str, pygame.Rect]] = self.drawn["labels"]  # type: ignore[assignment]
        for slot, centre in enumerate(columns[0]):
            name, value = inputs[slot]
            x = centre[0] - radius - 8
            if stacked:
                name_surface = texts.render(name, size, theme.TEXT_DIM)
                value_surface = texts.render(value, size, theme.TEXT)
                name_rect = name_surface.get_rect(bottomright=(x, centre[1] + 1))
                value_rect = value_surface.get_rect(topright=(x, centre[1] + 1))
                surface.blit(name_surface, name_rect)
                surface.blit(value_surface, value_rect)
                labels += [(name, name_rect), (value, value_rect)]
            else:
                text = texts.render(f"{name} {value}", size, theme.TEXT_DIM)
                text_rect = text.get_rect(midright=(x, centre[1]))
                surface.blit(text, text_rect)
                labels.append((f"{name} {value}", text_rect))
        for row, centre in enumerate(columns[-1]):
            chosen = row == snapshot.chosen
            name, value = outputs[row]
            x = centre[0] + radius + ring_max + 8
            colour = theme.ACCENT if chosen else theme.TEXT_DIM
            if output_stacked:
                name_surface = texts.render(name, size, colour)
                value_surface = texts.render(value, size, theme.ACCENT if chosen else theme.TEXT)
                name_rect = name_surface.get_rect(bottomleft=(x, centre[1] + 1))
                value_rect = value_surface.get_rect(topleft=(x, centre[1] + 1))
                drawn = [(name, name_rect, name_surface), (value, value_rect, value_surface)]
            else:
                text = texts.render(f"{name} {value}", size, colour)
                drawn = [(f"{name} {value}", text.get_rect(midleft=(x, centre[1])), text)]
            if chosen:
                box = drawn[0][1].unionall([rect for _, rect, _ in drawn])
                pygame.draw.rect(surface, theme.ACCENT, box.inflate(6, 2), 1, border_radius=4)
            for text, text_rect, rendered in drawn:
                surface.blit(rendered, text_rect)
                labels.append((text, text_rect))

    def _draw_legend(self, surface: pygame.Surface, area: pygame.Rect, bottom: int, size: int, measure: bool) -> int:
        """The legend's items flowed into rows ending at `bottom`; returns its height (draws nothing if `measure`)."""
        texts = self.texts
        font = texts.font(size)
        line = font.get_linesize()
        icon = max(14, size)
        items = [
            ("positive", "+ weight"),
            ("negative", "- weight"),
            (None, "thicker = larger"),
            ("ring", "bias"),
            ("fill", "value"),
        ]
        rows: list[list[tuple[str | None, str, int]]] = [[]]
        x = 0
        for kind, text in items:
            width = font.size(text)[0] + (icon + 4 if kind else 0)
            if rows[-1] and x + width > area.width:
                rows.append([])
                x = 0
            rows[-1].append((kind, text, width))
            x += width + 12
        height = len(rows) * line
        if measure:
            return height
        y = bottom - height
        legend_rect = pygame.Rect(area.left, y, area.width, height)
        for row in rows:
            x = area.left
            middle = y + line // 2
            for kind, text, width in row:
                if kind in ("positive", "negative"):
                    colour = theme.POSITIVE if kind == "positive" else theme.NEGATIVE
                    pygame.draw.line(surface, colour, (x, middle), (x + icon, middle), 3)
                elif kind == "ring":
                    pygame.draw.circle(surface, theme.POSITIVE, (x + icon // 2, middle), icon // 2 - 1)
                    pygame.draw.circle(surface, _value_colour(0.3), (x + icon // 2, middle), icon // 2 - 4)
                elif kind == "fill":
                    pygame.draw.circle(surface, _value_colour(0.9), (x + icon // 2, middle), icon // 2 - 2)
                text_x = x + (icon + 4 if kind else 0)
                rendered = texts.render(text, size, theme.TEXT_DIM)
                surface.blit(rendered, rendered.get_rect(midleft=(text_x, middle)))
                x += width + 12
            y += line
        self.drawn["legend"] = legend_rect
        return height
