"""`neurocar drive`: drive one car in the window (arrow keys, a model, or the autopilot), optionally recorded.

Everything the user gave is checked first (config, track, model, the recording folder, numbers, the screenshot
path), so bad input ends with the one-line error before the window opens; only then is pygame imported.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neurocar.commands.common import config_from_args, explicit_keys, model_path
from neurocar.commands.replay_files import check_replay_out, load_ghosts, save_replay_out, track_for
from neurocar.commands.window_checks import check_window_options
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import config_for_model, load_model
from neurocar.learn.recording import SessionWriter
from neurocar.sim.replay import ReplayRecorder


def run(arguments: argparse.Namespace) -> int:
    """Drive (and record) until Esc; prints a summary."""
    speed = check_window_options(arguments)
    check_replay_out(arguments)
    if arguments.driver is not None and (arguments.autopilot or arguments.model):
        raise NeuroCarError("--driver names the person driving; drop it with --autopilot or --model")
    if arguments.driver is not None and not arguments.driver.strip():
        raise NeuroCarError("--driver: give a name (or leave the option out)")
    config = config_from_args(arguments)
    model = None
    if arguments.model is not None:
        model = load_model(model_path(arguments.model))
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
        if arguments.replay_out is not None:
            driver = "autopilot" if arguments.autopilot else ("model" if model is not None else "person")
            label = Path(model.path).name if model is not None else (arguments.driver or driver)
            world = app.world
            recorder = ReplayRecorder("drive", track, world.physics, world.sensors, world.episode, [label], [driver])
            app.recorder = recorder
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    try:
        return app.run()
    finally:
        save_replay_out(arguments, recorder, app.world)
