"""The lesson's first neuron: `y = W * x` with one unknown weight, learned from its error one step at a time.

The neuron is a real `nn.Linear(1, 1, bias=False)` in float64, so the numbers are the ones Python prints. One
learning step is the rule the lesson teaches:

    error = y - target
    W <- W - learning_rate * error

The error is not multiplied by x (the gradient of error**2 / 2 would be `error * x`), so one step changes y by
`-learning_rate * x * error` and the next error is the last one times `1 - learning_rate * x`:

| learning_rate * x | what happens                                                     |
|-------------------|------------------------------------------------------------------|
| 0 to 1            | y approaches the target from one side (converges)                |
| 1 to 2            | every step jumps past the target, by less each time (oscillates) |
| 2                 | it jumps back and forth forever by the same amount               |
| above 2           | every jump is bigger than the last (diverges)                    |

So for x = 6 the learning rate overshoots above 1/6 and diverges above 2/6.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

DEFAULT_X = 6.0
DEFAULT_TARGET = 1.5
START_WEIGHT_RANGE = (0.0, 0.5)
# A run stops early when y leaves this range: further steps would only print ever larger numbers (and then inf).
GIVE_UP_OUTPUT = 1e12
CONVERGED_TOLERANCE = 1e-3


@dataclass(frozen=True)
class NeuronStep:
    """One row of the run: after `step` learning steps the weight is `weight`, the output `output` (= weight * x)
    and `error` = output - target (step 0 is the start)."""

    step: int
    weight: float
    output: float
    error: float

    def as_dict(self) -> dict[str, float]:
        """The row as a plain dict (for JSON)."""
        return asdict(self)


def random_start_weight(seed: int) -> float:
    """A start weight drawn uniformly from [0, 0.5) by a generator of its own seeded with `seed`."""
    low, high = START_WEIGHT_RANGE
    return float(np.random.default_rng(seed).uniform(low, high))


def step_factor(x: float, learning_rate: float) -> float:
    """What each step multiplies the error by: `1 - learning_rate * x`."""
    return 1.0 - learning_rate * x


def behaviour(x: float, learning_rate: float) -> str:
    """How the error evolves for this rate: 'converges', 'oscillates' (overshoots but shrinks), 'stays'
    (overshoots by the same amount forever, or does not move at all) or 'diverges'."""
    factor = step_factor(x, learning_rate)
    if abs(factor) > 1:
        return "diverges"
    if abs(factor) == 1:
        return "stays"
    return "oscillates" if factor < 0 else "converges"


def thresholds(x: float) -> tuple[float, float]:
    """The learning rates above which steps overshoot (1/x) and diverge (2/x)."""
    return 1.0 / x, 2.0 / x


class Neuron:
    """One weight, one input: the neuron of the lesson's first chapter, stepped by the lesson's rule."""

    def __init__(self, x: float, target: float, weight: float, learning_rate: float) -> None:
        self.x = float(x)
        self.target = float(target)
        self.learning_rate = float(learning_rate)
        self.layer = nn.Linear(1, 1, bias=False, dtype=torch.float64)
        self.start_weight = float(weight)
        self.history: list[NeuronStep] = []
        self.reset(weight)

    @property
    def weight(self) -> float:
        """The current W."""
        return float(self.layer.weight.item())

    @torch.no_grad()
    def output(self) -> float:
        """y = W * x, computed by the layer."""
        return float(self.layer(torch.tensor([[self.x]], dtype=torch.float64)).item())

    def _row(self, step: int) -> NeuronStep:
        output = self.output()
        return NeuronStep(step, self.weight, output, output - self.target)

    @torch.no_grad()
    def reset(self, weight: float | None = None) -> None:
        """Back to step 0 (with a new start weight if given)."""
        if weight is not None:
            self.start_weight = float(weight)
        self.layer.weight.fill_(self.start_weight)
        self.history = [self._row(0)]

    @property
    def blown_up(self) -> bool:
        """True once y is so far off that more steps would only overflow."""
        last = self.history[-1].output
        return not math.isfinite(last) or abs(last) > GIVE_UP_OUTPUT

    @torch.no_grad()
    def step(self) -> NeuronStep:
        """One learning step: `W <- W - learning_rate * (y - target)`; returns the new row."""
        if self.blown_up:
            return self.history[-1]
        error = self.history[-1].error
        self.layer.weight.sub_(self.learning_rate * error)
        row = self._row(len(self.history))
        self.history.append(row)
        return row

    def run(self, steps: int) -> list[NeuronStep]:
        """Take up to `steps` steps (fewer if y blows up); returns the whole history."""
        for _ in range(steps):
            if self.blown_up:
                break
            self.step()
        return self.history

    def behaviour(self) -> str:
        """How this rate behaves for this x (see `behaviour`)."""
        return behaviour(self.x, self.learning_rate)

    def converged(self) -> bool:
        """True when the last y is within `CONVERGED_TOLERANCE` of the target."""
        return abs(self.history[-1].error) <= CONVERGED_TOLERANCE


def run_neuron(x: float, target: float, weight: float, learning_rate: float, steps: int) -> Neuron:
    """A neuron after `steps` steps of the rule (stopped early if y blows up)."""
    neuron = Neuron(x, target, weight, learning_rate)
    neuron.run(steps)
    return neuron
