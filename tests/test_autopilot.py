"""The scripted driver: clean laps on every shipped track, vectorised over cars, and a sensible choice of action."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurocar.config import Config
from neurocar.paths import TRACKS_DIR
from neurocar.sim.autopilot import Autopilot, autopilot_actions
from neurocar.sim.car import STEER_LEFT, STEER_RIGHT, STRAIGHT
from neurocar.sim.track import Track, load_track
from neurocar.sim.world import World


def drive_laps(track: Track, config: Config, laps: int, cars: int = 1) -> World:
    """Let the autopilot drive `cars` cars until they complete `laps` laps or stop."""
    episode = dataclasses.replace(config.episode, max_seconds=1e9, stall_seconds=config.episode.stall_seconds)
    world = World(track, config.physics, config.sensors, episode, population=cars)
    world.reset()
    autopilot = Autopilot(track, config.physics)
    limit = int(3 * laps * track.length_m / (config.physics.cruise_speed_mps * config.physics.dt_s))
    while not world.done and int(world.state.laps.min()) < laps and world.steps < limit:
        state = world.state
        world.step(autopilot.actions(state.positions, state.headings, state.progress_m))
    return world


@pytest.mark.parametrize("path", sorted(TRACKS_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_autopilot_drives_two_clean_laps_on_every_shipped_track(path, config: Config) -> None:
    track = load_track(
        path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
    )
    world = drive_laps(track, config, laps=2)
    assert not world.state.crashed[0] and not world.state.stalled[0]
    assert int(world.state.laps[0]) == 2
    # Close to the ideal: the lap takes at most a few percent longer than driving the centre line.
    ideal = track.length_m / config.physics.cruise_speed_mps
    assert all(lap < 1.05 * ideal for lap in world.lap_times(0))


def test_autopilot_goes_straight_on_the_centre_line_and_steers_back_towards_it(classic: Track, config) -> None:
    start, heading = classic.start_position, classic.start_heading
    straight = autopilot_actions(classic, config.physics, start[None], np.array([heading]), np.array([0.0]))
    assert straight.tolist() == [STRAIGHT]
    # The start is on a straight along +x: a car pointing 30 degrees to the left of it steers right, and back.
    turned = autopilot_actions(
        classic, config.physics, np.stack([start, start]), np.array([heading + 0.5, heading - 0.5]), np.zeros(2)
    )
    assert turned.tolist() == [STEER_RIGHT, STEER_LEFT]


def test_autopilot_drives_many_cars_at_once_like_one(classic: Track, config) -> None:
    rng = np.random.default_rng(0)
    progress = rng.uniform(0, classic.length_m, 16)
    positions, headings = classic.pose_at(progress)
    positions = positions + rng.normal(0, 1.0, positions.shape)
    headings = headings + rng.normal(0, 0.3, headings.shape)
    together = autopilot_actions(classic, config.physics, positions, headings, progress)
    alone = [
        int(
            autopilot_actions(classic, config.physics, positions[i : i + 1], headings[i : i + 1], progress[i : i + 1])[
                0
            ]
        )
        for i in range(16)
    ]
    assert together.tolist() == alone
    assert set(together.tolist()) <= {STEER_LEFT, STRAIGHT, STEER_RIGHT}
