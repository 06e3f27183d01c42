"""The compiled step against the numpy oracle (`tests/world_reference.py`): random states on several tracks at
once, every state array and sensor reading equal within 1e-9 m after every step."""

from __future__ import annotations

import math

import numpy as np
import pytest
from world_reference import ReferenceWorld

from neurocar.config import EpisodeConfig
from neurocar.geometry import cast_rays_brute_force
from neurocar.sim.generator import generate_track
from neurocar.sim.world import PARALLEL_MIN_CARS, World

TOLERANCE_M = 1e-9


def compare(world: World, reference: ReferenceWorld) -> None:
    state, expected = world.state, reference.state
    for name in ("driving", "crashed", "stalled", "finished", "laps", "segment"):
        assert np.array_equal(getattr(state, name), getattr(expected, name)), name
    for name in ("positions", "progress_m", "best_progress_m", "time_s"):
        assert np.allclose(getattr(state, name), getattr(expected, name), rtol=0, atol=TOLERANCE_M), name
    turn = np.mod(state.headings - expected.headings + math.pi, 2 * math.pi) - math.pi
    assert np.all(np.abs(turn) <= TOLERANCE_M)
    range_m = world.sensors.range_m
    assert np.allclose(world.observations, reference.observations, rtol=0, atol=TOLERANCE_M / range_m)
    assert len(state.lap_events) == len(expected.lap_events)
    for event, expected_event in zip(state.lap_events, expected.lap_events, strict=True):
        assert (event.car, event.lap) == (expected_event.car, expected_event.lap)
        assert event.time_s == pytest.approx(expected_event.time_s, abs=TOLERANCE_M)
        assert event.lap_time_s == pytest.approx(expected_event.lap_time_s, abs=TOLERANCE_M)


def pursuit(world: World, look_ahead_m: np.ndarray) -> np.ndarray:
    """Steer each car towards the centre-line point `look_ahead_m` along its own track (negative: behind it)."""
    state = world.state
    target = np.empty_like(state.positions)
    for number, track in enumerate(world.tracks):
        cars = world.track_index == number
        target[cars] = track.pose_at(state.progress_m[cars] + look_ahead_m[cars])[0]
    offset = target - state.positions
    error = np.mod(np.arctan2(offset[:, 1], offset[:, 0]) - state.headings + math.pi, 2 * math.pi) - math.pi
    half_turn = world.physics.turn_rate_rad_per_s * world.physics.dt_s / 2
    return np.where(error > half_turn, 0, np.where(error < -half_turn, 2, 1))


@pytest.fixture(scope="module")
def generated(config):
    return [generate_track(seed, difficulty, config.physics)[0] for seed, difficulty in ((4, 2), (9, 5))]


@pytest.mark.parametrize("speed_factor", [1, 8])
def test_the_compiled_step_matches_the_numpy_oracle_on_several_tracks(oval, classic, generated, config, speed_factor):
    physics = config.replace("physics", cruise_speed_mps=config.physics.cruise_speed_mps * speed_factor).physics
    tracks = [oval, classic, *generated]
    population = 40
    episode = EpisodeConfig(max_seconds=30.0, stall_seconds=2.0)
    limits = [30.0, 6.0, 20.0, 25.0]
    arguments = (tracks, physics, config.sensors, episode, population)
    world = World(*arguments, max_seconds=limits, target_laps=2)
    reference = ReferenceWorld(*arguments, max_seconds=limits, target_laps=2)
    world.reset(0)
    reference.reset(0)
    compare(world, reference)
    rng = np.random.default_rng(speed_factor)
    count = world.car_count
    cars = np.arange(count)
    # A third of the cars follow the road to the finish of their second lap, a third follow it backwards (they
    # stall), a third drive at random from anywhere in their first two laps.
    kind = cars % 3
    length = world.track_length_m
    starts = np.where(kind == 0, 2 * length - rng.random(count) * 150.0, rng.random(count) * length * 1.5)
    world.place(cars, starts)
    reference.place(cars, starts)
    turns = np.where(kind == 1, math.pi, rng.normal(0.0, 0.3, count))
    world.state.headings[:] += turns
    reference.state.headings[:] += turns
    look_ahead = np.where(kind == 0, 8.0, -8.0) * speed_factor
    laps_seen = 0
    seen = {"stalled": False, "finished": False, "timed out": False}
    for step in range(300):
        random_actions = np.where(rng.random(count) < 0.6, 1, rng.integers(0, 3, count))
        actions = np.where(kind == 2, random_actions, pursuit(world, look_ahead))
        world.step(actions)
        reference.step(actions)
        compare(world, reference)
        state = world.state
        seen["stalled"] |= bool(state.stalled.any())
        seen["finished"] |= bool(state.finished.any())
        seen["timed out"] |= bool((~state.driving & ~state.crashed & ~state.stalled & ~state.finished).any())
        if step % 50 == 25:  # new episodes for some cars, as an environment's autoreset does
            restarted = np.nonzero(rng.random(count) < 0.2)[0]
            progress = rng.random(len(restarted)) * world.track_length_m[restarted]
            world.reset_cars(restarted, progress)
            reference.reset_cars(restarted, progress)
            compare(world, reference)
        laps_seen = max(laps_seen, len(world.state.lap_events))
    # The drive exercised what it compares: crashes, laps, stalls, finishes and the time limits.
    assert world.state.crashed.sum() > count // 4
    assert laps_seen > 0
    if speed_factor == 1:  # fast cars mostly crash before anything else can happen
        assert all(seen.values()), seen


