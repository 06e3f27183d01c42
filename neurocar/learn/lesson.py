"""The models behind the lesson's chapters 2 to 5: real torch layers and the real world, no drawing.

- `WeightedSum`: one neuron with three inputs and a bias (`nn.Linear(3, 1)`) whose weights the class changes.
- `layer_product`: a layer's `W · x + b` written out term by term, checked against the layer itself.
- `CollapseDemo`: a small network over two readings, `Linear(2, 3)` then `Linear(3, 3)`, with and without a
  sigmoid between them (the same two modules), the product `W2 · W1` that the linear one collapses to, and decision
  maps (which action wins) over the two readings.
- `LessonCar`: the shipped driver driving one car in the real `World`, for live readings and activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from neurocar.config import Config
from neurocar.learn.lesson_neuron import Neuron, random_start_weight
from neurocar.learn.model_file import Model
from neurocar.learn.policy import PopulationPolicy, network_rows, parameter_count
from neurocar.sim.track import Track
from neurocar.sim.world import World

WEIGHT_NUDGE = 0.1
WEIGHT_LIMIT = 3.0
# Chapter 2 starts with a neuron that says "steer towards the open side": positive when the left is more open.
START_WEIGHTS = (-0.5, 0.0, 0.5)  # in the sensors' order: right 45°, ahead, left 45°
MAP_RESOLUTION = 96


@dataclass(frozen=True)
class SensorSlots:
    """Which observation slot is the left, ahead and right ray."""

    left: int
    ahead: int
    right: int

    @classmethod
    def from_angles(cls, angles_deg: tuple[float, ...] | list[float]) -> SensorSlots:
        """Slots from the ray angles (positive = left); needs exactly a left, a straight-ahead and a right ray."""
        angles = [float(angle) for angle in angles_deg]
        if len(angles) != 3 or 0.0 not in angles or max(angles) <= 0 or min(angles) >= 0:
            raise ValueError(f"the lesson needs three rays (left, ahead, right), not {angles}")
        return cls(angles.index(max(angles)), angles.index(0.0), angles.index(min(angles)))


class WeightedSum:
    """One neuron with three inputs: `y = w1 x1 + w2 x2 + w3 x3 + b`, as an `nn.Linear(3, 1)`."""

    def __init__(
        self,
        weights: tuple[float, float, float] = START_WEIGHTS,
        bias: float = 0.0,
        order: tuple[int, int, int] = (0, 1, 2),
    ) -> None:
        self.layer = nn.Linear(3, 1, dtype=torch.float64)
        with torch.no_grad():
            self.layer.weight.copy_(torch.tensor([weights], dtype=torch.float64))
            self.layer.bias.fill_(bias)
        # The inputs in the order they are shown and chosen (the car's leftmost ray first), then the bias (3).
        self.order = (*order, 3)
        self.chosen = self.order[0]  # 0-2: a weight, 3: the bias

    @property
    def parameters(self) -> list[float]:
        """[w1, w2, w3, b]."""
        return [*self.layer.weight.detach()[0].tolist(), float(self.layer.bias.item())]

    def choose(self, direction: int) -> None:
        """Choose the next (+1) or previous (-1) weight in the order they are shown, the bias last."""
        self.chosen = self.order[(self.order.index(self.chosen) + direction) % 4]

    @torch.no_grad()
    def nudge(self, direction: int) -> None:
        """Change the chosen weight by one nudge up (+1) or down (-1), within +-WEIGHT_LIMIT."""
        values = self.parameters
        values[self.chosen] = round(
            min(WEIGHT_LIMIT, max(-WEIGHT_LIMIT, values[self.chosen] + direction * WEIGHT_NUDGE)), 6
        )
        self.layer.weight.copy_(torch.tensor([values[:3]], dtype=torch.float64))
        self.layer.bias.fill_(values[3])

    @torch.no_grad()
    def output(self, readings: np.ndarray) -> float:
        """The neuron's output for three readings."""
        return float(self.layer(torch.as_tensor(np.asarray(readings, dtype=np.float64)).reshape(1, 3)).item())


