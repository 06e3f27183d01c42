"""`neurocar train supervised`: behaviour cloning from recorded driving sessions, headless, with a run folder."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from neurocar.chart import write_line_chart
from neurocar.commands.common import (
    config_from_args,
    explicit_keys,
    model_path,
    refuse_existing_output,
    require_at_least,
)
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import check_model_destination, config_for_model, load_model, save_model
from neurocar.learn.policy import build_network
from neurocar.learn.recording import check_sensors, load_sessions
from neurocar.learn.reporters import progress_bar
from neurocar.learn.run_directory import BEST_MODEL_FILE, LOG_FILE, CsvLog, claim_run_directory
from neurocar.learn.supervised import (
    LOG_COLUMNS,
    EpochResult,
    action_histogram,
    confusion_matrix,
    initialize_network,
    prepare_data,
    train_supervised,
)
from neurocar.paths import display_path
from neurocar.sim.car import ACTION_NAMES

EXIT_INTERRUPTED = 130
LOSS_CHART_FILE = "loss.png"


class EpochReporter:
    """Logs every epoch to the run's CSV and redraws a progress bar on stderr when it is a terminal."""

    def __init__(self, log: CsvLog, epochs: int, errors: TextIO | None = None) -> None:
        self.log = log
        self.epochs = epochs
        self.errors = errors or sys.stderr
        self.interactive = bool(getattr(self.errors, "isatty", lambda: False)())

    def __call__(self, result: EpochResult) -> None:
        """Record one epoch."""
        self.log.append(result.log_row())
        if self.interactive:
            self.errors.write(
                f"\r\033[K{progress_bar(result.epoch, self.epochs)}  loss {result.train_loss:.3f}"
                f"  validation {result.validation_loss:.3f}"
            )
            self.errors.flush()

    def close(self) -> None:
        """Clear the bar."""
        if self.interactive:
            self.errors.write("\r\033[K")
            self.errors.flush()


def _format_matrix(matrix: np.ndarray) -> list[str]:
    width = max(8, *(len(str(value)) for value in matrix.ravel()))
    lines = ["recorded \\ predicted " + "".join(f"{name:>{width + 2}}" for name in ACTION_NAMES)]
    for name, row in zip(ACTION_NAMES, matrix, strict=True):
        lines.append(f"{name:<21}" + "".join(f"{int(value):>{width + 2}}" for value in row))
    return lines


def run(arguments: argparse.Namespace) -> int:
    """Train a policy on recorded sessions and save it."""
    require_at_least("--epochs", arguments.epochs, 1)
    # The network is tiny: one thread is faster than several that spend their time synchronising.
    torch.set_num_threads(1)
    if arguments.out is not None:
        check_model_destination(arguments.out)
    refuse_existing_output(arguments.out, arguments.force)
    config = config_from_args(arguments)
    init_model = None
    if arguments.init is not None:
        init_model = load_model(model_path(arguments.init, "--init"))
        config = config_for_model(init_model, config, explicit_keys(arguments))
    policy_name = f"the model {init_model.path}" if init_model is not None else "the policy (config sensors)"
    sessions = load_sessions(arguments.data)
    for session in sessions:
        check_sensors(session, config.sensors, policy_name)
    seed = arguments.seed if arguments.seed is not None else 0
    epochs = arguments.epochs or config.supervised.epochs
    generator = torch.Generator().manual_seed(seed)
    data = prepare_data(sessions, config.supervised.validation_fraction, generator, mirror=arguments.mirror)
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    if init_model is not None:
        network.load_state_dict(init_model.network.state_dict())
    else:
        initialize_network(network, generator)
    folder, lock = claim_run_directory(arguments.run_dir, "supervised")
    with lock:
        print(
            f"training on {len(data.train)} frames, validating on {len(data.validation)} "
            f"({len(sessions)} session(s), {data.frames_used} of {data.frames_total} frames by "
            f"{' or '.join(data.frames_by_driver)}{', mirrored' if data.mirrored else ''}; seed {seed})",
            flush=True,
        )
        reporter = EpochReporter(CsvLog(folder / LOG_FILE, LOG_COLUMNS), epochs)
        outcome = train_supervised(network, data, config.supervised, epochs, generator, reporter)
        seconds = outcome.seconds
        reporter.close()
        diverged = (
            f"training diverged in epoch {outcome.diverged_epoch} (the loss or the weights became NaN or infinite); "
            f"lower supervised.learning_rate (now {config.supervised.learning_rate:g})"
        )
        if outcome.diverged_epoch and not outcome.history:
            raise NeuroCarError(f"{diverged}; nothing saved")
        if not outcome.history:
            print("interrupted before the first epoch finished; nothing saved", flush=True)
            return EXIT_INTERRUPTED
        best = outcome.best
        training = {
            "method": "supervised",
            "seed": seed,
            "data_sessions": data.sessions,
            "validation_sessions": data.validation_sessions,
            "tracks": sorted({session.meta["track"]["path"] or session.track_name for session in sessions}),
            "track_names": sorted({session.track_name for session in sessions}),
            "frames": {
                "total": data.frames_total,
                "used": data.frames_used,
                "by_driver": data.frames_by_driver,
                "train": len(data.train),
                "validation": len(data.validation),
            },
            "mirrored": data.mirrored,
            "epochs": len(outcome.history),
            "best_epoch": outcome.best_epoch,
            "init": init_model.path if init_model is not None else None,
            "metrics": {key: value for key, value in best.log_row().items() if key != "epoch"},
            "config": config.to_dict(),
        }
        save_model(folder / BEST_MODEL_FILE, network, config, training)
        if arguments.out is not None:
            save_model(arguments.out, network, config, training)
        if outcome.diverged_epoch:
            raise NeuroCarError(
                f"{diverged}; kept the best model, from epoch {outcome.best_epoch}, in "
                f"{display_path(folder / BEST_MODEL_FILE)}"
            )
        write_line_chart(
            folder / LOSS_CHART_FILE,
            {
                "train": [result.train_loss for result in outcome.history],
                **(
                    {"validation": [result.validation_loss for result in outcome.history]}
                    if len(data.validation)
                    else {}
                ),
            },
            title="Cross-entropy loss per epoch",
            x_label="epoch",
            y_label="loss",
            x_values=[result.epoch for result in outcome.history],
        )
        ending = "interrupted" if outcome.interrupted else ("stopped early" if outcome.stopped_early else "finished")
        validation = (
            f", validation loss {best.validation_loss:.3f} accuracy {best.validation_accuracy:.1%}"
            if not math.isnan(best.validation_loss)
            else ""
        )
        print(
            f"{ending} after {len(outcome.history)} epochs in {seconds:.2f}s; best epoch {outcome.best_epoch}: "
            f"train loss {best.train_loss:.3f} accuracy {best.train_accuracy:.1%}{validation}"
        )
        histogram = action_histogram(data.train.actions)
        counts = ", ".join(f"{name} {count}" for name, count in zip(ACTION_NAMES, histogram, strict=True))
        print(f"training actions: {counts}")
        shown = data.validation if len(data.validation) else data.train
        print(f"confusion matrix ({'validation' if len(data.validation) else 'training'} frames):")
        for line in _format_matrix(confusion_matrix(network, shown)):
            print("  " + line)
        print(f"run folder {display_path(folder)}; model {display_path(folder / BEST_MODEL_FILE)}", end="")
        print(f" and {display_path(Path(arguments.out))}" if arguments.out else "")
        return EXIT_INTERRUPTED if outcome.interrupted else 0
