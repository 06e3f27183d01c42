"""The policy network and its flat-vector view, with one batched forward for a whole population.

The architecture is defined once, by `build_network`: `nn.Sequential(nn.Linear(R, 6), nn.Sigmoid(),
nn.Linear(6, 3))` for the default three sensors. Inputs are the sensor readings (see `neurocar.sim.sensors`);
the three outputs are logits for the actions and the action is their argmax:

| output | action      |
|--------|-------------|
| 0      | steer left  |
| 1      | straight    |
| 2      | steer right |

A population is a (P, n_parameters) float32 array whose rows use the layout of `parameters_to_vector(network
.parameters())`, described by a `NetworkLayout` (sizes and activation, no torch). `PopulationPolicy` drives a
population from its rows: `actions`, the call the driving loops make every step, runs the forward compiled
(`neurocar.learn.policy_kernel`), because a torch call costs more than a whole world step at a few cars;
`activations` computes every layer's values with numpy for what the windows show. Neither imports torch, so
evolution runs without it; the tests check both against the `nn.Sequential`. Torch is imported only by the
functions that make or read an `nn.Module`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from neurocar.config import ACTIVATIONS

if TYPE_CHECKING:
    import torch
    from torch import nn

# The torch module of each activation, by the name a config gives it, and back.
ACTIVATION_MODULE_NAMES = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}
# The compiled forward's code for each activation (see `neurocar.learn.policy_kernel`).
ACTIVATION_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2}
# Each activation's value at zero: where a hidden layer's outputs sit when its inputs are at their centre.
ACTIVATION_AT_ZERO = {"sigmoid": 0.5, "tanh": 0.0, "relu": 0.0}
ACTION_COUNT = 3


class LinearSlot(NamedTuple):
    """Where one Linear layer sits in the flat vector: its weights (outputs x inputs, row by row, as
    `parameters_to_vector` lays them out) and biases, its sizes, the activation after it (None for the last layer)
    and its index in the `nn.Sequential`."""

    weights: slice
    bias: slice
    outputs: int
    inputs: int
    activation: str | None
    module_index: int


@dataclass(frozen=True)
class NetworkLayout:
    """The shape of a policy network without the network: what the population, the genetic operators and the
    compiled forward need, so that evolution runs without torch. `build_network` makes the `nn.Sequential` it
    describes."""

    input_size: int
    hidden_sizes: tuple[int, ...]
    activation: str

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATION_CODES:
            raise ValueError(f"unknown activation {self.activation!r} (expected one of {', '.join(ACTIVATIONS)})")
        object.__setattr__(self, "hidden_sizes", tuple(int(size) for size in self.hidden_sizes))

    @classmethod
    def of(cls, network: nn.Sequential) -> NetworkLayout:
        """The layout of a network `build_network` made (Linear layers with one activation between each two)."""
        modules = list(network)
        names = {value: key for key, value in ACTIVATION_MODULE_NAMES.items()}
        between = {type(module).__name__ for module in modules[1::2]}
        if (
            len(modules) % 2 != 1
            or not all(hasattr(module, "in_features") for module in modules[::2])
            or len(between) > 1
            or not between <= set(names)
        ):
            raise ValueError("expected Linear layers with one activation (Sigmoid, Tanh or ReLU) between each two")
        sizes = tuple(module.out_features for module in modules[:-1:2])
        return cls(modules[0].in_features, sizes, names[next(iter(between), "Sigmoid")])

    @property
    def sizes(self) -> list[int]:
        """Every layer's width, inputs first and the action outputs last."""
        return [self.input_size, *self.hidden_sizes, ACTION_COUNT]

    @property
    def parameter_count(self) -> int:
        """Number of weights and biases (45 for the default 3-6-3)."""
        return sum(inputs * outputs + outputs for inputs, outputs in pairwise(self.sizes))

    def linear_layers(self) -> list[LinearSlot]:
        """Every Linear layer's place in the flat vector, first to last."""
        slots = []
        offset = 0
        sizes = self.sizes
        for number, (inputs, outputs) in enumerate(pairwise(sizes)):
            weights = inputs * outputs
            last = number == len(sizes) - 2
            slots.append(
                LinearSlot(
                    slice(offset, offset + weights),
                    slice(offset + weights, offset + weights + outputs),
                    outputs,
                    inputs,
                    None if last else self.activation,
                    2 * number,
                )
            )
            offset += weights + outputs
        return slots

    def state_dict(self, vector: np.ndarray) -> dict[str, np.ndarray]:
        """A flat vector as the `nn.Sequential`'s state_dict (`0.weight`, `0.bias`, `2.weight`, ...), float32
        arrays."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.size != self.parameter_count:
            raise ValueError(f"expected {self.parameter_count} parameters, got {vector.size}")
        state = {}
        for slot in self.linear_layers():
            state[f"{slot.module_index}.weight"] = vector[slot.weights].reshape(slot.outputs, slot.inputs).copy()
            state[f"{slot.module_index}.bias"] = vector[slot.bias].copy()
        return state


def layout_from_config(config: Any) -> NetworkLayout:
    """The layout of the policy a config asks for."""
    return NetworkLayout(len(config.sensors.angles_deg), tuple(config.policy.hidden_sizes), config.policy.activation)


def build_network(input_size: int, hidden_sizes: tuple[int, ...] | list[int], activation: str) -> nn.Sequential:
    """The policy network: Linear layers with `activation` between them, ending in 3 action logits."""
    from torch import nn

    module = getattr(nn, ACTIVATION_MODULE_NAMES[activation])
    layers: list[nn.Module] = []
    width = input_size
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), module()]
        width = size
    layers.append(nn.Linear(width, ACTION_COUNT))
    return nn.Sequential(*layers)


def parameter_count(network: nn.Module) -> int:
    """Number of weights and biases in the network (45 for the default 3-6-3)."""
    return sum(parameter.numel() for parameter in network.parameters())


def network_vector(network: nn.Module) -> torch.Tensor:
    """The network's parameters as one flat vector (a copy)."""
    from torch import nn

    return nn.utils.parameters_to_vector(network.parameters()).detach().clone()