@dataclass(frozen=True)
class LayerProduct:
    """`outputs = weights @ inputs + bias` for one layer, every part as numbers."""

    weights: np.ndarray  # (out, in)
    inputs: np.ndarray  # (in,)
    bias: np.ndarray  # (out,)
    outputs: np.ndarray  # (out,) as the layer computed them


@torch.no_grad()
def layer_product(layer: nn.Linear, inputs: np.ndarray) -> LayerProduct:
    """A Linear layer applied to one input vector, with its matrix and bias."""
    tensor = torch.as_tensor(np.asarray(inputs, dtype=np.float32)).reshape(1, -1)
    outputs = layer(tensor)[0].numpy().astype(np.float64)
    return LayerProduct(
        layer.weight.numpy().astype(np.float64),
        np.asarray(inputs, dtype=np.float64),
        layer.bias.numpy().astype(np.float64),
        outputs,
    )


@torch.no_grad()
def decision_map(network: nn.Module, grid_inputs: torch.Tensor, resolution: int) -> np.ndarray:
    """The winning action (argmax of the outputs) at every grid point, as a (resolution, resolution) array whose
    row 0 is the top of the map (the largest second reading)."""
    winners = network(grid_inputs).argmax(dim=1).numpy()
    return winners.reshape(resolution, resolution)


def reading_grid(resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Readings at the centres of a resolution x resolution map: (first, second), each (resolution**2,), the first
    growing to the right along a row, the second growing upwards (row 0 = reading 1)."""
    centres = (np.arange(resolution) + 0.5) / resolution
    second, first = np.meshgrid(centres[::-1], centres, indexing="ij")
    return first.ravel(), second.ravel()


class CollapseDemo:
    """Two layers over (left, right) readings, chained with and without a sigmoid between them."""

    def __init__(self, resolution: int = MAP_RESOLUTION) -> None:
        self.resolution = resolution
        self.first = nn.Linear(2, 3)
        self.second = nn.Linear(3, 3)
        # The same two modules in both networks: only the sigmoid differs.
        self.linear = nn.Sequential(self.first, self.second)
        self.nonlinear = nn.Sequential(self.first, nn.Sigmoid(), self.second)
        self.seed: int | None = None
        left, right = reading_grid(resolution)
        self.grid = torch.tensor(np.stack([left, right], axis=1), dtype=torch.float32)
        self.use_designed()

    @torch.no_grad()
    def use_designed(self) -> None:
        """Hand-made weights: three hidden neurons say "left wall near", "right wall near" and "both near (a
        narrow road)"; the car steers away from a near wall and goes straight on open or narrow road."""
        steepness = 12.0
        self.first.weight.copy_(torch.tensor([[-steepness, 0.0], [0.0, -steepness], [-steepness, -steepness]]))
        self.first.bias.copy_(torch.tensor([0.3 * steepness, 0.3 * steepness, 0.45 * steepness]))
        # outputs: steer left (away from a near right wall), straight, steer right (away from a near left wall)
        self.second.weight.copy_(torch.tensor([[0.0, 4.0, 0.0], [0.0, 0.0, 6.0], [4.0, 0.0, 0.0]]))
        self.second.bias.copy_(torch.tensor([0.0, 2.0, 0.0]))
        self.seed = None
        self._refresh()

    @torch.no_grad()
    def use_random(self, seed: int) -> None:
        """Random weights from a generator seeded with `seed` (large enough for the sigmoid to bend)."""
        generator = torch.Generator().manual_seed(seed)
        for layer, scale in ((self.first, 8.0), (self.second, 4.0)):
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * scale)
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=generator) * scale / 2)
        self.seed = seed
        self._refresh()

    @torch.no_grad()
    def collapsed(self) -> tuple[np.ndarray, np.ndarray]:
        """The one layer the linear network equals: matrix W2 · W1 (3, 2) and bias W2 · b1 + b2 (3,)."""
        matrix = self.second.weight @ self.first.weight
        bias = self.second.weight @ self.first.bias + self.second.bias
        return matrix.numpy().astype(np.float64), bias.numpy().astype(np.float64)

    def _refresh(self) -> None:
        self.linear_map = decision_map(self.linear, self.grid, self.resolution)
        self.nonlinear_map = decision_map(self.nonlinear, self.grid, self.resolution)


