"""`neurocar sim` (by evolution or `--teacher rl`) and `neurocar watch`: the windowed commands.

Everything the user gave is checked first (config, track, models, numbers, output paths), so bad input ends with
the one-line error before any window opens; only then is the view (pygame) imported and the window opened.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurocar.commands.common import (
    config_from_args,
    explicit_keys,
    load_one_track,
    model_path,
    require_at_least,
)
from neurocar.commands.evolve import config_with_population, reporters_for
from neurocar.commands.replay_files import check_replay_out, save_replay_out
from neurocar.commands.window_checks import check_window_options
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import config_for_model, describe_differences, load_model
from neurocar.learn.neuroevolution import Neuroevolution
from neurocar.learn.run_directory import RunLock, claim_run_directory
from neurocar.learn.runs import Reporter
from neurocar.paths import SHIPPED_DRIVER_NAME
from neurocar.sim.replay import ReplayRecorder


def _quiet_pygame() -> None:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@dataclass(frozen=True)
class Teacher:
    """How `neurocar sim` differs with each `--teacher`: the smallest `--population`, how it sets the config, the
    run folder's kind and the files a run writes there."""

    minimum_population: int
    configure: Callable[[Config, int], Config]
    run_kind: str
    file_reporters: Callable[[Any, Path], list]


def _evolution_files(evolution: Neuroevolution, folder: Path) -> list:
    return reporters_for(evolution, folder, None, console=False)


def _reinforcement_files(learner: Any, folder: Path) -> list:
    from neurocar.commands.reinforcement import reporters_for as reinforcement_reporters

    return reinforcement_reporters(learner, folder, None, console=False)


def _cars_for_reinforcement(config: Config, cars: int) -> Config:
    from neurocar.commands.reinforcement import config_with_cars

    return config_with_cars(config, cars)


TEACHERS = {
    "evolution": Teacher(2, config_with_population, "sim", _evolution_files),
    "rl": Teacher(1, _cars_for_reinforcement, "rl", _reinforcement_files),
}


def run_sim(arguments: argparse.Namespace) -> int:
    """Learn live in the window (the default command): by evolution, or with `--teacher rl` by PPO."""
    name = getattr(arguments, "teacher", "evolution")
    teacher = TEACHERS[name]
    require_at_least("--population", arguments.population, teacher.minimum_population)
    speed = check_window_options(arguments)
    config = teacher.configure(config_from_args(arguments), arguments.population)
    track = load_one_track(arguments.track, config)
    run_files = None
    lock = None
    if arguments.run_dir is not None:
        first_folder, lock = claim_run_directory(arguments.run_dir, teacher.run_kind)
        run_files = _run_files(first_folder, lock, name)

    _quiet_pygame()
    if name == "rl":
        from neurocar.ui.reinforcement_app import ReinforcementApp as Window
    else:
        from neurocar.ui.sim_app import SimApp as Window

    try:
        app = Window(
            config,
            track,
            arguments.seed,
            run_files=run_files,
            max_frames=arguments.frames,
            screenshot=arguments.screenshot,
            speed=speed,
        )
        return app.run()
    finally:
        if lock is not None:
            lock.release()


class _ReleaseLock(Reporter):
    """Releases a run folder's lock when its run ends (however it ends), for either learner."""

    def __init__(self, lock: RunLock) -> None:
        self.lock = lock

    def on_run_end(self, learner: Any, outcome: Any) -> None:
        """The run wrote its last file: let another writer in."""
        self.lock.release()


def _run_files(
    first_folder: Path, first_lock: RunLock | None = None, teacher: str = "evolution"
) -> Callable[[Any, int], tuple[Path, list]]:
    """The run-folder maker for the learning window: the first run uses --run-dir, restarts use DIR-2, DIR-3, ...

    Each folder is locked while its run writes it (the first with `first_lock`, if the caller already took it).
    """
    kind = TEACHERS[teacher]

    def make(learner: Any, run_number: int) -> tuple[Path, list]:
        folder = first_folder
        if run_number > 1:
            # A restarted run never overwrites the files of the one before it.
            attempt = run_number
            while (candidate := first_folder.with_name(f"{first_folder.name}-{attempt}")).exists():
                attempt += 1
            folder, lock = claim_run_directory(candidate, kind.run_kind)
        else:
            lock = first_lock if first_lock is not None else RunLock(first_folder)
        return folder, [*kind.file_reporters(learner, folder), _ReleaseLock(lock)]

    return make


def shared_config(models: list, base: Config, keys) -> Config:
    """The config every model runs with; models trained with other sensors or physics cannot race together."""
    configs = [config_for_model(model, base, keys) for model in models]
    first = configs[0]
    for model, config in zip(models[1:], configs[1:], strict=True):
        if config.sensors != first.sensors or config.physics != first.physics:
            differences = [
                message
                for key, message in describe_differences(model, first)
                if key.startswith(("sensors.", "physics."))
            ]
            raise NeuroCarError(
                f"{model.path}: trained with other sensors or physics than {models[0].path} "
                f"({'; '.join(differences)}); watch these models separately"
            )
    return first


def run_watch(arguments: argparse.Namespace) -> int:
    """Race trained models, one car each, in the window."""
    require_at_least("--laps", arguments.laps, 1)
    speed = check_window_options(arguments)
    check_replay_out(arguments)
    base = config_from_args(arguments)
    models = [load_model(model_path(name)) for name in arguments.model or [SHIPPED_DRIVER_NAME]]
    config = shared_config(models, base, explicit_keys(arguments))
    tracks = [load_one_track(arguments.track, config)]

    _quiet_pygame()
    from neurocar.ui.watch_app import WatchApp

    app = WatchApp(
        config,
        tracks[0],
        models,
        arguments.laps,
        max_frames=arguments.frames,
        screenshot=arguments.screenshot,
        speed=speed,
    )
    if arguments.replay_out is None:
        return app.run()
    labels = [driver.name for driver in app.drivers]
    world = app.world
    drivers = ["model"] * len(labels)
    app.recorder = ReplayRecorder(
        "watch", tracks[0], config.physics, config.sensors, world.episode, labels, drivers, laps=arguments.laps
    )
    try:
        return app.run()
    finally:
        save_replay_out(arguments, app.recorder, world)
