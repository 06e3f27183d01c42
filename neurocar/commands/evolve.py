"""`neurocar train evolve`: headless neuroevolution with a run folder, exact resume and Ctrl-C safety.

The training is a plain loop over the run's generations (`run_evolution`); Ctrl-C (and SIGTERM) stop it here, at
the command, which tells the reporters so the best model and the checkpoint are saved.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from neurocar.commands.common import config_from_args, explicit_keys, load_tracks, require_at_least
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.model_file import check_model_destination, config_for_model, load_model
from neurocar.learn.neuroevolution import Neuroevolution, RandomTracks, Reporter, RunOutcome, run_evolution
from neurocar.learn.reporters import ChartReporter, CheckpointReporter, ConsoleReporter, CsvLogReporter
from neurocar.learn.run_directory import BEST_MODEL_FILE, LOG_FILE, new_run_directory
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


def prepare(arguments: argparse.Namespace) -> tuple[Neuroevolution, Path]:
    """Build (or restore) the run from the command line: the run and its folder."""
    _check_numbers(arguments)
    if arguments.out is not None:
        check_model_destination(arguments.out)
    if arguments.resume is not None:
        conflicting = [
            option
            for option, value in (
                ("--track", arguments.track),
                ("--seed", arguments.seed),
                ("--population", arguments.population),
                ("--config", arguments.config),
                ("--set", arguments.set),
                ("--run-dir", arguments.run_dir),
                ("--init", getattr(arguments, "init", None)),
                ("--random-tracks", arguments.random_tracks),
            )
            if value is not None  # `--seed 0` is a choice too
        ]
        if conflicting:
            raise NeuroCarError(
                f"--resume continues a run with its own settings; drop {', '.join(conflicting)}"
                " (only --generations, --target-laps and --out can change)"
            )
        folder = Path(arguments.resume)
        evolution = load_checkpoint(folder)
        if arguments.target_laps is not None:
            evolution.target_laps = arguments.target_laps
        evolution.generations = arguments.generations or evolution.generations
        return evolution, folder

    config = config_with_population(config_from_args(arguments), arguments.population)
    seed = arguments.seed if arguments.seed is not None else 0
    init_model = None
    if getattr(arguments, "init", None):
        init_model = load_model(arguments.init)
        config = config_for_model(init_model, config, explicit_keys(arguments))
    random_tracks = random_tracks_from(arguments)
    random_tracks.check(config.physics)  # now, not in the first generation
    tracks = load_tracks(arguments.track, config, default=not random_tracks.count)
    generations = arguments.generations or config.evolution.generations
    folder = new_run_directory(arguments.run_dir, "evolve")
    initial_vector = init_model.vector if init_model is not None else None
    evolution = Neuroevolution(
        config,
        tracks,
        seed,
        arguments.target_laps,
        random_tracks,
        generations=generations,
        initial_vector=initial_vector,
    )
    return evolution, folder


def reporters_for(evolution: Neuroevolution, folder: Path, out: str | None, console: bool = True) -> list[Reporter]:
    """The standard reporters of a run: console (if asked), CSV log, checkpoints, chart."""
    reporters: list[Reporter] = [ConsoleReporter()] if console else []
    reporters += [
        CsvLogReporter(folder / LOG_FILE),
        CheckpointReporter(folder, Path(out) if out else None),
        ChartReporter(folder / "fitness.png"),
    ]
    return reporters


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM stops the run the way Ctrl-C does (so it saves too); only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def train(evolution: Neuroevolution, reporters: list[Reporter]) -> RunOutcome:
    """Evolve until the run ends; Ctrl-C or SIGTERM end it as INTERRUPTED, after the reporters have saved."""
    with sigterm_interrupts():
        try:
            return run_evolution(evolution, reporters)
        except KeyboardInterrupt:
            evolution.stop(RunOutcome.INTERRUPTED)
            for reporter in reporters:
                reporter.on_run_end(evolution, RunOutcome.INTERRUPTED)
            return RunOutcome.INTERRUPTED


def run(arguments: argparse.Namespace) -> int:
    """Run or resume an evolution and report where its files are."""
    evolution, folder = prepare(arguments)
    generations = evolution.generations
    if evolution.generation >= generations:
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
