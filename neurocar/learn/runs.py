"""What every training run shares, whichever teacher drives it: why it ended (`RunOutcome`) and the `Reporter`
hooks that hear about it.

A run (a `Neuroevolution` or a `Reinforcement`) is a state its caller steps; it never prints, saves or waits for
keys itself. Whoever steps it tells the reporters: `on_run_start` once, `on_result` after every generation or
update, `on_run_end` once with the outcome, whatever ended the run. The shared reporters (`neurocar.learn.reporters`)
read a run through the small `TrainingRun` interface below, so one console line, one CSV log, one checkpoint writer
and one chart serve both teachers.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # only for the annotations: this module imports nothing heavy
    import numpy as np
    import torch
    from torch import nn

    from neurocar.config import Config


class RunOutcome(enum.Enum):
    """Why a run ended."""

    TARGET_REACHED = "target"  # the target laps were driven on every track
    FINISHED = "generations"  # the run's generations (or updates) are spent
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM
    CLOSED = "closed"  # the window was closed
    RESTARTED = "restarted"  # the window started a new run instead


class RunResult(Protocol):
    """What one generation or update did, as the reporters read it."""

    def log_row(self) -> dict[str, Any]:
        """The history row, as numbers."""

    def console_line(self, total: int) -> str:
        """The line a console prints for it (`total`: the run's generations or updates)."""


class TrainingRun(Protocol):
    """What the shared reporters read of a run (`Neuroevolution` and `Reinforcement` both provide it)."""

    config: Config
    history: list[dict[str, Any]]
    best_vector: np.ndarray | torch.Tensor | None  # None before the first generation or update
    outcome: RunOutcome | None
    unit: str  # "generation" or "update": what one result is
    command: str  # the `neurocar train` subcommand that resumes the run
    log_columns: list[str]

    @property
    def completed(self) -> int:
        """Generations (or updates) done."""

    @property
    def total(self) -> int:
        """The run's total generations (or updates)."""

    @property
    def best_at(self) -> int:
        """The generation (or update) whose network is the kept best (0 before any)."""

    def heading(self) -> str:
        """The line that says what is being trained."""

    def chart_series(self) -> tuple[str, dict[str, list[float]]]:
        """The chart's title and its lines, one value per generation (or update)."""

    def best_network(self) -> nn.Sequential:
        """A copy of the network kept as the best so far."""

    def best_state_dict(self) -> dict[str, Any]:
        """The network kept as the best so far, as its state_dict (what a model file stores)."""

    def training_info(self) -> dict[str, Any]:
        """The `training` section of a model file saved from the run."""


class Reporter:
    """A passive hook told about a run's progress (console, CSV log, checkpoints, the window). Override what you
    need; none of them is called by the run itself."""

    def on_run_start(self, run: Any) -> None:
        """The run starts (or resumes)."""

    def on_result(self, run: Any, result: Any) -> None:
        """A generation (or update) finished: it was scored and the next one prepared."""

    def on_generation(self, run: Any, result: Any) -> None:
        """The evolution name of `on_result`."""
        self.on_result(run, result)

    def on_run_end(self, run: Any, outcome: RunOutcome) -> None:
        """The run ended (the best model and the checkpoint are saved here, whatever the outcome)."""
