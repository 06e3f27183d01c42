"""`neurocar train evolve`: headless neuroevolution with a run folder, exact resume and Ctrl-C safety.

The training is a plain loop over the run's generations (`run_evolution`); Ctrl-C (and the stop signals the command
line turns into it) stop it here, at the command, which tells the reporters, so the best model and the checkpoint
are saved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
from neurocar.learn.checkpoint import load_checkpoint, save_checkpoint
from neurocar.learn.model_file import check_model_destination, config_for_model, load_model
from neurocar.learn.neuroevolution import Neuroevolution, RandomTracks, Reporter, RunOutcome, run_evolution
from neurocar.learn.reporters import (
    FITNESS_CHART_FILE,
    ChartReporter,
    CheckpointReporter,
    ConsoleReporter,
    CsvLogReporter,
)
from neurocar.learn.run_directory import BEST_MODEL_FILE, LOG_FILE, RunLock, claim_run_directory, resume_locked
from neurocar.paths import display_path
from neurocar.sim.generator import MAX_DIFFICULTY, check_difficulty

EXIT_INTERRUPTED = 130


def config_with_population(config: Config, population: int | None) -> Config:
    """The config with `--population` applied; the elite shrinks if it would not leave room for children."""
    if population is None:
        return config
    config = config.replace("evolution", population=population)
    if config.evolution.elite >= config.evolution.population:
        config = config.replace("evolution", elite=max(1, config.evolution.population // 4))
    return config


def _check_numbers(arguments: argparse.Namespace) -> None:
    require_at_least("--generations", arguments.generations, 1)
    require_at_least("--population", arguments.population, 2)
    require_at_least("--target-laps", arguments.target_laps, 1)
    require_at_least("--random-tracks", arguments.random_tracks, 1)
    if arguments.random_difficulty is not None:
        check_difficulty(arguments.random_difficulty, "--random-difficulty")
    if arguments.random_tracks is None and (arguments.fixed_random_tracks or arguments.random_difficulty is not None):
        raise NeuroCarError("--fixed-random-tracks and --random-difficulty need --random-tracks K")


def random_tracks_from(arguments: argparse.Namespace) -> RandomTracks:
    """The generated-tracks settings of the command line (none without --random-tracks)."""
    if arguments.random_tracks is None:
        return RandomTracks()
    return RandomTracks(
        arguments.random_tracks, arguments.random_difficulty or MAX_DIFFICULTY, arguments.fixed_random_tracks
    )


def prepare(arguments: argparse.Namespace) -> tuple[Neuroevolution, Path, RunLock]:
    """Build (or restore) the run from the command line: the run, its folder, and the lock on the folder (the
    caller releases it when the run ends)."""
    _check_numbers(arguments)
    if arguments.out is not None:
        check_model_destination(arguments.out)
    refuse_existing_output(arguments.out, arguments.force)
    if arguments.resume is not None:
        refuse_settings_on_resume(
            [
                ("--track", arguments.track),
                ("--seed", arguments.seed),
                ("--population", arguments.population),
                ("--config", arguments.config),
                ("--set", arguments.set),
                ("--run-dir", arguments.run_dir),
                ("--init", getattr(arguments, "init", None)),
                ("--random-tracks", arguments.random_tracks),
            ],
            "--generations, --target-laps and --out",
        )
        folder = Path(arguments.resume)
        evolution, lock = resume_locked(folder, load_checkpoint)
        if arguments.target_laps is not None:
            evolution.target_laps = arguments.target_laps
        evolution.generations = arguments.generations or evolution.generations
        return evolution, folder, lock

    config = config_with_population(config_from_args(arguments), arguments.population)
    seed = arguments.seed if arguments.seed is not None else 0
    init_model = None
    if getattr(arguments, "init", None):
        init_model = load_model(model_path(arguments.init, "--init"))
        config = config_for_model(init_model, config, explicit_keys(arguments))
    random_tracks = random_tracks_from(arguments)
    random_tracks.check(config.physics)  # now, not in the first generation
    tracks = load_tracks(arguments.track, config, default=not random_tracks.count)
    generations = arguments.generations or config.evolution.generations
    folder, lock = claim_run_directory(arguments.run_dir, "evolve")
    try:
        evolution = Neuroevolution(
            config,
            tracks,
            seed,
            arguments.target_laps,
            random_tracks,
            generations=generations,
            initial_vector=init_model.vector if init_model is not None else None,
        )
    except BaseException:
        lock.release()
        raise
    return evolution, folder, lock


def reporters_for(evolution: Neuroevolution, folder: Path, out: str | None, console: bool = True) -> list[Reporter]:
    """The standard reporters of a run: console (if asked), CSV log, checkpoints, chart."""
    reporters: list[Reporter] = [ConsoleReporter()] if console else []
    reporters += [
        CsvLogReporter(folder / LOG_FILE),
        CheckpointReporter(folder, save_checkpoint, Path(out) if out else None),
        ChartReporter(folder / FITNESS_CHART_FILE),
    ]
    return reporters


def train(evolution: Neuroevolution, reporters: list[Reporter]) -> RunOutcome:
    """Evolve until the run ends; Ctrl-C (or a stop signal, which the command line turns into one) ends it as
    INTERRUPTED, after the reporters have saved."""
    try:
        return run_evolution(evolution, reporters)
    except KeyboardInterrupt:
        evolution.stop(RunOutcome.INTERRUPTED)
        for reporter in reporters:
            reporter.on_run_end(evolution, RunOutcome.INTERRUPTED)
        return RunOutcome.INTERRUPTED


def run(arguments: argparse.Namespace) -> int:
    """Run or resume an evolution and report where its files are."""
    evolution, folder, lock = prepare(arguments)
    with lock:
        if evolution.generation >= evolution.generations:
            raise NeuroCarError(
                f"--resume {display_path(folder)}: the run already has {evolution.generation} generations; "
                f"ask for more with --generations N (N > {evolution.generation})"
            )
        outcome = train(evolution, reporters_for(evolution, folder, arguments.out))
    if outcome is RunOutcome.INTERRUPTED:
        return EXIT_INTERRUPTED
    best = evolution.best_row
    if outcome is RunOutcome.TARGET_REACHED:
        summary = f"reached {evolution.target_laps} lap(s) in generation {evolution.generation}"
    else:
        summary = f"finished {evolution.generation} generations"
    print(
        f"{summary}; best fitness {float(best.get('best_fitness', 'nan')):.1f} "
        f"({best.get('best_laps', 0)} laps, generation {evolution.best_generation}); run folder {display_path(folder)}"
    )
    print(f"best model: {display_path(folder / BEST_MODEL_FILE)}" + (f" and {arguments.out}" if arguments.out else ""))
    return 0
