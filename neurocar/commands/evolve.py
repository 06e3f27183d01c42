"""`neurocar train evolve`: headless neuroevolution with a run folder, exact resume and Ctrl-C safety."""

from __future__ import annotations

import argparse
from pathlib import Path

from neurocar.commands.common import (
    config_from_args,
    explicit_keys,
    load_tracks,
    model_path,
    refuse_existing_output,
    require_at_least,
    track_texts,
)
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.model_file import check_model_destination, config_for_model, load_model
from neurocar.learn.neuroevolution import Neuroevolution, RandomTracks, Reporter, run_evolution
from neurocar.learn.reporters import ChartReporter, CheckpointReporter, ConsoleReporter, CsvLogReporter
from neurocar.learn.run_directory import BEST_MODEL_FILE, CHECKPOINT_FILE, LOG_FILE, RunLock, claim_run_directory
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


def prepare(arguments: argparse.Namespace) -> tuple[Neuroevolution, list[str], Path, int, RunLock]:
    """Build (or restore) the run from the command line: the run, its track texts, its folder, total generations,
    and the lock on the folder (the caller releases it when the run ends)."""
    _check_numbers(arguments)
    if arguments.out is not None:
        check_model_destination(arguments.out)
    refuse_existing_output(arguments.out, arguments.force)
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
        # Locked before the checkpoint is read, so two resumes of one run never both continue it.
        lock = RunLock(folder) if (folder / CHECKPOINT_FILE).is_file() else None
        try:
            evolution, texts, saved_generations = load_checkpoint(folder)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        assert lock is not None  # load_checkpoint refuses a folder without a checkpoint
        if arguments.target_laps is not None:
            evolution.target_laps = arguments.target_laps
        generations = arguments.generations or saved_generations
        return evolution, texts, folder, generations, lock

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
        if init_model is not None:
            evolution = Neuroevolution.from_model(
                config, tracks, seed, arguments.target_laps, init_model.vector, random_tracks
            )
        else:
            evolution = Neuroevolution(config, tracks, seed, arguments.target_laps, random_tracks)
    except BaseException:
        lock.release()
        raise
    return evolution, track_texts(tracks), folder, generations, lock


def reporters_for(
    evolution: Neuroevolution, texts: list[str], folder: Path, generations: int, out: str | None
) -> list[Reporter]:
    """The standard reporters of a headless run: console, CSV log, checkpoints, chart."""
    reporters: list[Reporter] = [
        ConsoleReporter(generations),
        CsvLogReporter(folder / LOG_FILE),
        CheckpointReporter(folder, texts, Path(out) if out else None, generations),
        ChartReporter(folder / "fitness.png"),
    ]
    return reporters


def run(arguments: argparse.Namespace) -> int:
    """Run or resume an evolution and report where its files are."""
    evolution, texts, folder, generations, lock = prepare(arguments)
    with lock:
        if evolution.generation >= generations:
            raise NeuroCarError(
                f"--resume {display_path(folder)}: the run already has {evolution.generation} generations; "
                f"ask for more with --generations N (N > {evolution.generation})"
            )
        reporters = reporters_for(evolution, texts, folder, generations, arguments.out)
        outcome = run_evolution(evolution, generations, reporters)
    if outcome == "interrupted":
        return EXIT_INTERRUPTED
    best = evolution.best_row
    summary = {
        "target": f"reached {evolution.target_laps} lap(s) in generation {evolution.generation}",
        "generations": f"finished {evolution.generation} generations",
    }[outcome]
    print(
        f"{summary}; best fitness {float(best.get('best_fitness', 'nan')):.1f} "
        f"({best.get('best_laps', 0)} laps, generation {evolution.best_generation}); run folder {display_path(folder)}"
    )
    print(f"best model: {display_path(folder / BEST_MODEL_FILE)}" + (f" and {arguments.out}" if arguments.out else ""))
    return 0