class LessonCar:
    """One car on a track, driven by a model: what chapters 2, 3 and 5 read their numbers from."""

    def __init__(self, config: Config, track: Track, model: Model) -> None:
        self.config = config
        self.track = track
        self.model = model
        self.network = model.network
        self.slots = SensorSlots.from_angles(config.sensors.angles_deg)
        self.policy = PopulationPolicy(model.network)
        self.policy.set_parameters(network_rows(model.network))
        self.world = World(track, config.physics, config.sensors, config.episode, population=1)
        self.world.reset()
        self.laps_before = 0

    @property
    def parameter_count(self) -> int:
        """Weights and biases of the network (45 for the shipped 3-6-3 driver)."""
        return parameter_count(self.network)

    @property
    def readings(self) -> np.ndarray:
        """The car's three sensor readings now, in the sensors' order."""
        return self.world.observations[0].astype(np.float64)

    def step(self) -> None:
        """One simulation step; a car that stops (crash, stall, time) starts again from the line."""
        action = self.policy.actions(self.world.observations[:1])
        self.world.step(action)
        if self.world.done:
            self.world.reset()

    def activations(self) -> list[np.ndarray]:
        """Every module's output for the current readings (the last is the logits)."""
        return [output[0].astype(np.float64) for output in self.policy.activations(self.world.observations[:1])]

    def action(self) -> int:
        """The action the network picks now."""
        return int(self.activations()[-1].argmax())

    @torch.no_grad()
    def decision_map(self, ahead: float, resolution: int = MAP_RESOLUTION) -> np.ndarray:
        """The action the network picks over (left reading, right reading) with the ahead reading fixed."""
        left, right = reading_grid(resolution)
        inputs = np.zeros((resolution * resolution, 3), dtype=np.float32)
        inputs[:, self.slots.left] = left
        inputs[:, self.slots.right] = right
        inputs[:, self.slots.ahead] = ahead
        return decision_map(self.network, torch.from_numpy(inputs), resolution)


def sequential_line(network: nn.Sequential) -> str:
    """The network as the one line that builds it, e.g. `nn.Sequential(nn.Linear(3, 6), nn.Sigmoid(), ...)`."""
    parts = []
    for module in network:
        if isinstance(module, nn.Linear):
            parts.append(f"nn.Linear({module.in_features}, {module.out_features})")
        else:
            parts.append(f"nn.{type(module).__name__}()")
    return f"nn.Sequential({', '.join(parts)})"


def parameter_formula(network: nn.Sequential) -> str:
    """The parameter count written out per layer: weights in·out plus biases, e.g. `3·6 + 6 + 6·3 + 3`."""
    terms = []
    for module in network:
        if isinstance(module, nn.Linear):
            terms.append(f"{module.in_features}·{module.out_features}")
            if module.bias is not None:
                terms.append(str(module.out_features))
    return " + ".join(terms)


CHAPTERS = ("neuron", "inputs", "matrix", "nonlinear", "brain", "driving")
AHEAD_STEP = 0.1
DRIVE_ON_SECONDS = 1.0
RATE_PRESETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.7, 1.0)


def learning_rates(x: float) -> tuple[float, ...]:
    """The rates + and - move through, in order, with the two thresholds 1/x and 2/x among them."""
    presets = {*RATE_PRESETS, 1.0 / x, 2.0 / x}
    return tuple(sorted(presets))


