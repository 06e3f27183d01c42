"""The `neurocar` command line: parses options and hands each command to its module in `neurocar.commands`.

Bad input never shows a traceback: it ends with one line, `neurocar: error: ...`, and exit code 2. Command modules
are imported only when their command runs, so headless commands never import pygame and `neurocar tracks` does
not wait for torch.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence

from neurocar import __version__
from neurocar.errors import NeuroCarError
from neurocar.schema import excerpt, printable, shorten

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE
# Signals that end a run the way Ctrl-C does: what `kill`, a job scheduler and a closing terminal send.
STOP_SIGNALS = ("SIGTERM", "SIGHUP")


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors become the one-line NeuroCar error.

    Options must be spelled in full (no abbreviations), so every error names an option the way it was typed, and a
    mistyped command or choice gets a "did you mean" suggestion.
    """

    def __init__(self, *arguments, **keywords) -> None:
        keywords.setdefault("allow_abbrev", False)
        super().__init__(*arguments, **keywords)

    def error(self, message: str) -> None:  # type: ignore[override]
        """Turn argparse's usage error into a `NeuroCarError`."""
        raise NeuroCarError(f"{shorten(message, 300)} (see '{self.prog} --help')")

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """Reject a value outside the choices, suggesting the closest one."""
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(choice) for choice in choices]
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        raise argparse.ArgumentError(
            action, f"invalid choice: {_excerpt(value)} (choose from {', '.join(map(repr, names))}){suggestion}"
        )


def _excerpt(value: object, limit: int = 40) -> str:
    """A value quoted for an error line: printable characters only, cut to `limit`."""
    text = "".join(character if character.isprintable() else "?" for character in str(value))
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class Terminated(KeyboardInterrupt):
    """A stop signal (SIGTERM, SIGHUP) arrived: it unwinds like Ctrl-C, so training saves on the way out."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


@contextlib.contextmanager
def stop_signals_as_interrupts() -> Iterator[list[int]]:
    """While inside, SIGTERM and SIGHUP raise `Terminated`; yields the list of signals received.

    Only the first one raises: a second signal while the run is saving is noted and ignored, so the save finishes.
    """
    received: list[int] = []
    raising = [True]  # cleared on the way out: a signal then is only noted, never a traceback

    def stop(number: int, _frame: object) -> None:
        received.append(number)
        if len(received) == 1 and raising[0]:
            raise Terminated(number)

    previous = {}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:  # SIGHUP does not exist on Windows
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave the signals alone
            previous[number] = signal.signal(number, stop)
    try:
        yield received
    finally:
        raising[0] = False
        for number, handler in previous.items():
            signal.signal(number, handler)


MAX_SEED = 2**63 - 1
COMMANDS = (
    "sim",
    "watch",
    "drive",
    "race",
    "replay",
    "tracks",
    "bench",
    "train",
    "evaluate",
    "edit",
    "lesson",
    "help",
    "sweep",
)
SPEED_CHOICES = ("0.25", "0.5", "1", "2", "4", "8", "16", "32", "64", "max")


def _handler(module: str, function: str = "run") -> Callable[[argparse.Namespace], int]:
    """A handler that imports its command module only when the command runs."""

    def call(arguments: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"neurocar.commands.{module}"), function)(arguments)

    return call


def _add_command(
    group: argparse._SubParsersAction, name: str, help: str, **keywords: object
) -> argparse.ArgumentParser:
    """Add a (sub)command whose `--help` opens with its one-line description (the text of the command list)."""
    keywords.setdefault("description", help[0].upper() + help[1:])
    return group.add_parser(name, help=help, **keywords)


def seed(text: str) -> int:
    """An argparse type: a whole number from 0 to 2**63 - 1 (what the random generators accept)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {excerpt(text)}: expected a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"invalid seed {excerpt(value)}: must be from 0 to {MAX_SEED}")
    return value


def _common_options() -> argparse.ArgumentParser:
    common = ArgumentParser(add_help=False)
    group = common.add_argument_group("configuration")
    # SUPPRESS: a nested command (`train evolve`, `tracks check`) repeats these options, and a plain default would
    # let the inner parser reset what was given before the inner command name.
    group.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (default: the shipped default.yaml)"
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


