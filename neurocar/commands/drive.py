"""`neurocar drive`: drive one car in the window (arrow keys, a model, or the autopilot), optionally recorded;
with `--race`, the race of `neurocar race` against models.

Everything the user gave is checked first (config, track, model, the recording folder, numbers, the screenshot
path), so bad input ends with the one-line error before the window opens; only then is pygame imported.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neurocar.commands.common import config_from_args, explicit_keys, model_path
from neurocar.commands.replay_files import (
    check_best_lap_out,
    check_replay_out,
    load_ghosts,
    save_best_lap_out,
    save_replay_out,
    track_for,
)
from neurocar.commands.window_checks import check_window_options
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import config_for_model, load_model
from neurocar.learn.recording import SessionWriter
from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.replay import ReplayRecorder


def run_race(arguments: argparse.Namespace) -> int:
    """`drive --race`: the race itself, with the drive command's names for its options."""
    from neurocar.commands import race

    if arguments.record is not None:
        raise NeuroCarError("--record records a drive alone; drop it with --race")
    if arguments.driver is not None and arguments.autopilot:
        raise NeuroCarError("--driver names the person driving; drop it with --autopilot")
    arguments.name = arguments.driver
    return race.run(arguments)


def run(arguments: argparse.Namespace) -> int:
    """Drive (and record) until Esc; prints a summary."""
    if arguments.race:
        return run_race(arguments)
    if arguments.laps is not None:
        raise NeuroCarError("--laps counts the laps of a race; add --race (a drive has no end)")
    if arguments.model is not None and len(arguments.model) > 1:
        raise NeuroCarError("--model: one model drives the car; add --race to race several")
    if arguments.model is not None and arguments.autopilot:
        raise NeuroCarError("--autopilot and --model both drive the car: choose one (or add --race to race them)")
    speed = check_window_options(arguments)
    check_replay_out(arguments)
    check_best_lap_out(arguments)
    if arguments.driver is not None and (arguments.autopilot or arguments.model):
        raise NeuroCarError("--driver names the person driving; drop it with --autopilot or --model")
    if arguments.driver is not None and not arguments.driver.strip():
        raise NeuroCarError("--driver: give a name (or leave the option out)")
    config = config_from_args(arguments)
    model = None
    if arguments.model is not None:
        model = load_model(model_path(arguments.model[0]))
        config = config_for_model(model, config, explicit_keys(arguments))
    track = track_for(arguments, config)
    ghosts = load_ghosts(arguments.ghost, track, config)
    writer = None
    if arguments.record is not None:
        driver = "autopilot" if arguments.autopilot else ("model" if model is not None else "person")
        writer = SessionWriter(arguments.record, track, config, driver, arguments.driver)

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        from neurocar.ui.drive_app import DriveApp

        app = DriveApp(
            config,
            track,
            writer=writer,
            model=model,
            autopilot=arguments.autopilot,
            max_frames=arguments.frames,
            screenshot=arguments.screenshot,
            speed=speed,
            ghosts=ghosts,
        )
        recorder = None
        driver = "autopilot" if arguments.autopilot else ("model" if model is not None else "person")
        label = Path(model.path).name if model is not None else (arguments.driver or driver)
        world = app.world
        if arguments.replay_out is not None:
            recorder = ReplayRecorder("drive", track, world.physics, world.sensors, world.episode, [label], [driver])
            app.recorder = recorder
        # Always kept: the best lap so far becomes the ghost of your next laps (and --best-lap-out saves it).
        best_laps = BestLapRecorder("drive", track, world.physics, world.sensors, world.episode, [label], [driver])
        app.keep_best_laps(best_laps)
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    try:
        return app.run()
    finally:
        try:
            save_replay_out(arguments, recorder, app.world)
        finally:
            save_best_lap_out(arguments, best_laps)