def load_vector(network: nn.Module, vector: torch.Tensor | np.ndarray) -> nn.Module:
    """Write a flat vector into the network's parameters (in place) and return the network."""
    import torch
    from torch import nn

    with torch.no_grad():
        nn.utils.vector_to_parameters(torch.as_tensor(vector).to(torch.float32), network.parameters())
    return network


def network_rows(network: nn.Module, count: int = 1) -> np.ndarray:
    """`count` copies of the network's flat vector, as the (count, n_parameters) rows a `PopulationPolicy` drives."""
    return np.repeat(as_rows(network_vector(network)).reshape(1, -1), count, axis=0)


def as_rows(parameters: Any) -> np.ndarray:
    """Parameter rows as a float32 numpy array, from numpy or from a torch tensor (read without importing torch)."""
    if hasattr(parameters, "detach"):
        parameters = parameters.detach().cpu().numpy()
    return np.ascontiguousarray(parameters, dtype=np.float32)


class PopulationPolicy:
    """Evaluates P networks of one layout at once: row i of the parameters drives car i."""

    def __init__(self, network: NetworkLayout | nn.Sequential) -> None:
        self.layout = network if isinstance(network, NetworkLayout) else NetworkLayout.of(network)
        self.parameter_count = self.layout.parameter_count
        self._slots = self.layout.linear_layers()
        self._rows: np.ndarray | None = None
        self._layer_table = np.array(
            [[slot.inputs, slot.outputs, slot.weights.start, slot.bias.start] for slot in self._slots], dtype=np.int64
        )
        width = max(self.layout.sizes)
        self._values = np.zeros(width, dtype=np.float32)
        self._scratch = np.zeros(width, dtype=np.float32)
        self._activation = ACTIVATION_CODES[self.layout.activation]
        self._kernel = None
        self._everyone = np.ones(0, dtype=bool)

    @property
    def rows(self) -> np.ndarray:
        """The parameter rows in use, (P, n_parameters) float32."""
        if self._rows is None:
            raise ValueError("set_parameters must be called before the first forward")
        return self._rows

    def set_parameters(self, parameters: np.ndarray | torch.Tensor) -> None:
        """Use these (P, n_parameters) vectors (numpy or torch) for the following forwards."""
        rows = as_rows(parameters)
        if rows.ndim != 2 or rows.shape[1] != self.parameter_count:
            raise ValueError(f"expected parameters of shape (P, {self.parameter_count}), got {tuple(rows.shape)}")
        self._rows = rows
        self._everyone = np.ones(len(rows), dtype=bool)

    def activations(self, observations: np.ndarray) -> list[np.ndarray]:
        """Every layer's output (P, width) in order (each Linear layer, then its activation), ending with the
        logits, in float32 as the compiled forward and torch compute them: what the network view and the lesson
        show."""
        rows = self.rows
        values = np.asarray(observations, dtype=np.float32)
        outputs: list[np.ndarray] = []
        for slot in self._slots:
            weights = rows[:, slot.weights].reshape(-1, slot.outputs, slot.inputs)
            values = np.einsum("pi,poi->po", values, weights) + rows[:, slot.bias]
            outputs.append(values)
            if slot.activation is not None:
                values = activate(values, slot.activation)
                outputs.append(values)
        return outputs

    def logits(self, observations: np.ndarray) -> np.ndarray:
        """Action logits (P, 3) for observations (P, R): network i sees observation row i."""
        return self.activations(observations)[-1]

    def actions(self, observations: np.ndarray, driving: np.ndarray | None = None) -> np.ndarray:
        """Actions (P,), the first of each network's largest logits, for observations (P, R) (compiled).

        With `driving` (P,) bools, only the rows of cars still driving are computed; the others get 1 (straight),
        which a world ignores for a car that stopped."""
        rows = self.rows
        observations = np.asarray(observations, dtype=np.float64)
        expected = (len(rows), self.layout.input_size)
        if observations.shape != expected:
            raise ValueError(f"expected observations of shape {expected}, got {observations.shape}")
        if self._kernel is None:
            from neurocar.learn.policy_kernel import population_actions  # compiled on first use

            self._kernel = population_actions
        if driving is None:
            driving = self._everyone
        elif driving.shape != (len(rows),) or driving.dtype != np.bool_:
            raise ValueError(f"expected {len(rows)} driving flags, got shape {driving.shape} ({driving.dtype})")
        else:
            driving = np.ascontiguousarray(driving)  # a world's flags are a column view: one compiled layout
        actions = np.empty(len(rows), dtype=np.int64)
        self._kernel(
            observations, rows, self._layer_table, self._activation, actions, self._values, self._scratch, driving
        )
        return actions


def activate(values: np.ndarray, activation: str) -> np.ndarray:
    """An activation applied to float32 values."""
    if activation == "sigmoid":
        return (np.float32(1.0) / (np.float32(1.0) + np.exp(-values))).astype(np.float32)
    if activation == "tanh":
        return np.tanh(values)
    return np.maximum(values, np.float32(0.0))
