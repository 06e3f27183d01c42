"""The policy network and its flat-vector view, with one batched forward for a whole population.

The architecture is defined once, by `build_network`: `nn.Sequential(nn.Linear(R, 6), nn.Sigmoid(),
nn.Linear(6, 3))` for the default three sensors. Inputs are the sensor readings (see `neurocar.sim.sensors`);
the three outputs are logits for the actions and the action is their argmax:

| output | action      |
|--------|-------------|
| 0      | steer left  |
| 1      | straight    |
| 2      | steer right |

A population is a (P, n_parameters) tensor whose rows use the layout of `parameters_to_vector(network
.parameters())`. `PopulationPolicy` walks the same `nn.Sequential` and applies each Linear layer with every
individual's own slice of its row (a batched matrix product), and every other layer (the activations) as the module
itself, so the batched forward cannot drift from the network. `actions`, the call the driving loops make every step,
runs the same computation compiled (`neurocar.learn.policy_kernel`), from the same rows, because a torch call costs
more than a whole world step at a few cars.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
# The compiled forward's code for each activation module (see `neurocar.learn.policy_kernel`).
ACTIVATION_CODES = {"Sigmoid": 0, "Tanh": 1, "ReLU": 2}
ACTION_COUNT = 3


def build_network(input_size: int, hidden_sizes: tuple[int, ...] | list[int], activation: str) -> nn.Sequential:
    """The policy network: Linear layers with `activation` between them, ending in 3 action logits."""
    layers: list[nn.Module] = []
    width = input_size
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), ACTIVATION_MODULES[activation]()]
        width = size
    layers.append(nn.Linear(width, ACTION_COUNT))
    return nn.Sequential(*layers)


def parameter_count(network: nn.Module) -> int:
    """Number of weights and biases in the network (45 for the default 3-6-3)."""
    return sum(parameter.numel() for parameter in network.parameters())


def network_vector(network: nn.Module) -> torch.Tensor:
    """The network's parameters as one flat vector (a copy)."""
    return nn.utils.parameters_to_vector(network.parameters()).detach().clone()


def load_vector(network: nn.Module, vector: torch.Tensor) -> nn.Module:
    """Write a flat vector into the network's parameters (in place) and return the network."""
    with torch.no_grad():
        nn.utils.vector_to_parameters(vector.to(torch.float32), network.parameters())
    return network


class PopulationPolicy:
    """Evaluates P networks of one architecture at once: row i of the parameters drives car i."""

    def __init__(self, network: nn.Sequential) -> None:
        self.network = network
        self.parameter_count = parameter_count(network)
        self._plan: list[tuple[nn.Module, int, int, int, int]] = []
        offset = 0
        for module in network:
            if isinstance(module, nn.Linear):
                weights = module.in_features * module.out_features
                self._plan.append((module, offset, offset + weights, module.out_features, module.in_features))
                offset += weights + module.out_features
            else:
                self._plan.append((module, 0, 0, 0, 0))
        self._parameters: torch.Tensor | None = None
        self._layers: list[tuple[nn.Module, torch.Tensor | None, torch.Tensor | None]] = []
        self._rows = np.zeros((0, self.parameter_count), dtype=np.float32)
        linear = [module for module in network if isinstance(module, nn.Linear)]
        between = {type(module).__name__ for module in network if not isinstance(module, nn.Linear)}
        # The compiled forward covers Linear layers with one kind of activation between them; anything else runs
        # in torch.
        self._compiled_activation = None
        if len(between) <= 1 and all(
            isinstance(module, nn.Linear) == (index % 2 == 0) for index, module in enumerate(network)
        ):
            name = next(iter(between), "Sigmoid")
            self._compiled_activation = ACTIVATION_CODES.get(name)
        table = []
        offset = 0
        for module in linear:
            weights = module.in_features * module.out_features
            table.append([module.in_features, module.out_features, offset, offset + weights])
            offset += weights + module.out_features
        self._layer_table = np.array(table, dtype=np.int64).reshape(-1, 4)
        width = max([module.in_features for module in linear] + [module.out_features for module in linear])
        self._values = np.zeros(width, dtype=np.float32)
        self._scratch = np.zeros(width, dtype=np.float32)
        self._kernel = None

    def set_parameters(self, parameters: torch.Tensor) -> None:
        """Use these (P, n_parameters) vectors for the following forwards (sliced once, reused every step)."""
        if parameters.ndim != 2 or parameters.shape[1] != self.parameter_count:
            raise ValueError(f"expected parameters of shape (P, {self.parameter_count}), got {tuple(parameters.shape)}")
        self._parameters = parameters.to(torch.float32)
        self._rows = np.ascontiguousarray(self._parameters.detach().numpy())
        self._layers = []
        for module, weight_start, weight_end, outputs, inputs in self._plan:
            if isinstance(module, nn.Linear):
                weight = self._parameters[:, weight_start:weight_end].reshape(-1, outputs, inputs)
                bias = self._parameters[:, weight_end : weight_end + outputs]
                self._layers.append((module, weight.transpose(1, 2).contiguous(), bias.contiguous()))
            else:
                self._layers.append((module, None, None))

    @torch.no_grad()
    def logits(self, observations: torch.Tensor, parameters: torch.Tensor | None = None) -> torch.Tensor:
        """Action logits (P, 3) for observations (P, R): network i sees observation row i."""
        if parameters is not None:
            self.set_parameters(parameters)
        if self._parameters is None:
            raise ValueError("set_parameters must be called before the first forward")
        values = observations.to(torch.float32).unsqueeze(1)
        for module, weight, bias in self._layers:
            values = module(values) if weight is None else torch.baddbmm(bias.unsqueeze(1), values, weight)
        return values.squeeze(1)

    @torch.no_grad()
    def activations(self, observations: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output (P, width) in order, ending with the logits: what the network view draws."""
        if self._parameters is None:
            raise ValueError("set_parameters must be called before the first forward")
        values = observations.to(torch.float32).unsqueeze(1)
        outputs: list[torch.Tensor] = []
        for module, weight, bias in self._layers:
            values = module(values) if weight is None else torch.baddbmm(bias.unsqueeze(1), values, weight)
            outputs.append(values.squeeze(1))
        return outputs

    def actions(self, observations: np.ndarray) -> np.ndarray:
        """Actions (P,) as the argmax of each network's logits for numpy observations (P, R)."""
        if self._compiled_activation is None:
            logits = self.logits(torch.from_numpy(np.ascontiguousarray(observations)))
            return logits.argmax(dim=1).numpy()
        if self._parameters is None:
            raise ValueError("set_parameters must be called before the first forward")
        observations = np.asarray(observations, dtype=np.float64)
        expected = (len(self._rows), int(self._layer_table[0, 0]))
        if observations.shape != expected:
            raise ValueError(f"expected observations of shape {expected}, got {observations.shape}")
        if self._kernel is None:
            from neurocar.learn.policy_kernel import population_actions  # compiled on first use

            self._kernel = population_actions
        actions = np.empty(len(self._rows), dtype=np.int64)
        self._kernel(
            observations,
            self._rows,
            self._layer_table,
            self._compiled_activation,
            actions,
            self._values,
            self._scratch,
        )
        return actions
