"""The population's forward pass compiled for the driving loops: every car's network, from its own parameter row.

A torch call costs tens of microseconds whatever the batch, several times a whole world step at one car, so the
loops that drive (evolution, evaluation, the windows) pick actions here instead. The computation is the
`nn.Sequential`'s, in float32 as torch computes it, from the same flat parameter rows (the layout of
`parameters_to_vector`): per Linear layer, each output is the sum of inputs times weights, plus the bias, then the
activation between layers; the action is the first of the largest logits. The tests compare it with torch.

| layer table column | meaning                                           |
|--------------------|---------------------------------------------------|
| 0                  | inputs of the layer                               |
| 1                  | outputs of the layer                              |
| 2                  | offset of its weights (outputs x inputs, row-major) in a row |
| 3                  | offset of its biases in a row                     |
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Activation codes (the layer between two Linear layers), as `neurocar.learn.policy.ACTIVATION_CODES` names them.
SIGMOID, TANH, RELU = 0, 1, 2


@njit(cache=True)
def population_actions(observations, parameters, layers, activation, actions, values, scratch, driving):
    """Write into `actions` (P,) the argmax of each network's logits; network i reads observation row i.

    Only rows whose `driving` flag is set are computed (a car that stopped is given 1, straight, which a world
    ignores); `values` and `scratch` are float32 buffers at least as long as the widest layer.
    """
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for row in range(observations.shape[0]):
        if not driving[row]:
            actions[row] = 1
            continue
        for column in range(observations.shape[1]):
            values[column] = np.float32(observations[row, column])
        last = layers.shape[0] - 1
        for layer in range(layers.shape[0]):
            inputs = layers[layer, 0]
            outputs = layers[layer, 1]
            weights = layers[layer, 2]
            biases = layers[layer, 3]
            for output in range(outputs):
                total = zero
                for index in range(inputs):
                    total += values[index] * parameters[row, weights + output * inputs + index]
                total = total + parameters[row, biases + output]
                if layer < last:
                    if activation == SIGMOID:
                        total = one / (one + math.exp(-total))
                    elif activation == TANH:
                        total = math.tanh(total)
                    else:
                        total = max(total, zero)
                scratch[output] = total
            for output in range(outputs):
                values[output] = scratch[output]
        best = 0
        for output in range(1, layers[last, 1]):
            if values[output] > values[best]:
                best = output
        actions[row] = best
