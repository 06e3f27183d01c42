"""`neurocar sweep`: the same training over many seeds, in parallel, one row per seed and a summary.

`neurocar sweep --seeds 0-9 -- train evolve --track hairpins --target-laps 1` checks the training options once,
then runs `train evolve ... --seed S --run-dir SWEEP/seed-S` for every seed on an executor (worker processes here,
or a Ray cluster with `--executor ray`). Every run keeps its own run folder, so any row can be resumed
(`neurocar train evolve --resume SWEEP/seed-S`) or watched. Ctrl-C stops the runs (each saves, as a single run
does) and says which had finished.

`--evaluate TRACKS` (repeatable: a track, a shipped name, `shipped`, or a folder such as a set of generated tracks)
also drives each run's best model on those tracks once it has finished, as `neurocar evaluate --track TRACKS` does,
and reports how many it lapped: whether what a seed learnt carries over to tracks it never saw.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from neurocar.errors import NeuroCarError
from neurocar.learn.run_directory import new_run_directory
from neurocar.paths import display_path

EXIT_INTERRUPTED = 130
MAX_SEEDS = 10_000
FORBIDDEN = {
    "--seed": "the sweep gives each run its seed",
    "--run-dir": "the sweep gives each run its folder (use the sweep's own --run-dir)",
    "--resume": "resume one run of a sweep with neurocar train evolve --resume SWEEP/seed-S",
    "--out": "each run's model is its run folder's best.pt",
}


def parse_seeds(text: str) -> list[int]:
    """Seeds as ranges and lists: '0-9', '0,3,7', '0-4,10'; each seed once, in the order given."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first, last = (int(value) for value in part.split("-", 1))
                if last < first:
                    raise ValueError
                seeds += range(first, last + 1)
            else:
                seeds.append(int(part))
        except ValueError:
            raise NeuroCarError(
                f"--seeds {text}: expected seeds and ranges such as 0-9 or 0,3,7 (whole numbers, ranges low-high)"
            ) from None
        if len(seeds) > MAX_SEEDS:
            raise NeuroCarError(f"--seeds {text}: at most {MAX_SEEDS} runs in one sweep")
    if any(seed < 0 for seed in seeds):
        raise NeuroCarError(f"--seeds {text}: seeds must be 0 or more")
    return list(dict.fromkeys(seeds))


@dataclass(frozen=True)
class SweepTask:
    """One run of the sweep: the training's command line without seed and folder, the seed, the folder."""

    training: tuple[str, ...]
    seed: int
    folder: str
    evaluate: tuple[str, ...] = ()


@dataclass
class SweepRow:
    """How one run went."""

    seed: int
    outcome: str
    first_lap_generation: int | None
    generations: int
    best_fitness: float | None
    best_laps: int
    seconds: float
    run_folder: str
    # With --evaluate: per track set, {"tracks": what was given, "lapped": laps driven on how many, "total": ...}
    evaluations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def generation(self) -> int:
        """The generation of the first lap, or of the end when no car lapped."""
        return self.first_lap_generation if self.first_lap_generation is not None else self.generations


def training_arguments(training: list[str]) -> list[str]:
    """The training command after `--`, checked: it must be `train evolve`, without the options the sweep sets."""
    if training and training[0] == "--":
        training = training[1:]
    if training[:2] != ["train", "evolve"]:
        raise NeuroCarError("give the training after --, e.g. neurocar sweep --seeds 0-9 -- train evolve --track oval")
    for word in training:
        option = word.split("=", 1)[0]
        if option in FORBIDDEN:
            raise NeuroCarError(f"sweep: drop {option} from the training ({FORBIDDEN[option]})")
    return training


def _parse_training(task: SweepTask) -> argparse.Namespace:
    from neurocar.cli import build_parser

    arguments = build_parser().parse_args([*task.training, "--seed", str(task.seed), "--run-dir", task.folder])
    for name in ("config", "set"):
        if not hasattr(arguments, name):
            setattr(arguments, name, None)
    return arguments