def test_readings_from_outside_the_grid_are_cast_against_every_wall(classic, config):
    world = World(classic, config.physics, config.sensors, config.episode, population=50)
    world.reset(0)
    rng = np.random.default_rng(1)
    low, high = classic.wall_starts.min(axis=0) - 60.0, classic.wall_starts.max(axis=0) + 60.0
    world.state.positions[:] = rng.uniform(low, high, (50, 2))  # mostly far off the road
    world.state.headings[:] = rng.uniform(-math.pi, math.pi, 50)
    world._observe(np.arange(50))
    angles = (world.state.headings[:, None] + np.asarray(config.sensors.angles_rad)[None]).ravel()
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    origins = np.repeat(world.state.positions, len(config.sensors.angles_rad), axis=0)
    distances = cast_rays_brute_force(origins, directions, classic.wall_starts, classic.wall_ends)
    expected = np.minimum(distances / config.sensors.range_m, 1.0).reshape(50, -1)
    assert np.allclose(world.observations, expected, rtol=0, atol=TOLERANCE_M / config.sensors.range_m)
    assert (world.grid.cells(world.state.positions) < 0).sum() > 25  # most of them really were outside
    assert (world.observations < 1).any()


def test_bad_actions_are_refused_and_change_nothing(oval, config):
    world = World(oval, config.physics, config.sensors, config.episode, population=3)
    world.reset(0)
    before = world.state.positions.copy()
    with pytest.raises(ValueError, match="0 \\(left\\), 1 \\(straight\\) or 2 \\(right\\)"):
        world.step(np.array([1, 3, 1]))
    with pytest.raises(ValueError, match="expected 3 integer actions"):
        world.step(np.array([1.0, 1.0, 1.0]))
    assert np.array_equal(world.state.positions, before)
    world.step(np.array([1, 1, 1], dtype=np.int32))  # any integer type is accepted
    assert not np.array_equal(world.state.positions, before)


def test_big_worlds_step_on_every_core_with_the_same_results(classic, oval, config):
    episode = EpisodeConfig(max_seconds=20.0, stall_seconds=2.0)
    arguments = ([classic, oval], config.physics, config.sensors, episode, 200)
    rng = np.random.default_rng(5)
    count = 400
    starts = rng.random(count) * 1000.0
    turns = rng.normal(0.0, 0.4, count)
    actions = rng.integers(0, 3, (400, count))
    runs = []
    # In parallel while half of them drive, then one car after the other throughout.
    for threshold in (min(PARALLEL_MIN_CARS, count // 2), count + 1):
        world = World(*arguments, target_laps=1)
        world.parallel_min_cars = threshold
        world.reset(0)
        world.place(np.arange(count), starts)
        world.state.headings[:] += turns
        world._observe(np.arange(count))
        observations = []
        for row in actions:
            observations.append(world.step(row).copy())
        runs.append((world, np.array(observations)))
    (parallel, parallel_observations), (serial, serial_observations) = runs
    assert parallel._parallel_kernel is not None and serial._parallel_kernel is None
    assert np.array_equal(parallel_observations, serial_observations)
    assert np.array_equal(parallel.state_floats, serial.state_floats)
    assert np.array_equal(parallel.state_integers, serial.state_integers)
    assert np.array_equal(parallel.state_flags, serial.state_flags)
    assert parallel.state.lap_events == serial.state.lap_events
    assert len(parallel.state.lap_events) > 0 and parallel.state.crashed.any()


def test_the_parallel_step_gives_the_same_results_on_one_thread_as_on_all(classic, config):
    import numba

    episode = EpisodeConfig(max_seconds=20.0, stall_seconds=2.0)
    rng = np.random.default_rng(8)
    count = 150  # several chunks, the last one short
    starts = rng.random(count) * classic.length_m
    actions = rng.integers(0, 3, (200, count))
    runs = []
    threads = numba.get_num_threads()
    for thread_count in (threads, 1):
        numba.set_num_threads(thread_count)
        try:
            world = World(classic, config.physics, config.sensors, episode, count, target_laps=1)
            world.parallel_min_cars = 0
            world.reset(0)
            world.place(np.arange(count), starts)
            observations = np.array([world.step(row).copy() for row in actions])
        finally:
            numba.set_num_threads(threads)
        runs.append((world, observations))
    (every, every_observations), (one, one_observations) = runs
    assert np.array_equal(every_observations, one_observations)
    assert np.array_equal(every.state_floats, one.state_floats)
    assert np.array_equal(every.state_flags, one.state_flags)
    assert every.state.lap_events == one.state.lap_events
    assert every.state.crashed.any() and not every.state.driving.all()
