"""The `neurocar` command line: parses options and hands each command to its module in `neurocar.commands`.

Bad input never shows a traceback: it ends with one line, `neurocar: error: ...`, and exit code 2. Command modules
are imported only when their command runs, so headless commands never import pygame and `neurocar tracks` does
not wait for torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from neurocar import __version__
from neurocar.errors import NeuroCarError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors become the one-line NeuroCar error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Turn argparse's usage error into a `NeuroCarError`."""
        raise NeuroCarError(f"{message} (see '{self.prog} --help')")


MAX_SEED = 2**63 - 1
COMMANDS = ("sim", "watch", "drive", "tracks", "bench", "train", "evaluate", "edit")
SPEED_CHOICES = ("0.25", "0.5", "1", "2", "4", "8", "16", "32", "64", "max")


def _handler(module: str, function: str = "run") -> Callable[[argparse.Namespace], int]:
    """A handler that imports its command module only when the command runs."""

    def call(arguments: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"neurocar.commands.{module}"), function)(arguments)

    return call


def seed(text: str) -> int:
    """An argparse type: a whole number from 0 to 2**63 - 1 (what the random generators accept)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: expected a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"invalid seed {text}: must be from 0 to {MAX_SEED}")
    return value


def _common_options() -> argparse.ArgumentParser:
    common = ArgumentParser(add_help=False)
    group = common.add_argument_group("configuration")
    # SUPPRESS: a nested command (`train evolve`, `tracks check`) repeats these options, and a plain default would
    # let the inner parser reset what was given before the inner command name.
    group.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (default: configs/default.yaml)"
    )
    group.add_argument(
        "--set",
        metavar="SECTION.KEY=VALUE",
        action="append",
        default=argparse.SUPPRESS,
        help="override one config key, e.g. --set physics.cruise_speed_mps=12 (repeatable)",
    )
    return common


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, metavar="N", help="quit after N frames (for scripts and tests)")
    parser.add_argument("--screenshot", metavar="FILE.png", help="save the window to this PNG when it quits")
    parser.add_argument(
        "--speed",
        choices=SPEED_CHOICES,
        default="1",
        help="starting simulation speed as a multiple of real time, or max (default 1; keys + - F change it)",
    )


def build_parser() -> ArgumentParser:
    """The full command-line parser."""
    common = _common_options()
    parser = ArgumentParser(
        prog="neurocar",
        description="NeuroCar: small neural networks learn to drive. With no command, opens the window "
        "and evolves cars on the default track.",
    )
    parser.add_argument("--version", action="version", version=f"neurocar {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    sim = commands.add_parser(
        "sim", parents=[common], help="window: watch a population learn to drive (the default command)"
    )
    sim.add_argument("--track", metavar="FILE", help="track file or shipped track name")
    sim.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--teacher",
        choices=("evolution", "rl"),
        default="evolution",
        help="how the cars learn: evolution (default) or rl (reinforcement learning, PPO)",
    )
    sim.add_argument(
        "--population", type=int, metavar="P", help="cars per generation (with --teacher rl: cars driving at once)"
    )
    sim.add_argument("--run-dir", metavar="DIR", help="keep the run (log, best model, checkpoint) in this folder")
    _add_window_options(sim)
    sim.set_defaults(handler=_handler("windowed", "run_sim"))

    watch = commands.add_parser("watch", parents=[common], help="window: watch trained models drive")
    watch.add_argument(
        "--model",
        metavar="MODEL.pt",
        action="append",
        help="model file (repeatable; default: the shipped general driver, assets/driver.pt)",
    )
    watch.add_argument("--track", metavar="FILE", help="track file or shipped track name")
    watch.add_argument("--laps", type=int, default=3, help="laps to drive (default 3)")
    _add_window_options(watch)
    watch.set_defaults(handler=_handler("windowed", "run_watch"))

    tracks = commands.add_parser(
        "tracks",
        parents=[common],
        help="list, check or generate tracks",
        description="List the track files (*.yaml) of a folder, the shipped tracks by default. A broken file is "
        "listed as broken with the reason and does not stop the others; listing exits with code 0 even then "
        "('neurocar tracks check FILE' exits with 2 for a broken file).",
    )
    tracks.add_argument("--json", action="store_true", help="print the list as JSON")
    tracks.add_argument("--dir", metavar="DIR", help="list the *.yaml files of this folder instead of tracks/")
    tracks.set_defaults(handler=_handler("tracks", "run_list"))
    tracks_commands = tracks.add_subparsers(dest="tracks_command", metavar="check|generate", title="subcommands")
    check = tracks_commands.add_parser("check", parents=[common], help="validate track files")
    check.add_argument("files", nargs="+", metavar="FILE", help="track files to check")
    check.set_defaults(handler=_handler("tracks", "run_check"))
    generate = tracks_commands.add_parser(
        "generate", parents=[common], help="write a random valid track (the same seed gives the same track)"
    )
    generate.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    generate.add_argument(
        "--difficulty", type=int, default=3, metavar="D", help="1 (wide, gentle) to 5 (narrow hairpins); default 3"
    )
    generate.add_argument("--out", metavar="FILE.yaml", help="write the track here (default: print it)")
    generate.add_argument(
        "--count", type=int, default=1, metavar="N", help="write N tracks (seeds S to S+N-1) into the folder --out"
    )
    generate.add_argument("--force", action="store_true", help="replace files that already exist")
    generate.set_defaults(handler=_handler("generate"))

    bench = commands.add_parser("bench", parents=[common], help="measure simulation speed and memory")
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    bench.add_argument("--track", metavar="FILE", help="track to measure on (default: the default track)")
    bench.add_argument("--seconds", type=float, default=1.5, help="time per measurement (default 1.5)")
    bench.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    bench.set_defaults(handler=_handler("bench"))

    train = commands.add_parser("train", parents=[common], help="train a policy headless (evolve, supervised or rl)")
    train_commands = train.add_subparsers(dest="train_command", metavar="METHOD", title="methods", required=True)
    evolve = train_commands.add_parser("evolve", parents=[common], help="neuroevolution (genetic algorithm)")
    evolve.add_argument(
        "--track",
        metavar="FILE",
        action="append",
        help="track file, shipped name or folder of tracks (repeat to average fitness over several)",
    )
    evolve.add_argument(
        "--random-tracks",
        type=int,
        metavar="K",
        help="also drive each generation on K generated tracks, fresh ones every generation (from the seed)",
    )
    evolve.add_argument(
        "--random-difficulty",
        type=int,
        metavar="D",
        help="generated tracks cycle through difficulties 1 to D (default 5)",
    )
    evolve.add_argument(
        "--fixed-random-tracks", action="store_true", help="drive the same K generated tracks every generation"
    )
    evolve.add_argument("--generations", type=int, metavar="G", help="total generations (default from config)")
    evolve.add_argument("--population", type=int, metavar="P", help="cars per generation (default from config)")
    evolve.add_argument("--seed", type=seed, metavar="S", help="random seed (default 0)")
    evolve.add_argument("--target-laps", type=int, metavar="L", help="stop once the best car completes L laps")
    evolve.add_argument("--out", metavar="MODEL.pt", help="also write the best model here")
    evolve.add_argument("--run-dir", metavar="DIR", help="run folder (default: a new one under runs/)")
    evolve.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    evolve.add_argument("--init", metavar="MODEL.pt", help="start from a trained model (kept as an elite)")
    evolve.set_defaults(handler=_handler("evolve"))
    supervised = train_commands.add_parser(
        "supervised", parents=[common], help="behaviour cloning: learn to predict recorded driving"
    )
    supervised.add_argument(
        "--data", metavar="DIR", nargs="+", required=True, help="recording folders or session folders"
    )
    supervised.add_argument("--epochs", type=int, metavar="E", help="most epochs (default from config)")
    supervised.add_argument("--seed", type=seed, metavar="S", help="random seed (default 0)")
    supervised.add_argument("--out", metavar="MODEL.pt", help="also write the trained model here")
    supervised.add_argument("--init", metavar="MODEL.pt", help="fine-tune this model instead of fresh weights")
    supervised.add_argument("--mirror", action="store_true", help="add left-right mirrored frames")
    supervised.add_argument("--run-dir", metavar="DIR", help="run folder (default: a new one under runs/)")
    supervised.set_defaults(handler=_handler("supervised"))
    reinforcement = train_commands.add_parser(
        "rl", parents=[common], help="reinforcement learning (PPO): learn from reward by driving"
    )
    reinforcement.add_argument(
        "--track",
        metavar="FILE",
        action="append",
        help="track file, shipped name or folder of tracks (repeatable; the cars are shared among them)",
    )
    reinforcement.add_argument("--updates", type=int, metavar="U", help="total updates (default from config)")
    reinforcement.add_argument("--cars", type=int, metavar="N", help="cars driving at once (default from config)")
    reinforcement.add_argument("--seed", type=seed, metavar="S", help="random seed (default 0)")
    reinforcement.add_argument(
        "--target-laps", type=int, metavar="L", help="stop once the greedy policy drives L laps on every track"
    )
    reinforcement.add_argument("--out", metavar="MODEL.pt", help="also write the best model here")
    reinforcement.add_argument("--run-dir", metavar="DIR", help="run folder (default: a new one under runs/)")
    reinforcement.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    reinforcement.add_argument("--init", metavar="MODEL.pt", help="start the actor from a trained model")
    reinforcement.set_defaults(handler=_handler("reinforcement"))

    drive = commands.add_parser("drive", parents=[common], help="window: drive with the arrow keys, record it")
    drive.add_argument("--track", metavar="FILE", help="track file or shipped track name")
    drive.add_argument("--record", metavar="DIR", help="record the session into a new folder inside DIR")
    driver = drive.add_mutually_exclusive_group()
    driver.add_argument("--model", metavar="MODEL.pt", help="the model drives; steering keys take over")
    driver.add_argument("--autopilot", action="store_true", help="the scripted driver drives (demonstrations)")
    drive.add_argument("--driver", metavar="NAME", help="who is driving, saved in the recording (default: person)")
    _add_window_options(drive)
    drive.set_defaults(handler=_handler("drive"))

    evaluate = commands.add_parser("evaluate", parents=[common], help="drive a model on tracks and report")
    evaluate.add_argument("--model", metavar="MODEL.pt", required=True, help="model file")
    evaluate.add_argument(
        "--track",
        metavar="FILE",
        action="append",
        help="track file, shipped name or folder of tracks (repeatable; default track if none)",
    )
    evaluate.add_argument("--laps", type=int, default=1, help="laps to complete (default 1)")
    evaluate.add_argument(
        "--seed", type=seed, default=0, help="random seed (default 0; the drive itself is deterministic)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.set_defaults(handler=_handler("evaluate"))

    edit = commands.add_parser("edit", parents=[common], help="window: draw or change a track, see problems live")
    edit.add_argument(
        "file",
        nargs="?",
        metavar="FILE.yaml",
        help="track to edit: a path or a shipped track name; a new path starts a new track (default: a new "
        "new_track.yaml here)",
    )
    edit.add_argument("--out", metavar="FILE.yaml", help="save to this file instead of the one opened")
    edit.add_argument("--frames", type=int, metavar="N", help="quit after N frames (for scripts and tests)")
    edit.add_argument("--screenshot", metavar="FILE.png", help="save the window to this PNG when it quits")
    edit.set_defaults(handler=_handler("edit"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    arguments_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if not arguments_list or (
            arguments_list[0].startswith("-") and arguments_list[0] not in ("-h", "--help", "--version")
        ):
            misplaced = [word for word in arguments_list if word in COMMANDS]
            if misplaced:
                raise NeuroCarError(
                    f"options go after the command: neurocar {misplaced[0]} "
                    f"{' '.join(word for word in arguments_list if word != misplaced[0])}"
                )
            arguments_list = ["sim", *arguments_list]
        arguments = parser.parse_args(arguments_list)
        for name in ("config", "set"):
            if not hasattr(arguments, name):
                setattr(arguments, name, None)
        return int(arguments.handler(arguments))
    except NeuroCarError as error:
        print(f"neurocar: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("neurocar: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`neurocar tracks --json | head`): stop quietly, and keep Python's final flush of
        # stdout from failing again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:
        # The disk is full, a folder vanished, a file is locked: still one line, never a traceback.
        where = f"{error.filename}: " if error.filename else ""
        print(f"neurocar: error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
