"""Several trained models, one car each, driven with one batched forward per network shape.

Models of the same shape (layer sizes and activation) are stacked as rows of one `PopulationPolicy`, so ten
models cost one forward pass, not ten.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from neurocar.learn.model_file import Model
from neurocar.learn.policy import PopulationPolicy, network_vector


class ModelPilots:
    """Actions for M cars, car i driven by `models[i]`."""

    def __init__(self, models: Sequence[Model]) -> None:
        self.models = list(models)
        groups: dict[tuple[tuple[int, ...], str], list[int]] = {}
        for index, model in enumerate(self.models):
            groups.setdefault((tuple(model.hidden_sizes), model.activation), []).append(index)
        self._groups: list[tuple[np.ndarray, PopulationPolicy]] = []
        for members in groups.values():
            policy = PopulationPolicy(self.models[members[0]].network)
            policy.set_parameters(torch.stack([network_vector(self.models[index].network) for index in members]))
            self._groups.append((np.array(members, dtype=np.int64), policy))

    def actions(self, observations: np.ndarray) -> np.ndarray:
        """Actions (M,) for observations (M, R), row i seen by model i."""
        actions = np.ones(len(self.models), dtype=np.int64)
        for members, policy in self._groups:
            actions[members] = policy.actions(observations[members])
        return actions