def run_seed(task: SweepTask) -> SweepRow:
    """One run of the sweep, in a worker: exactly `neurocar train evolve ... --seed S --run-dir F`, quietly.

    Ctrl-C is on while it trains (the worker ignores it between runs): it stops the run, which saves."""
    from neurocar.commands.evolve import prepare, reporters_for, train
    from neurocar.learn.neuroevolution import RunOutcome

    started = time.perf_counter()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        evolution, folder, lock = prepare(_parse_training(task))
        with lock:
            outcome = train(evolution, reporters_for(evolution, folder, None, console=False))
    except NeuroCarError as error:
        return SweepRow(task.seed, f"error: {error}", None, 0, None, 0, time.perf_counter() - started, task.folder)
    finally:
        if sys.platform != "win32":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    first_lap = next((int(row["generation"]) for row in evolution.history if int(row["best_laps"]) >= 1), None)
    if outcome is RunOutcome.TARGET_REACHED:
        first_lap = evolution.generation if first_lap is None else first_lap
    best = evolution.best_row
    evaluations = []
    if task.evaluate and outcome in (RunOutcome.TARGET_REACHED, RunOutcome.FINISHED):
        evaluations = evaluate_best(evolution, task.evaluate)
    return SweepRow(
        seed=task.seed,
        outcome=outcome.value,
        first_lap_generation=first_lap,
        generations=evolution.generation,
        best_fitness=float(best["best_fitness"]) if best else None,
        best_laps=int(best.get("best_laps", 0)) if best else 0,
        seconds=time.perf_counter() - started,
        run_folder=task.folder,
        evaluations=evaluations,
    )


def evaluate_best(evolution: Any, track_sets: tuple[str, ...]) -> list[dict[str, Any]]:
    """Drive the run's best network one lap on every track of each set (as `neurocar evaluate` does): how many of
    each set it lapped."""
    from neurocar.commands.common import load_tracks
    from neurocar.learn.evaluation import evaluate_network_on_tracks

    network = evolution.best_network()
    evaluations = []
    for tracks in track_sets:
        results = evaluate_network_on_tracks(network, evolution.config, load_tracks([tracks], evolution.config), 1)
        lapped = sum(result.laps_completed >= result.laps_target for result in results)
        evaluations.append({"tracks": tracks, "lapped": lapped, "total": len(results)})
    return evaluations


def make_executor(name: str, workers: int, address: str | None):
    """The executor the options name (local processes, or Ray, imported only here)."""
    from neurocar.commands.executors import LocalExecutor, RayExecutor

    if name == "ray":
        return RayExecutor(address)
    return LocalExecutor(workers)


def summary(rows: list[SweepRow], total: int, target: bool, evaluate: tuple[str, ...] = ()) -> dict[str, Any]:
    """How many reached the target (or lapped), the median and worst generation of the finished runs, and with
    --evaluate, per track set, how many runs lapped all of it and the fewest tracks any run lapped."""
    finished = [row for row in rows if row.outcome in ("target", "generations")]
    reached = [row for row in finished if (row.outcome == "target" if target else row.first_lap_generation)]
    generations = [row.generation for row in finished]
    evaluated = []
    for index, tracks in enumerate(evaluate):
        scores = [row.evaluations[index] for row in finished if len(row.evaluations) > index]
        evaluated.append(
            {
                "tracks": tracks,
                "runs": len(scores),
                "lapped_all": sum(score["lapped"] == score["total"] for score in scores),
                "fewest_lapped": min((score["lapped"] for score in scores), default=None),
                "total": scores[0]["total"] if scores else None,
            }
        )
    return {
        "runs": total,
        "finished": len(finished),
        "reached": len(reached),
        "median_generation": statistics.median(generations) if generations else None,
        "worst_generation": max(generations) if generations else None,
        "interrupted": sorted(row.seed for row in rows if row.outcome == "interrupted"),
        "not_started": total - len(rows),
        "evaluations": evaluated,
    }


