"""Many tracks in one world: each car drives as it would alone on its track, with its own clock and time limit."""

from __future__ import annotations

import numpy as np
import pytest

from neurocar.config import EpisodeConfig
from neurocar.learn.evaluation import evaluate_network, evaluate_network_on_tracks
from neurocar.learn.model_file import load_model
from neurocar.paths import SHIPPED_DRIVER
from neurocar.sim.car import STRAIGHT
from neurocar.sim.world import World

STATE_ARRAYS = ("positions", "headings", "driving", "crashed", "stalled", "finished", "progress_m", "laps", "time_s")


def random_actions(rng: np.random.Generator, count: int) -> np.ndarray:
    return np.where(rng.random(count) < 0.7, STRAIGHT, rng.integers(0, 3, count))


def test_layout_is_track_major(oval, classic, config):
    world = World([oval, classic, oval], config.physics, config.sensors, config.episode, population=4)
    assert world.car_count == 12 and world.population == 4 and world.track is oval
    assert world.track_index.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert world.track_length_m.tolist() == [oval.length_m] * 4 + [classic.length_m] * 4 + [oval.length_m] * 4
    observations = world.reset(0)
    assert observations.shape == (12, len(config.sensors.angles_deg))
    assert np.array_equal(world.state.positions[4], classic.start_position)
    assert np.array_equal(world.state.positions[8], oval.start_position)


def test_cars_on_many_tracks_drive_exactly_as_on_their_own(oval, classic, config):
    population = 20
    tracks = [classic, oval]
    limits = [1.5, 3.0]
    batch = World(tracks, config.physics, config.sensors, config.episode, population, max_seconds=limits)
    batch.reset(3)
    singles = [
        World(track, config.physics, config.sensors, config.episode, population, max_seconds=limit)
        for track, limit in zip(tracks, limits, strict=True)
    ]
    for single in singles:
        single.reset(3)
    rng = np.random.default_rng(3)
    starts = rng.random(batch.car_count) * batch.track_length_m
    batch.place(np.arange(batch.car_count), starts)
    for number, single in enumerate(singles):
        single.place(np.arange(population), starts[number * population : (number + 1) * population])
    while not batch.done:
        actions = random_actions(rng, batch.car_count)
        batch.step(actions)
        for number, single in enumerate(singles):
            single.step(actions[number * population : (number + 1) * population])
    assert all(single.done for single in singles)
    for number, single in enumerate(singles):
        cars = slice(number * population, (number + 1) * population)
        for name in STATE_ARRAYS:
            assert np.array_equal(getattr(batch.state, name)[cars], getattr(single.state, name)), name
        assert np.array_equal(batch.observations[cars], single.observations)
    # The limits differ per track, and the drive was long enough for some cars to reach them.
    assert batch.state.time_s[:population].max() == pytest.approx(1.5, abs=1e-9)
    assert batch.state.time_s[population:].max() == pytest.approx(3.0, abs=1e-9)
    assert batch.state.crashed.any()


def test_target_laps_stop_a_car_once_it_has_driven_them(oval, config):
    episode = EpisodeConfig(max_seconds=100.0, stall_seconds=3.0)
    world = World(oval, config.physics, config.sensors, episode, population=2, target_laps=1)
    world.reset(0)
    world.place(np.array([0]), np.array([oval.length_m - 2.6]))  # a short straight to the line
    while world.state.driving[0]:
        world.step(np.full(2, STRAIGHT))
    assert world.state.finished.tolist() == [True, False]
    assert int(world.state.laps[0]) == 1 and not world.state.crashed[0] and not world.state.stalled[0]
    assert world.state.driving[1]
    stopped = world.state.positions[0].copy()
    world.step(np.full(2, STRAIGHT))
    assert np.array_equal(world.state.positions[0], stopped)


def test_reset_cars_starts_their_own_clock(oval, config):
    episode = EpisodeConfig(max_seconds=2.0, stall_seconds=1.5)
    world = World(oval, config.physics, config.sensors, episode, population=2)
    world.reset(0)
    second = round(1.0 / config.physics.dt_s)
    world.place(np.array([0]), np.array([oval.length_m - 2.6]))
    for _ in range(second):  # car 0 crosses the line
        world.step(np.full(2, STRAIGHT))
    assert int(world.state.laps[0]) == 1 and len(world.state.lap_events) == 1
    observations = world.reset_cars(np.array([0]), 5.0)
    assert world.state.time_s[0] == 0.0 and world.state.progress_m[0] == 5.0
    assert int(world.state.laps[0]) == 0 and not world.state.lap_events
    assert np.array_equal(observations[0], world.observations[0])
    assert np.allclose(world.state.positions[0], oval.pose_at(5.0)[0])
    for _ in range(second):  # car 1 reaches its 2 s limit; car 0 has driven 1 s of its own
        world.step(np.full(2, STRAIGHT))
    assert world.state.driving.tolist() == [True, False]
    assert world.state.time_s.tolist() == pytest.approx([1.0, 2.0])
    for _ in range(second):
        world.step(np.full(2, STRAIGHT))
    assert not world.state.driving[0] and world.state.time_s[0] == pytest.approx(2.0)
    assert not world.state.crashed[0] and not world.state.stalled[0]


def test_per_track_limits_must_match_the_tracks(oval, classic, config):
    with pytest.raises(ValueError, match="one per track"):
        World([oval, classic], config.physics, config.sensors, config.episode, 1, max_seconds=[1.0, 2.0, 3.0])


def test_evaluating_tracks_together_gives_each_track_its_own_result(oval, classic, config):
    network = load_model(SHIPPED_DRIVER).network
    together = evaluate_network_on_tracks(network, config, [classic, oval], laps=1)
    alone = [evaluate_network(network, config, track, laps=1) for track in (classic, oval)]
    assert [result.to_json() for result in together] == [result.to_json() for result in alone]
    assert [result.laps_completed for result in together] == [1, 1]
    # Each car had its own time: the shorter track's car finished first and stopped there.
    assert together[1].time_s < together[0].time_s
