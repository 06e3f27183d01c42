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
from neurocar.learn.reinforcement import Reinforcement, Reporter, run_reinforcement
from neurocar.learn.reinforcement_checkpoint import load_checkpoint
from neurocar.learn.reinforcement_reporters import (
    FITNESS_CHART_FILE,
    ChartReporter,
    CheckpointReporter,
    ConsoleReporter,
    CsvLogReporter,
)
from neurocar.learn.run_directory import BEST_MODEL_FILE, LOG_FILE, RunLock, claim_run_directory, resume_locked
from neurocar.paths import display_path

EXIT_INTERRUPTED = 130


def config_with_cars(config: Config, cars: int | None) -> Config:
    """The config with `--cars` applied."""
    return config if cars is None else config.replace("reinforcement", cars=cars)


def prepare(arguments: argparse.Namespace) -> tuple[Reinforcement, Path, int, RunLock]:
    """Build (or restore) the run from the command line: the learner, its folder, its total updates and the lock on
    the folder (the caller releases it when the run ends)."""
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
        (learner, saved_updates), lock = resume_locked(folder, load_checkpoint)
        if arguments.target_laps is not None:
            learner.target_laps = arguments.target_laps
        return learner, folder, arguments.updates or saved_updates, lock

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
        learner = Reinforcement(config, tracks, seed, arguments.target_laps, init_vector)
    except BaseException:
        lock.release()
        raise
    return learner, folder, updates, lock


def reporters_for(learner: Reinforcement, folder: Path, updates: int, out: str | None) -> list[Reporter]:
    """The standard reporters of a headless run: console, CSV log, checkpoints, chart."""
    return [
        ConsoleReporter(updates),
        CsvLogReporter(folder / LOG_FILE),
        CheckpointReporter(folder, Path(out) if out else None, updates),
        ChartReporter(folder / FITNESS_CHART_FILE),
    ]


def run(arguments: argparse.Namespace) -> int:
    """Run or resume a PPO run and report where its files are."""
    # The networks are tiny: one thread is faster than several that spend their time synchronising.
    torch.set_num_threads(1)
    learner, folder, updates, lock = prepare(arguments)
    with lock:
        if learner.update >= updates:
            raise NeuroCarError(
                f"--resume {display_path(folder)}: the run already has {learner.update} updates; "
                f"ask for more with --updates N (N > {learner.update})"
            )
        outcome = run_reinforcement(learner, updates, reporters_for(learner, folder, updates, arguments.out))
    if outcome == "interrupted":
        return EXIT_INTERRUPTED
    best = learner.best_row
    summary = {
        "target": f"the greedy policy drove {learner.target_laps} lap(s) after update {learner.update}",
        "updates": f"finished {learner.update} updates",
    }[outcome]
    print(
        f"{summary} ({learner.car_steps:,} car-steps); best greedy drive: {best.get('greedy_laps', 0)} laps, "
        f"{float(best.get('greedy_progress_percent', 'nan')):.1f}% (update {learner.best_update}); "
        f"run folder {display_path(folder)}"
    )
    print(f"best model: {display_path(folder / BEST_MODEL_FILE)}" + (f" and {arguments.out}" if arguments.out else ""))
    return 0