def format_table(rows: list[SweepRow], evaluate: tuple[str, ...] = ()) -> list[str]:
    """The per-seed table, in seed order (with --evaluate, one "lapped" column per track set)."""
    widths = [max(len(f"lapped {tracks}"), 9) for tracks in evaluate]
    evaluated = "".join(f" {'lapped ' + tracks:>{width}}" for tracks, width in zip(evaluate, widths, strict=True))
    lines = [
        f"{'seed':>6}  {'outcome':<12} {'first lap':>9} {'gens':>5} {'best fitness':>12}{evaluated} {'seconds':>8}  "
        "run folder"
    ]
    for row in sorted(rows, key=lambda row: row.seed):
        lap = "-" if row.first_lap_generation is None else str(row.first_lap_generation)
        fitness = "-" if row.best_fitness is None else f"{row.best_fitness:.1f}"
        scores = [f"{score['lapped']}/{score['total']}" for score in row.evaluations]
        scores += ["-"] * (len(evaluate) - len(scores))
        columns = "".join(f" {score:>{width}}" for score, width in zip(scores, widths, strict=True))
        lines.append(
            f"{row.seed:>6}  {row.outcome:<12} {lap:>9} {row.generations:>5} {fitness:>12}{columns} "
            f"{row.seconds:>8.1f}  {display_path(Path(row.run_folder))}"
        )
    return lines


def run(arguments: argparse.Namespace) -> int:
    """Run the sweep and print the table and summary (or JSON)."""
    seeds = parse_seeds(arguments.seeds)
    if arguments.workers is not None and arguments.workers < 1:
        raise NeuroCarError(f"--workers {arguments.workers}: must be at least 1")
    if arguments.address is not None and arguments.executor != "ray":
        raise NeuroCarError("--address is the Ray cluster's; use it with --executor ray")
    training = training_arguments(list(arguments.training or []))
    # Check the training options once, here, so a mistake is one line rather than one per seed.
    from neurocar.cli import build_parser

    checked = build_parser().parse_args(training)
    from neurocar.commands.evolve import _check_numbers

    _check_numbers(checked)
    target = checked.target_laps is not None
    evaluate = tuple(arguments.evaluate or [])
    if evaluate:
        # Every set must load now, not after the runs (each run loads it again in its own worker).
        from neurocar.commands.common import load_tracks
        from neurocar.config import load_config

        config = load_config(getattr(checked, "config", None), getattr(checked, "set", None) or ())
        for tracks in evaluate:
            load_tracks([tracks], config)
    executor = make_executor(arguments.executor, arguments.workers or os.cpu_count() or 1, arguments.address)
    sweep_folder = new_run_directory(arguments.run_dir, "sweep")
    tasks = [SweepTask(tuple(training), seed, str(sweep_folder / f"seed-{seed}"), evaluate) for seed in seeds]
    if not arguments.json:
        print(f"sweep of {len(tasks)} runs in {display_path(sweep_folder)}: neurocar {' '.join(training)}", flush=True)
    rows: list[SweepRow] = []
    interrupted = False
    try:
        for _index, row in executor.run(run_seed, tasks):
            rows.append(row)
            if not arguments.json:
                lap = (
                    "no lap"
                    if row.first_lap_generation is None
                    else f"first lap in generation {row.first_lap_generation}"
                )
                print(f"  seed {row.seed}: {row.outcome}, {lap} ({row.seconds:.1f} s)", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        interrupted = True
        executor.cancel()
    result = summary(rows, len(tasks), target, evaluate)
    folder_name = display_path(sweep_folder)
    if arguments.json:
        print(json.dumps({"sweep_folder": folder_name, "runs": [asdict(row) for row in rows], "summary": result}))
    else:
        for line in format_table(rows, evaluate):
            print(line)
        aim = "reached the target" if target else "lapped"
        median, worst = result["median_generation"], result["worst_generation"]
        generation = f"; generation median {median:g}, worst {worst}" if median is not None else ""
        print(f"{aim}: {result['reached']}/{len(tasks)}{generation}")
        for score in result["evaluations"]:
            if score["runs"]:
                print(
                    f"{score['tracks']}: {score['lapped_all']}/{score['runs']} runs lapped all {score['total']} "
                    f"tracks; the fewest any run lapped: {score['fewest_lapped']}/{score['total']}"
                )
    if interrupted or result["interrupted"] or result["not_started"]:
        finished = sorted(row.seed for row in rows if row.outcome in ("target", "generations"))
        print(
            f"interrupted: finished seeds {finished or 'none'}; stopped {result['interrupted'] or 'none'}; "
            f"not started {result['not_started']}; resume one with neurocar train evolve --resume "
            f"{folder_name}/seed-S",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    errors = [row for row in rows if row.outcome.startswith("error")]
    if errors:
        raise NeuroCarError(f"seed {errors[0].seed}: {errors[0].outcome.removeprefix('error: ')}")
    return 0
