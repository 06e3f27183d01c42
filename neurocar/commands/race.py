"""`neurocar race` (and `neurocar drive --race`): you drive with the arrow keys against trained models (and ghosts)
on one track.

Everything the user gave is checked first (config, models, track, ghosts, numbers, output paths), so bad input ends
with the one-line error before the window opens; only then is pygame imported.
"""

from __future__ import annotations

import argparse
import colorsys
import dataclasses
import os

from neurocar.commands.common import config_from_args, explicit_keys, model_path, require_at_least
from neurocar.commands.replay_files import (
    check_best_lap_out,
    check_replay_out,
    load_ghosts,
    save_best_lap_out,
    save_replay_out,
    track_for,
)
from neurocar.commands.window_checks import check_window_options
from neurocar.commands.windowed import shared_config
from neurocar.errors import NeuroCarError
from neurocar.learn.evaluation import time_for_laps
from neurocar.learn.model_file import load_model
from neurocar.paths import SHIPPED_DRIVER_NAME
from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.race import Race
from neurocar.sim.replay import ReplayRecorder, check_replay_settings, load_replay
from neurocar.sim.world import World

DEFAULT_LAPS = 3
PERSON_COLOUR = (255, 196, 64)
# Ten colours a class can tell apart and name (cyan, magenta, green, red, blue, orange, brown, pink, lime, teal),
# each at least 25 CIELAB units from the others, from your amber car, the violet ghost, the road and the panel.
MODEL_COLOURS = [
    (64, 200, 226),
    (236, 96, 236),
    (120, 220, 110),
    (250, 90, 90),
    (40, 110, 230),
    (255, 130, 20),
    (160, 100, 50),
    (255, 160, 200),
    (200, 235, 40),
    (0, 150, 110),
]


def car_colours(count: int) -> list[tuple[int, int, int]]:
    """Distinct colours for the models' cars: ten hand-picked ones, then hues spread round the colour wheel."""
    colours = list(MODEL_COLOURS[:count])
    extra = count - len(colours)
    for index in range(extra):
        red, green, blue = colorsys.hsv_to_rgb((0.07 + index / max(1, extra) * 0.9) % 1.0, 0.55, 1.0)
        colours.append((round(red * 255), round(green * 255), round(blue * 255)))
    return colours


def distinct_labels(labels: list[str]) -> list[str]:
    """The labels, with " (2)", " (3)", ... added to repeats so every car can be told apart."""
    seen: dict[str, int] = {}
    result = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        result.append(label if labels.count(label) == 1 else f"{label} ({seen[label]})")
    return result


def run(arguments: argparse.Namespace) -> int:
    """Race until the window is closed; prints the finishing order (and saves the replay if asked)."""
    require_at_least("--laps", arguments.laps, 1)
    if arguments.laps is None:
        arguments.laps = (load_replay(arguments.ghost[0]).laps if arguments.ghost else None) or DEFAULT_LAPS
    speed = check_window_options(arguments)
    check_replay_out(arguments)
    check_best_lap_out(arguments)
    base = config_from_args(arguments)
    names = arguments.model or ([] if arguments.ghost else [SHIPPED_DRIVER_NAME])
    models = [load_model(model_path(name)) for name in names]
    if models:
        config = shared_config(models, base, explicit_keys(arguments))
    else:
        first_ghost = load_replay(arguments.ghost[0])
        check_replay_settings(first_ghost, base.physics, base.sensors, explicit_keys(arguments))
        config = dataclasses.replace(base, physics=first_ghost.physics, sensors=first_ghost.sensors)
    track = track_for(arguments, config)
    ghosts = load_ghosts(arguments.ghost, track, config)
    name = (arguments.name or "").strip() or ("autopilot" if arguments.autopilot else "you")
    if arguments.name is not None and not arguments.name.strip():
        raise NeuroCarError("--name: give a name (or leave the option out)")

    episode = dataclasses.replace(config.episode, max_seconds=time_for_laps(track, config.physics, arguments.laps))
    world = World(track, config.physics, config.sensors, episode, population=1 + len(models))
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from neurocar.learn.model_pilots import ModelPilots
    from neurocar.sim.autopilot import Autopilot
    from neurocar.ui.ghosts import GhostCars
    from neurocar.ui.race_app import RaceApp
    from neurocar.ui.standings_view import RaceEntry
    from neurocar.ui.watch_app import model_names

    person_driver = "autopilot" if arguments.autopilot else "person"
    names = distinct_labels(model_names([model.path for model in models]))
    entries = [RaceEntry(name, PERSON_COLOUR, person_driver)] + [
        RaceEntry(model_name, colour, "model")
        for model_name, colour in zip(names, car_colours(len(models)), strict=True)
    ]
    recorder = None
    if arguments.replay_out is not None:
        recorder = ReplayRecorder(
            "race",
            track,
            config.physics,
            config.sensors,
            episode,
            [entry.label for entry in entries],
            [entry.driver for entry in entries],
            laps=arguments.laps,
        )
    best_laps = None
    if arguments.best_lap_out is not None:
        best_laps = BestLapRecorder(
            "race",
            track,
            config.physics,
            config.sensors,
            episode,
            [entry.label for entry in entries],
            [entry.driver for entry in entries],
        )
    race = Race(world, arguments.laps, recorder=recorder, best_laps=best_laps)
    pilots = ModelPilots(models) if models else None
    app = RaceApp(
        config,
        track,
        race,
        entries,
        title="Race",
        person=0,
        autopilot=Autopilot(track, config.physics) if arguments.autopilot else None,
        pilots=None if pilots is None else pilots.actions,
        ghosts=GhostCars(ghosts),
        max_frames=arguments.frames,
        screenshot=arguments.screenshot,
        speed=speed,
    )
    try:
        return app.run()
    finally:
        try:
            save_replay_out(arguments, recorder, world)
        finally:
            save_best_lap_out(arguments, best_laps)
