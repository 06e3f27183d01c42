"""`neurocar lesson` (the window of chapters) and `neurocar lesson neuron` (the first chapter's numbers, headless).

The window command checks everything first (texts, config, the shipped driver, the track, the options), then opens
the lesson. When its last chapter asks for the `sim` or the `drive` window, the lesson closes, that command runs as
the command line would run it, and the lesson opens again at the last chapter when it is closed.
"""

from __future__ import annotations

import argparse
import json
import math
import os

from neurocar.commands.common import config_from_args, explicit_keys, load_one_track, require_at_least
from neurocar.errors import NeuroCarError
from neurocar.learn.lesson_neuron import (
    DEFAULT_TARGET,
    DEFAULT_X,
    behaviour,
    random_start_weight,
    run_neuron,
    step_factor,
    thresholds,
)
from neurocar.lesson_text import lesson_text, shipped_text_file, system_language
from neurocar.paths import SHIPPED_DRIVER

MAX_STEPS = 100_000
CHAPTER_COUNT = 6


def _finite(option: str, value: float) -> float:
    if not math.isfinite(value):
        raise NeuroCarError(f"{option} {value}: give a finite number")
    return value


def run_neuron_command(arguments: argparse.Namespace) -> int:
    """Print every step of the one-neuron rule and say whether it converges, oscillates or diverges."""
    x = _finite("--x", DEFAULT_X if arguments.x is None else arguments.x)
    target = _finite("--target", DEFAULT_TARGET if arguments.target is None else arguments.target)
    learning_rate = _finite("--lr", arguments.lr)
    if x == 0:
        raise NeuroCarError("--x 0: the input must not be 0 (y = W * 0 never changes)")
    if learning_rate <= 0:
        raise NeuroCarError(f"--lr {arguments.lr:g}: the learning rate must be above 0")
    require_at_least("--steps", arguments.steps, 0)
    if arguments.steps > MAX_STEPS:
        raise NeuroCarError(f"--steps {arguments.steps}: at most {MAX_STEPS}")
    weight = random_start_weight(arguments.seed) if arguments.w is None else _finite("--w", arguments.w)
    neuron = run_neuron(x, target, weight, learning_rate, arguments.steps)
    kind = behaviour(x, learning_rate)
    overshoot, diverge = thresholds(x)
    factor = step_factor(x, learning_rate)
    stopped_early = len(neuron.history) - 1 < arguments.steps
    summary = {
        "x": x,
        "target": target,
        "start_weight": weight,
        "learning_rate": learning_rate,
        "steps": len(neuron.history) - 1,
        "factor_per_step": factor,
        "overshoots_above": overshoot,
        "diverges_above": diverge,
        "behaviour": kind,
        "converged": neuron.converged(),
        "stopped_early": stopped_early,
        "final": neuron.history[-1].as_dict(),
    }
    if arguments.json:
        print(json.dumps({**summary, "history": [row.as_dict() for row in neuron.history]}, indent=2))
        return 0
    print(f"y = W * x with x = {x:g}, target {target:g}, learning rate {learning_rate:g}, start W = {weight!r}")
    print("rule: error = y - target;  W <- W - learning_rate * error")
    print(f"{'step':>6}  {'W':>22}  {'y':>22}  {'error':>22}")
    for row in neuron.history:
        print(f"{row.step:>6}  {row.weight!r:>22}  {row.output!r:>22}  {row.error!r:>22}")
    explanation = {
        "converges": f"each step keeps {factor:.4g} of the error: y approaches the target from one side",
        "oscillates": f"each step keeps {factor:.4g} of the error: y jumps past the target, less each time "
        f"(the rate is above 1/x = {overshoot:.4g})",
        "stays": f"each step keeps {factor:.4g} of the error: it never grows and never shrinks",
        "diverges": f"each step multiplies the error by {factor:.4g}: every jump is bigger than the last "
        f"(the rate is above 2/x = {diverge:.4g})",
    }[kind]
    print(f"{kind}: {explanation}")
    if stopped_early:
        print(f"stopped after {summary['steps']} steps: y left the range of useful numbers")
    last = neuron.history[-1]
    print(
        f"after {summary['steps']} steps: W = {last.weight!r}, y = {last.output!r}, "
        f"{'within' if neuron.converged() else 'not within'} 0.001 of the target"
    )
    return 0


def run_text_command(arguments: argparse.Namespace) -> int:
    """Print the shipped text file of a language, for a teacher to copy and adapt."""
    print(shipped_text_file(arguments.lang or system_language()).read_text(encoding="utf-8"), end="")
    return 0


def run(arguments: argparse.Namespace) -> int:
    """Open the lesson window (and the windows its last chapter asks for)."""
    if getattr(arguments, "lesson_command", None) == "neuron":
        return run_neuron_command(arguments)
    from neurocar.commands.windowed import check_window_options  # not needed by the headless subcommands

    check_window_options(arguments)
    if arguments.chapter is not None and not 1 <= arguments.chapter <= CHAPTER_COUNT:
        raise NeuroCarError(f"--chapter {arguments.chapter}: choose a chapter from 1 to {CHAPTER_COUNT}")
    words = lesson_text(arguments.lang, arguments.text)
    from neurocar.learn.lesson import Lesson, LessonCar, SensorSlots
    from neurocar.learn.model_file import config_for_model, load_model

    model = load_model(SHIPPED_DRIVER)
    config = config_for_model(model, config_from_args(arguments), explicit_keys(arguments))
    try:
        SensorSlots.from_angles(config.sensors.angles_deg)
    except ValueError as error:
        raise NeuroCarError(f"sensors.angles_deg: {error}") from None
    track = load_one_track(arguments.track, config)
    chapter = arguments.chapter or 1

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from neurocar.ui.lesson_app import LessonApp

    while True:
        lesson = Lesson(LessonCar(config, track, model), seed=arguments.seed, chapter=chapter)
        app = LessonApp(
            config,
            lesson,
            words,
            max_frames=arguments.frames,
            screenshot=arguments.screenshot,
            recordings=arguments.record,
        )
        request = app.run()
        if request is None:
            return 0
        code = _open_other_window(request, arguments)
        if code != 0:
            return code  # that command has said what went wrong
        chapter = CHAPTER_COUNT


def _open_other_window(name: str, arguments: argparse.Namespace) -> int:
    """Run `neurocar sim` or `neurocar drive --record DIR` the way the command line runs it."""
    from neurocar.cli import main

    options = []
    if arguments.config is not None:
        options += ["--config", arguments.config]
    for override in arguments.set or ():
        options += ["--set", override]
    if arguments.track is not None:
        options += ["--track", arguments.track]
    if arguments.frames is not None:
        options += ["--frames", str(arguments.frames)]
    command = ["sim", "--seed", str(arguments.seed)] if name == "sim" else ["drive", "--record", arguments.record]
    return main([*command, *options])
