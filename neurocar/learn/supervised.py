"""Behaviour cloning: the policy network learns to predict the recorded driver's action from the sensor readings.

The data are frames of recorded sessions (see `neurocar.learn.recording`): inputs are the sensor readings (F, R),
targets the actions (F,). `prepare_data` keeps the frames of the chosen drivers, holds out whole sessions for
validation (contiguous blocks of frames when there is only one session), and can add mirrored frames (sensor i
swapped with the sensor at the opposite angle, left and right swapped). `train_supervised` is the loop: Adam on a
class-weighted cross-entropy (so the many "straight" frames do not drown the rare steering ones), minibatches
shuffled by a seeded `torch.Generator`, early stopping on validation loss with the best weights restored. It
reports each epoch to a callback and never prints.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from neurocar.config import SupervisedConfig
from neurocar.errors import NeuroCarError
from neurocar.learn.policy import ACTION_COUNT
from neurocar.learn.recording import Session
from neurocar.sim.car import STEER_LEFT, STEER_RIGHT

TRAINING_DRIVERS = ("person", "autopilot")
# With a single session, validation takes whole blocks of this many equal parts, so neighbouring (nearly
# identical) frames do not end up on both sides of the split.
SINGLE_SESSION_BLOCKS = 10


@dataclass
class Dataset:
    """Inputs (F, R) float32 and target actions (F,) int64."""

    observations: torch.Tensor
    actions: torch.Tensor

    def __len__(self) -> int:
        return len(self.actions)


@dataclass
class PreparedData:
    """The training and validation sets, and where they came from."""

    train: Dataset
    validation: Dataset
    sessions: list[str]
    validation_sessions: list[str]
    frames_total: int
    frames_used: int
    frames_by_driver: dict[str, int]
    mirrored: bool


@dataclass
class EpochResult:
    """Losses and accuracies after one epoch (validation values are NaN when there is no validation set)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    validation_loss: float
    validation_accuracy: float

    def log_row(self) -> dict[str, object]:
        """The CSV log row."""
        return {
            "epoch": self.epoch,
            "train_loss": repr(self.train_loss),
            "train_accuracy": repr(self.train_accuracy),
            "validation_loss": repr(self.validation_loss),
            "validation_accuracy": repr(self.validation_accuracy),
        }


LOG_COLUMNS = ["epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy"]


@dataclass
class TrainingOutcome:
    """The result of a training run: every epoch, the best one (its weights are in the network), and why it ended."""

    history: list[EpochResult] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    interrupted: bool = False
    diverged_epoch: int = 0  # the epoch whose loss or weights stopped being finite (training stopped there)
    seconds: float = 0.0

    @property
    def best(self) -> EpochResult:
        """The epoch whose weights were kept."""
        return self.history[self.best_epoch - 1]


def mirror_permutation(angles_deg: Sequence[float]) -> np.ndarray:
    """For each sensor, the index of the sensor at the opposite angle; an error if the layout is not symmetric."""
    angles = np.asarray(angles_deg, dtype=np.float64)
    permutation = np.empty(len(angles), dtype=np.int64)
    for index, angle in enumerate(angles):
        matches = np.nonzero(np.isclose(angles, -angle, atol=1e-9))[0]
        if len(matches) != 1:
            raise NeuroCarError(
                f"--mirror: the sensor angles {[float(a) for a in angles]} are not symmetric (no single sensor at "
                f"{-angle:g} degrees to mirror the one at {angle:g}); train without --mirror"
            )
        permutation[index] = matches[0]
    return permutation


def mirror_frames(observations: np.ndarray, actions: np.ndarray, permutation: np.ndarray) -> tuple[np.ndarray, ...]:
    """The left-right mirror image of frames: sensors swapped with their opposites, left and right swapped."""
    swapped = actions.copy()
    swapped[actions == STEER_LEFT] = STEER_RIGHT
    swapped[actions == STEER_RIGHT] = STEER_LEFT
    return observations[:, permutation], swapped