class Lesson:
    """Everything the lesson window shows, changed only through these methods (the window's keys call them)."""

    def __init__(
        self,
        car: LessonCar,
        *,
        seed: int = 0,
        x: float = 6.0,
        target: float = 1.5,
        learning_rate: float = 0.01,
        chapter: int = 1,
    ) -> None:
        self.seed = seed
        self.starts = 0  # how many random start weights were drawn: the next one uses seed + starts
        self.neuron = Neuron(x, target, random_start_weight(seed), learning_rate)
        self.rates = learning_rates(x)
        if learning_rate not in self.rates:
            self.rates = tuple(sorted({*self.rates, learning_rate}))
        self.weighted_sum = WeightedSum(order=(car.slots.left, car.slots.ahead, car.slots.right))
        self.collapse = CollapseDemo()
        self.random_draws = 0
        self.car = car
        self.matrix_row = 0
        self.ahead = 1.0
        self.car_paused = False
        self.drive_steps = 0  # steps still to drive in chapters 2 and 3 (N drives the car on for a second)
        self.chapter = 1
        self.request: str | None = None  # 'sim' or 'drive' once chapter 6 asks for that window
        self.go_to(chapter)

    @property
    def chapter_name(self) -> str:
        """'neuron', 'inputs', 'matrix', 'nonlinear', 'brain' or 'driving'."""
        return CHAPTERS[self.chapter - 1]

    # --- chapters ----------------------------------------------------------------------------------------------

    def go_to(self, chapter: int) -> None:
        """Show chapter `chapter` (1-6; clipped to the range)."""
        self.chapter = min(len(CHAPTERS), max(1, chapter))

    def move(self, direction: int) -> None:
        """The next (+1) or previous (-1) chapter."""
        self.go_to(self.chapter + direction)

    # --- chapter 1 ---------------------------------------------------------------------------------------------

    def learning_step(self) -> None:
        """One step of the neuron's rule."""
        self.neuron.step()

    def change_rate(self, direction: int) -> None:
        """The next larger (+1) or smaller (-1) learning rate; the run starts again from the same W."""
        index = self.rates.index(self.neuron.learning_rate) if self.neuron.learning_rate in self.rates else 0
        index = min(len(self.rates) - 1, max(0, index + direction))
        self.neuron.learning_rate = self.rates[index]
        self.neuron.reset()

    def new_start(self) -> None:
        """A new random start weight in [0, 0.5) (seed + the number of draws so far, so it is reproducible)."""
        self.starts += 1
        self.neuron.reset(random_start_weight(self.seed + self.starts))

    # --- chapters 2 and 3 --------------------------------------------------------------------------------------

    def drive_on(self) -> None:
        """Let the car drive on for a second of simulated time (the readings change)."""
        self.drive_steps += round(DRIVE_ON_SECONDS / self.car.config.physics.dt_s)

    def choose_row(self, direction: int) -> None:
        """The next or previous neuron (row) of the first layer."""
        rows = self.car.network[0].out_features
        self.matrix_row = (self.matrix_row + direction) % rows

    # --- chapter 4 ---------------------------------------------------------------------------------------------

    def random_weights(self) -> None:
        """New random weights for the two-layer network."""
        self.random_draws += 1
        self.collapse.use_random(self.seed + self.random_draws)

    def designed_weights(self) -> None:
        """The hand-made weights again."""
        self.collapse.use_designed()

    # --- chapter 5 ---------------------------------------------------------------------------------------------

    def change_ahead(self, direction: int) -> None:
        """The ahead reading the decision map is drawn at, by 0.1 within [0, 1]."""
        self.ahead = round(min(1.0, max(0.0, self.ahead + direction * AHEAD_STEP)), 6)

    def toggle_car(self) -> None:
        """Pause or resume the car of chapter 5."""
        self.car_paused = not self.car_paused

    def car_steps_due(self, budget_steps: int) -> int:
        """How many simulation steps the car takes now, given the real-time budget: chapter 5 drives unless paused,
        chapters 2 and 3 drive only what N asked for, the other chapters leave the car alone."""
        if self.chapter_name in ("brain", "driving"):
            return 0 if self.car_paused else budget_steps
        if self.chapter_name in ("inputs", "matrix"):
            steps = min(self.drive_steps, budget_steps)
            self.drive_steps -= steps
            return steps
        return 0

    # --- chapter 6 ---------------------------------------------------------------------------------------------

    def open_window(self, name: str) -> None:
        """Ask for the 'sim' or the 'drive' window (the lesson window closes, the command opens that one)."""
        if name not in ("sim", "drive"):
            raise ValueError(name)
        self.request = name