def _add_replay_out_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replay-out", metavar="FILE", help="save a replay of the drive to FILE (play it with: neurocar replay FILE)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the --replay-out (or --best-lap-out) file if it exists"
    )


def _add_best_lap_option(parser: argparse.ArgumentParser, whose: str) -> None:
    parser.add_argument(
        "--best-lap-out",
        metavar="FILE",
        help=f"save {whose} as a lap file, to race as a ghost (neurocar race --ghost FILE)",
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

    sim = _add_command(
        commands, "sim", parents=[common], help="window: watch a population learn to drive (the default command)"
    )
    sim.add_argument("--track", metavar="FILE", help="track file or shipped track name (e.g. oval)")
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

    watch = _add_command(commands, "watch", parents=[common], help="window: watch trained models drive")
    watch.add_argument(
        "--model",
        metavar="MODEL.pt",
        action="append",
        help="model file, or 'driver' for the shipped general driver (repeatable; default: driver)",
    )
    watch.add_argument("--track", metavar="FILE", help="track file or shipped track name (e.g. oval)")
    watch.add_argument("--laps", type=int, default=3, help="laps to drive (default 3)")
    _add_window_options(watch)
    _add_replay_out_options(watch)
    watch.set_defaults(handler=_handler("windowed", "run_watch"))

    tracks = _add_command(
        commands,
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
    check = _add_command(tracks_commands, "check", parents=[common], help="validate track files")
    check.add_argument("files", nargs="+", metavar="FILE", help="track files to check")
    check.set_defaults(handler=_handler("tracks", "run_check"))
    generate = _add_command(
        tracks_commands,
        "generate",
        parents=[common],
        help="write a random valid track (the same seed gives the same track)",
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

    bench = _add_command(commands, "bench", parents=[common], help="measure simulation speed and memory")
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    bench.add_argument("--track", metavar="FILE", help="track to measure on (default: the default track)")
    bench.add_argument("--seconds", type=float, default=1.5, help="time per measurement (default 1.5)")
    bench.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    bench.set_defaults(handler=_handler("bench"))

    train = _add_command(commands, "train", parents=[common], help="train a policy headless (evolve, supervised or rl)")
    train_commands = train.add_subparsers(dest="train_command", metavar="METHOD", title="methods", required=True)
    evolve = _add_command(train_commands, "evolve", parents=[common], help="neuroevolution (genetic algorithm)")
    evolve.add_argument(
        "--track",
        metavar="FILE",
        action="append",
        help="track file, shipped name, folder of tracks, or 'shipped' for every shipped track (repeat to average "
        "fitness over several)",
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
    evolve.add_argument("--out", metavar="MODEL.pt", help="also write the best model here (a new file)")
    evolve.add_argument("--force", action="store_true", help="let --out replace an existing model file")
    evolve.add_argument("--run-dir", metavar="DIR", help="run folder (default: a new one under runs/)")
    evolve.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    evolve.add_argument("--init", metavar="MODEL.pt", help="start from a trained model, or 'driver' (kept as an elite)")
    evolve.set_defaults(handler=_handler("evolve"))
    supervised = _add_command(
        train_commands, "supervised", parents=[common], help="behaviour cloning: learn to predict recorded driving"
    )
    supervised.add_argument(
        "--data", metavar="DIR", nargs="+", required=True, help="recording folders or session folders"
    )
    supervised.add_argument("--epochs", type=int, metavar="E", help="most epochs (default from config)")
    supervised.add_argument("--seed", type=seed, metavar="S", help="random seed (default 0)")
    supervised.add_argument("--out", metavar="MODEL.pt", help="also write the trained model here (a new file)")
    supervised.add_argument("--force", action="store_true", help="let --out replace an existing model file")
    supervised.add_argument(
        "--init", metavar="MODEL.pt", help="fine-tune this model (or 'driver') instead of fresh weights"
    )
    supervised.add_argument("--mirror", action="store_true", help="add left-right mirrored frames")
    supervised.add_argument("--run-dir", metavar="DIR", help="run folder (default: a new one under runs/)")
    supervised.set_defaults(handler=_handler("supervised"))
    reinforcement = _add_command(
        train_commands, "rl", parents=[common], help="reinforcement learning (PPO): learn from reward by driving"
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
    reinforcement.add_argument("--force", action="store_true", help="let --out replace an existing model file")
    reinforcement.add_argument("--run-dir", metavar="DIR", help="run folder (default: a new one under runs/)")
    reinforcement.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    reinforcement.add_argument(
        "--init", metavar="MODEL.pt", help="start the actor from a trained model (or 'driver', the shipped one)"
    )
    reinforcement.set_defaults(handler=_handler("reinforcement"))

    drive = _add_command(commands, "drive", parents=[common], help="window: drive with the arrow keys, record it")
    drive.add_argument("--track", metavar="FILE", help="track file or shipped track name (e.g. oval)")
    drive.add_argument("--record", metavar="DIR", help="record the session into a new folder inside DIR")
    drive.add_argument(
        "--model",
        metavar="MODEL.pt",
        action="append",
        help="the model (or 'driver', the shipped one) drives, steering keys take over; with --race: a model to "
        "race against (repeatable; default: driver)",
    )
    drive.add_argument("--autopilot", action="store_true", help="the scripted driver drives (demonstrations)")
    drive.add_argument("--driver", metavar="NAME", help="who is driving, saved in the recording (default: person)")
    drive.add_argument(
        "--ghost",
        metavar="FILE",
        action="append",
        help="drive beside the winner of a saved replay, or a saved lap lap after lap (repeatable)",
    )
    drive.add_argument(
        "--race", action="store_true", help="race the models (--model, default: driver) as in neurocar race"
    )
    drive.add_argument("--laps", type=int, help="with --race: laps to drive (default 3)")
    _add_window_options(drive)
    _add_replay_out_options(drive)
    _add_best_lap_option(drive, "your best lap")
    drive.set_defaults(handler=_handler("drive"))

    race = _add_command(
        commands,
        "race",
        parents=[common],
        help="window: race trained models with the arrow keys",
        description="You drive with the arrow keys against trained models (and saved ghosts) on one track, after "
        "a 3-2-1 countdown; the finishing order with lap times is shown and printed at the end.",
    )
    race.add_argument(
        "--model",
        metavar="MODEL.pt",
        action="append",
        help="a model to race against, or 'driver' for the shipped one (repeatable; default: driver, unless --ghost)",
    )
    race.add_argument("--track", metavar="FILE", help="track file or shipped track name (e.g. oval)")
    race.add_argument("--laps", type=int, help="laps to drive (default 3, or as many as the first --ghost drove)")
    race.add_argument(
        "--ghost",
        metavar="FILE",
        action="append",
        help="race the winner of a saved replay, or a saved lap lap after lap, as a ghost (repeatable)",
    )
    race.add_argument("--autopilot", action="store_true", help="the scripted driver drives your car")
    race.add_argument("--name", metavar="NAME", help="your name in the results (default: you)")
    _add_window_options(race)
    _add_replay_out_options(race)
    _add_best_lap_option(race, "the fastest lap of the race (yours or a model's)")
    race.set_defaults(handler=_handler("race"))

    replay = _add_command(
        commands,
        "replay",
        parents=[common],
        help="window: play a saved replay back (re-simulated, checked)",
        description="Play a replay saved with --replay-out: the drive is simulated again from its actions, on its "
        "own track and physics, and the final state is checked against the saved one.",
    )
    replay.add_argument("file", metavar="FILE", help="the replay file")
    replay.add_argument("--track", metavar="FILE", help="the track file to play on (must be the replay's own)")
    replay.add_argument("--check", action="store_true", help="no window: replay to the end and check the result")
    _add_window_options(replay)
    replay.set_defaults(handler=_handler("replay"))

    evaluate = _add_command(commands, "evaluate", parents=[common], help="drive a model on tracks and report")
    evaluate.add_argument(
        "--model", metavar="MODEL.pt", required=True, help="model file, or 'driver' for the shipped general driver"
    )
    evaluate.add_argument(
        "--track",
        metavar="FILE",
        action="append",
        help="track file, shipped name, folder of tracks, or 'shipped' for every shipped track (repeatable; default "
        "track if none)",
    )
    evaluate.add_argument("--laps", type=int, default=1, help="laps to complete (default 1)")
    evaluate.add_argument(
        "--seed", type=seed, default=0, help="random seed (default 0; the drive itself is deterministic)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    _add_replay_out_options(evaluate)
    evaluate.set_defaults(handler=_handler("evaluate"))

    sweep = _add_command(
        commands,
        "sweep",
        help="run the same training over many seeds in parallel",
        description="Run one training over many seeds, in parallel worker processes, each in its own run folder; "
        "prints one row per seed and a summary. Example: neurocar sweep --seeds 0-9 -- train evolve --track "
        "hairpins --target-laps 1",
    )
    sweep.add_argument("--seeds", required=True, metavar="SEEDS", help="seeds and ranges, e.g. 0-9 or 0,3,7")
    sweep.add_argument("--workers", type=int, metavar="N", help="runs at once (default: the number of CPUs)")
    sweep.add_argument("--json", action="store_true", help="print the rows and the summary as JSON")
    sweep.add_argument("--run-dir", metavar="DIR", help="the sweep folder (default: a new one under runs/)")
    sweep.add_argument(
        "--executor", choices=("local", "ray"), default="local", help="local processes (default) or a Ray cluster"
    )
    sweep.add_argument("--address", metavar="ADDRESS", help="with --executor ray: the cluster (default: auto)")
    sweep.add_argument(
        "--evaluate",
        action="append",
        metavar="TRACKS",
        help="also drive each run's best model one lap on these tracks (a file, a shipped name, shipped or a "
        "folder) and report how many it lapped (repeatable)",
    )
    sweep.add_argument("training", nargs=argparse.REMAINDER, help="-- then the training: train evolve OPTIONS")
    sweep.set_defaults(handler=_handler("sweep"))

    edit = _add_command(commands, "edit", parents=[common], help="window: draw or change a track, see problems live")
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

    lesson = _add_command(
        commands,
        "lesson",
        parents=[common],
        help="window: the lesson, from one neuron to the driving car (English or Spanish)",
        description="A window of six chapters: one neuron, several inputs, a layer as a matrix, why a "
        "non-linearity, the car's brain, learning to drive. Left/Right move between chapters, H shows the keys.",
    )
    lesson.add_argument("--lang", choices=("en", "es"), help="language of the texts (default: the system's, else en)")
    lesson.add_argument(
        "--text", metavar="FILE.yaml", help="a lesson text file of your own (a copy of en.yaml, adapted)"
    )
    lesson.add_argument("--chapter", type=int, metavar="N", help="start at chapter N (1 to 6)")
    lesson.add_argument("--seed", type=seed, default=0, help="random seed: the neuron's first W, evolution (default 0)")
    lesson.add_argument("--track", metavar="FILE", help="track for the car chapters and the sim and drive windows")
    lesson.add_argument(
        "--record", metavar="DIR", default="recordings", help="where the drive window records (default: recordings)"
    )
    lesson.add_argument("--frames", type=int, metavar="N", help="quit after N frames (for scripts and tests)")
    lesson.add_argument("--screenshot", metavar="FILE.png", help="save the window to this PNG when it quits")
    lesson.set_defaults(handler=_handler("lesson"))
    lesson_commands = lesson.add_subparsers(dest="lesson_command", metavar="neuron|text", title="subcommands")
    lesson_words = _add_command(
        lesson_commands,
        "text",
        help="print a shipped lesson text file, to copy and adapt (then load it with --text FILE)",
    )
    lesson_words.add_argument("--lang", choices=("en", "es"), help="which language (default: the system's, else en)")
    lesson_words.set_defaults(handler=_handler("lesson", "run_text_command"))
    neuron = _add_command(
        lesson_commands,
        "neuron",
        help="the first chapter's neuron, headless: every step of y = W * x learning its weight",
        description="Learn W in y = W * x from the error: error = y - target, W <- W - LR * error. Prints every "
        "step and whether the run converges, oscillates (LR above 1/x) or diverges (LR above 2/x).",
    )
    neuron.add_argument("--x", type=float, metavar="X", help="the input (default 6)")
    neuron.add_argument("--target", type=float, metavar="Y", help="the output to learn (default 1.5)")
    neuron.add_argument("--w", type=float, metavar="W0", help="start weight (default: random in [0, 0.5) from --seed)")
    neuron.add_argument("--lr", type=float, default=0.01, metavar="LR", help="learning rate (default 0.01)")
    neuron.add_argument("--steps", type=int, default=100, metavar="K", help="learning steps (default 100)")
    neuron.add_argument("--seed", type=seed, default=0, help="random seed for the start weight (default 0)")
    neuron.add_argument("--json", action="store_true", help="print the steps and the outcome as JSON")
    neuron.set_defaults(handler=_handler("lesson", "run_neuron_command"))
    help_command = _add_command(commands, "help", help="show the help of a command, e.g. neurocar help train evolve")
    help_command.add_argument("topic", nargs="*", metavar="COMMAND", help="a command and its subcommand")
    help_command.set_defaults(handler=lambda arguments: print_help(parser, arguments.topic))
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of a parser by name (none for a command without subcommands)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _unrecognized(parser: argparse.ArgumentParser, arguments: argparse.Namespace, extras: list[str]) -> str:
    """The error for words no option took, naming the command's own help and the closest option."""
    command = parser
    for dest in ("command", "tracks_command", "train_command"):
        name = getattr(arguments, dest, None)
        choices = _subcommands(command)
        if name in choices:
            command = choices[name]
    options = [option for action in command._actions for option in action.option_strings]
    typed = next((word.split("=", 1)[0] for word in extras if word.startswith("--")), None)
    # An abbreviation names the options it begins; otherwise the closest spelling, if any is close.
    close = [option for option in options if typed and option.startswith(typed)]
    if not close and typed:
        close = difflib.get_close_matches(typed, options, n=1, cutoff=0.75)
    suggestion = f"; did you mean {' or '.join(repr(option) for option in close[:3])}?" if close else ""
    listed = " ".join(_excerpt(word)[1:-1] for word in extras)
    return f"unrecognized arguments: {listed}{suggestion} (see '{command.prog} --help')"


def print_help(parser: argparse.ArgumentParser, topic: Sequence[str]) -> int:
    """`neurocar help [COMMAND [SUBCOMMAND]]`: print the help of that (sub)command."""
    current = parser
    for word in topic:
        choices = _subcommands(current)
        if word not in choices:
            if not choices:
                raise NeuroCarError(f"help: '{current.prog}' has no subcommands (see '{current.prog} --help')")
            names = [name for name in choices if name != "help"]
            close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
            suggestion = f"; did you mean '{close[0]}'?" if close else ""
            raise NeuroCarError(
                f"help: no command {_excerpt(word)} in '{current.prog}' "
                f"(choose from {', '.join(map(repr, names))}){suggestion}"
            )
        current = choices[word]
    current.print_help()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Ctrl-C ends with 130, SIGTERM and SIGHUP with 128 + the signal number (143, 129); a training run saves its
    best model and checkpoint first either way.
    """
    with stop_signals_as_interrupts() as received:
        code = _run(argv)
    if received and code == EXIT_INTERRUPTED:
        return 128 + received[0]
    return code


def _run(argv: Sequence[str] | None) -> int:
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
        arguments, extras = parser.parse_known_args(arguments_list)
        if extras:
            raise NeuroCarError(_unrecognized(parser, arguments, extras))
        for name in ("config", "set"):
            if not hasattr(arguments, name):
                setattr(arguments, name, None)
        return int(arguments.handler(arguments))
    except NeuroCarError as error:
        print(f"neurocar: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Terminated as stop:
        print(f"neurocar: stopped by {signal.Signals(stop.signal_number).name}", file=sys.stderr)
        return EXIT_INTERRUPTED
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
        print(f"neurocar: error: {printable(f'{where}{error.strerror or error}')}", file=sys.stderr)
        return EXIT_BAD_INPUT