def validation_mask(session_ids: np.ndarray, fraction: float, generator: torch.Generator) -> tuple[np.ndarray, bool]:
    """Which frames are held out, and whether whole sessions were.

    Whole sessions are held out, picked in a seeded random order, when some of them add up to roughly `fraction`
    of the frames (between half and twice that); otherwise (one session, or sessions too uneven) contiguous blocks
    of frames are, so neighbouring, nearly identical frames never end up on both sides.
    """
    frame_count = len(session_ids)
    if fraction <= 0 or frame_count < 2:
        return np.zeros(frame_count, dtype=bool), False
    target = fraction * frame_count
    sessions, sizes = np.unique(session_ids, return_counts=True)
    if len(sessions) >= 2:
        chosen: list[int] = []
        held = 0
        for index in torch.randperm(len(sessions), generator=generator).numpy():
            if held + sizes[index] <= 2 * target and held + sizes[index] < frame_count:
                chosen.append(int(sessions[index]))
                held += int(sizes[index])
            if held >= target:
                break
        if held >= target / 2:
            return np.isin(session_ids, chosen), True
    blocks = min(SINGLE_SESSION_BLOCKS, frame_count)
    order = torch.randperm(blocks, generator=generator).numpy()
    chosen_blocks = order[: max(1, min(blocks - 1, round(fraction * blocks)))]
    block_of_frame = np.arange(frame_count) * blocks // frame_count
    return np.isin(block_of_frame, chosen_blocks), False


def prepare_data(
    sessions: list[Session],
    validation_fraction: float,
    generator: torch.Generator,
    mirror: bool = False,
    drivers: Sequence[str] = TRAINING_DRIVERS,
) -> PreparedData:
    """Select the drivers' frames, split off validation, and add mirrored frames (to both sides) if asked."""
    observations = np.concatenate([session.observations for session in sessions])
    actions = np.concatenate([session.actions for session in sessions])
    all_drivers = np.concatenate([session.drivers for session in sessions])
    session_ids = np.concatenate([np.full(session.frame_count, index) for index, session in enumerate(sessions)])
    keep = np.isin(all_drivers, list(drivers))
    if not keep.any():
        names = ", ".join(session.path for session in sessions)
        raise NeuroCarError(f"{names}: no frames driven by {' or '.join(drivers)} to learn from")
    by_driver = {driver: int((all_drivers[keep] == driver).sum()) for driver in drivers}
    observations, actions, session_ids = observations[keep], actions[keep], session_ids[keep]
    held_out, by_session = validation_mask(session_ids, validation_fraction, generator)
    validation_ids = sorted(set(session_ids[held_out].tolist())) if by_session else []
    parts = {"train": ~held_out, "validation": held_out}
    permutation = mirror_permutation(sessions[0].sensors.angles_deg) if mirror else None
    datasets: dict[str, Dataset] = {}
    for part, mask in parts.items():
        part_observations, part_actions = observations[mask], actions[mask]
        if permutation is not None:
            mirrored_observations, mirrored_actions = mirror_frames(part_observations, part_actions, permutation)
            part_observations = np.concatenate([part_observations, mirrored_observations])
            part_actions = np.concatenate([part_actions, mirrored_actions])
        datasets[part] = Dataset(
            torch.from_numpy(part_observations.astype(np.float32)), torch.from_numpy(part_actions.astype(np.int64))
        )
    return PreparedData(
        train=datasets["train"],
        validation=datasets["validation"],
        sessions=[session.path for session in sessions],
        validation_sessions=[sessions[index].path for index in validation_ids],
        frames_total=sum(session.frame_count for session in sessions),
        frames_used=int(keep.sum()),
        frames_by_driver=by_driver,
        mirrored=mirror,
    )


def class_weights(actions: torch.Tensor) -> torch.Tensor:
    """Loss weight per action, inversely proportional to how often it occurs (absent actions weigh 0)."""
    counts = torch.bincount(actions, minlength=ACTION_COUNT).to(torch.float32)
    present = counts > 0
    weights = torch.zeros(ACTION_COUNT)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def initialize_network(network: nn.Module, generator: torch.Generator) -> None:
    """Fresh weights from `generator` (uniform within 1/sqrt(fan-in), like PyTorch's default, but seeded)."""
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                module.weight.copy_((torch.rand(module.weight.shape, generator=generator) * 2 - 1) * bound)
                module.bias.copy_((torch.rand(module.bias.shape, generator=generator) * 2 - 1) * bound)


