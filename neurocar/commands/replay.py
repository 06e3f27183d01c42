"""`neurocar replay FILE`: play a saved replay back in the window (or check it headless with `--check`).

The replay is re-simulated from its actions on its own track and physics; a changed track file or other physics
asked for on the command line is the one-line error, before the window opens.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

from neurocar.commands.common import config_from_args, explicit_keys
from neurocar.errors import NeuroCarError
from neurocar.sim.replay import ReplayPlayer, check_replay_settings, load_replay, replay_track


def run(arguments: argparse.Namespace) -> int:
    """Play the replay until the window is closed (or check it); returns the exit code."""
    if arguments.check:
        if arguments.frames is not None or arguments.screenshot is not None:
            raise NeuroCarError("--check runs without a window; drop --frames and --screenshot")
        speed = 1.0
    else:
        from neurocar.commands.window_checks import check_window_options

        speed = check_window_options(arguments)
    replay = load_replay(arguments.file)
    base = config_from_args(arguments)
    check_replay_settings(replay, base.physics, base.sensors, explicit_keys(arguments))
    config = dataclasses.replace(base, physics=replay.physics, sensors=replay.sensors, episode=replay.episode)
    track = replay_track(replay, arguments.track, replay.physics)
    player = ReplayPlayer(replay, track)
    labels = ", ".join(car.label for car in replay.cars[:3])
    if replay.population > 3:
        labels += f" and {replay.population - 3} more"
    if replay.is_lap:
        print(
            f"replay {replay.path}: lap {replay.lap_number} of {replay.cars[0].label} ({replay.kind}) on "
            f"{replay.track_name} in {replay.lap_time_s:.2f}s, {replay.steps} steps, saved by neurocar "
            f"{replay.neurocar_version}"
        )
    else:
        print(
            f"replay {replay.path}: {replay.kind} on {replay.track_name}, {replay.population} car(s) ({labels}), "
            f"{replay.steps} steps ({replay.duration_s:.1f} s), saved by neurocar {replay.neurocar_version}"
        )
    if arguments.check:
        matches = player.play_to_end()
        if replay.is_lap:
            driven = player.played_lap_time_s()
            same_time = driven == replay.lap_time_s
            print(
                f"lap driven again in {driven:.2f}s"
                + (", exactly the saved time" if same_time else ", NOT the saved time")
                if driven is not None
                else "the lap was NOT completed when driven again"
            )
            matches = matches and same_time
        if matches:
            print("final state matches the saved one")
            return 0
        print("final state DIFFERS from the saved one: this version of the simulation does not reproduce the drive")
        return 1

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from neurocar.commands.race import PERSON_COLOUR, car_colours
    from neurocar.ui.race_app import PlayedReplay, RaceApp
    from neurocar.ui.standings_view import RaceEntry

    # The colours the race gave them: yours, then the models' in order.
    drivers = [car for car in replay.cars if car.driver not in ("person", "autopilot")]
    colours = iter(car_colours(len(drivers)))
    entries = [
        RaceEntry(car.label, PERSON_COLOUR if car.driver in ("person", "autopilot") else next(colours), car.driver)
        for car in replay.cars
    ]
    app = RaceApp(
        config,
        track,
        PlayedReplay(player),
        entries,
        title="Replay",
        max_frames=arguments.frames,
        screenshot=arguments.screenshot,
        speed=speed,
    )
    return app.run()
