"""`neurocar train rl`: headless reinforcement learning (PPO) with a run folder, exact resume and Ctrl-C safety."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from neurocar.commands.common import (
    config_from_args,
    explicit_keys,
    load_tracks,
    model_path,
    refuse_existing_output,
    refuse_settings_on_resume,
    require_at_least,
)
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import check_model_destination, config_for_model, load_model
from neurocar.learn.reinforcement import Reinforcement, run_reinforcement
from neurocar.learn.reinforcement_checkpoint import load_checkpoint, save_checkpoint
from neurocar.learn.reporters import (
    FITNESS_CHART_FILE,
    ChartReporter,
    CheckpointReporter,
    ConsoleReporter,
    CsvLogReporter,
)
from neurocar.learn.run_directory import BEST_MODEL_FILE, LOG_FILE, RunLock, claim_run_directory, resume_locked
from neurocar.learn.runs import Reporter, RunOutcome
from neurocar.paths import display_path

EXIT_INTERRUPTED = 130


def config_with_cars(config: Config, cars: int | None) -> Config:
    """The config with `--cars` applied."""
    return config if cars is None else config.replace("reinforcement", cars=cars)


def prepare(arguments: argparse.Namespace) -> tuple[Reinforcement, Path, RunLock]:
    """Build (or restore) the run from the command line: the learner (with its total updates), its folder and the
    lock on the folder (the caller releases it when the run ends)."""
    require_at_least("--updates", arguments.updates, 1)
    require_at_least("--cars", arguments.cars, 1)
    require_at_least("--target-laps", arguments.target_laps, 1)
    if arguments.out is not None:
        check_model_destination(arguments.out)
    refuse_existing_output(arguments.out, arguments.force)
    if arguments.resume is not None:
        refuse_settings_on_resume(
            [
                ("--track", arguments.track),
                ("--seed", arguments.seed),
                ("--cars", arguments.cars),
                ("--config", arguments.config),
                ("--set", arguments.set),
                ("--run-dir", arguments.run_dir),
                ("--init", arguments.init),
            ],
            "--updates, --target-laps and --out",
        )
        folder = Path(arguments.resume)
        learner, lock = resume_locked(folder, load_checkpoint)
        if arguments.target_laps is not None:
            learner.target_laps = arguments.target_laps
        learner.updates = arguments.updates or learner.updates
        return learner, folder, lock

    config = config_with_cars(config_from_args(arguments), arguments.cars)
    init_vector = None
    if arguments.init is not None:
        model = load_model(model_path(arguments.init, "--init"))
        config = config_for_model(model, config, explicit_keys(arguments))
        init_vector = model.vector
    tracks = load_tracks(arguments.track, config)
    seed = arguments.seed if arguments.seed is not None else 0
    updates = arguments.updates or config.reinforcement.updates
    folder, lock = claim_run_directory(arguments.run_dir, "rl")
    try:
        learner = Reinforcement(config, tracks, seed, arguments.target_laps, init_vector, updates=updates)
    except BaseException:
        lock.release()
        raise
    return learner, folder, lock


def reporters_for(learner: Reinforcement, folder: Path, out: str | None, console: bool = True) -> list[Reporter]:
    """The standard reporters of a run: console (if asked), CSV log, checkpoints, chart."""
    reporters: list[Reporter] = [ConsoleReporter()] if console else []
    reporters += [
        CsvLogReporter(folder / LOG_FILE),
        CheckpointReporter(folder, save_checkpoint, Path(out) if out else None),
        ChartReporter(folder / FITNESS_CHART_FILE),
    ]
    return reporters


def train(learner: Reinforcement, reporters: list[Reporter]) -> RunOutcome:
    """Learn until the run ends; Ctrl-C (or a stop signal, which the command line turns into one) ends it as
    INTERRUPTED, after the reporters have saved (the checkpoint of the last whole update)."""
    try:
        return run_reinforcement(learner, reporters)
    except KeyboardInterrupt:
        learner.stop(RunOutcome.INTERRUPTED)
        for reporter in reporters:
            reporter.on_run_end(learner, RunOutcome.INTERRUPTED)
        return RunOutcome.INTERRUPTED


def run(arguments: argparse.Namespace) -> int:
    """Run or resume a PPO run and report where its files are."""
    # The networks are tiny: one thread is faster than several that spend their time synchronising.
    torch.set_num_threads(1)
    learner, folder, lock = prepare(arguments)
    with lock:
        if learner.update >= learner.total:
            raise NeuroCarError(
                f"--resume {display_path(folder)}: the run already has {learner.update} updates; "
                f"ask for more with --updates N (N > {learner.update})"
            )
        outcome = train(learner, reporters_for(learner, folder, arguments.out))
    if outcome is RunOutcome.INTERRUPTED:
        return EXIT_INTERRUPTED
    best = learner.best_row
    if outcome is RunOutcome.TARGET_REACHED:
        summary = f"the greedy policy drove {learner.target_laps} lap(s) after update {learner.update}"
    else:
        summary = f"finished {learner.update} updates"
    print(
        f"{summary} ({learner.car_steps:,} car-steps); best greedy drive: {best.get('greedy_laps', 0)} laps, "
        f"{float(best.get('greedy_progress_percent', 'nan')):.1f}% (update {learner.best_update}); "
        f"run folder {display_path(folder)}"
    )
    print(f"best model: {display_path(folder / BEST_MODEL_FILE)}" + (f" and {arguments.out}" if arguments.out else ""))
    return 0