@torch.no_grad()
def _measure(network: nn.Module, loss_function: nn.Module, data: Dataset) -> tuple[float, float]:
    if len(data) == 0:
        return math.nan, math.nan
    logits = network(data.observations)
    accuracy = (logits.argmax(dim=1) == data.actions).to(torch.float32).mean()
    return float(loss_function(logits, data.actions)), float(accuracy)


def train_supervised(
    network: nn.Module,
    data: PreparedData,
    settings: SupervisedConfig,
    epochs: int,
    generator: torch.Generator,
    on_epoch: Callable[[EpochResult], None] | None = None,
) -> TrainingOutcome:
    """Train `network` in place; it ends with the weights of the epoch with the lowest validation loss.

    Without a validation set the training loss decides. Training stops early after `settings.patience` epochs
    without improvement. Ctrl-C stops it too (`interrupted`), keeping the best weights so far, and so does a loss or
    a weight that is no longer finite (`diverged_epoch`): the network then keeps the last finite best weights.
    """
    loss_function = nn.CrossEntropyLoss(weight=class_weights(data.train.actions))
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    outcome = TrainingOutcome()
    best_loss = math.inf
    best_state = copy.deepcopy(network.state_dict())
    frame_count = len(data.train)
    # Timed from here: building the first optimizer imports parts of torch lazily (start-up, not training).
    started = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            order = torch.randperm(frame_count, generator=generator)
            # The training figures are averaged over the epoch's minibatches (as they were trained), which
            # saves a second pass over the data.
            loss_sum, correct = 0.0, 0
            for start in range(0, frame_count, settings.batch_size):
                batch = order[start : start + settings.batch_size]
                targets = data.train.actions[batch]
                optimizer.zero_grad()
                logits = network(data.train.observations[batch])
                loss = loss_function(logits, targets)
                loss.backward()
                optimizer.step()
                loss_sum += float(loss.detach()) * len(batch)
                correct += int((logits.argmax(dim=1) == targets).sum())
            train_loss, train_accuracy = loss_sum / frame_count, correct / frame_count
            if not math.isfinite(train_loss) or not all(bool(torch.isfinite(p).all()) for p in network.parameters()):
                # Too large a learning rate: nothing after this can be trusted; the best weights so far are kept.
                outcome.diverged_epoch = epoch
                break
            validation_loss, validation_accuracy = _measure(network, loss_function, data.validation)
            result = EpochResult(epoch, train_loss, train_accuracy, validation_loss, validation_accuracy)
            outcome.history.append(result)
            if on_epoch is not None:
                on_epoch(result)
            deciding = train_loss if math.isnan(validation_loss) else validation_loss
            if deciding < best_loss - 1e-6:
                best_loss = deciding
                outcome.best_epoch = epoch
                best_state = copy.deepcopy(network.state_dict())
            elif epoch - outcome.best_epoch >= settings.patience:
                outcome.stopped_early = True
                break
    except KeyboardInterrupt:
        outcome.interrupted = True
    outcome.seconds = time.perf_counter() - started
    network.load_state_dict(best_state)
    if outcome.best_epoch == 0 and outcome.history:
        outcome.best_epoch = 1
    return outcome


@torch.no_grad()
def confusion_matrix(network: nn.Module, data: Dataset) -> np.ndarray:
    """(3, 3) counts: row = recorded action, column = the network's action."""
    matrix = np.zeros((ACTION_COUNT, ACTION_COUNT), dtype=np.int64)
    if len(data) == 0:
        return matrix
    predicted = network(data.observations).argmax(dim=1).numpy()
    np.add.at(matrix, (data.actions.numpy(), predicted), 1)
    return matrix


def action_histogram(actions: torch.Tensor) -> list[int]:
    """How many frames of each action (left, straight, right)."""
    return torch.bincount(actions, minlength=ACTION_COUNT).tolist()
