"""The world: laps and lap times, progress that cannot be farmed, swept collisions, stopping rules, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurocar.config import EpisodeConfig, FitnessConfig
from neurocar.sim.car import STEER_LEFT, STEER_RIGHT, STRAIGHT
from neurocar.sim.fitness import FITNESS_TERMS, fitness_terms, total_fitness
from neurocar.sim.track import track_from_data
from neurocar.sim.world import World


def make_world(track, config, population=1, physics=None, episode=None):
    return World(track, physics or config.physics, config.sensors, episode or config.episode, population)


def follow_centre_line(world: World, look_ahead_m: float = 8.0) -> np.ndarray:
    """A simple pursuit driver: steer towards the centre-line point a little ahead of each car's progress."""
    state = world.state
    target, _ = world.track.pose_at(np.mod(state.progress_m + look_ahead_m, world.track.length_m))
    offset = target.reshape(-1, 2) - state.positions
    wanted = np.arctan2(offset[:, 1], offset[:, 0])
    error = np.mod(wanted - state.headings + math.pi, 2 * math.pi) - math.pi
    half_turn = math.radians(world.physics.turn_rate_deg_per_s) * world.physics.dt_s / 2
    return np.where(error > half_turn, STEER_LEFT, np.where(error < -half_turn, STEER_RIGHT, STRAIGHT))


def point_to_polyline(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest of the segments (reference, written for the tests)."""
    edge = ends - starts
    offset = points[:, None, :] - starts[None]
    along = np.clip(np.einsum("pki,ki->pk", offset, edge) / np.einsum("ki,ki->k", edge, edge), 0.0, 1.0)
    gap = offset - along[..., None] * edge[None]
    return np.hypot(gap[..., 0], gap[..., 1]).min(axis=1)


def test_reset_puts_every_car_on_the_start(oval, config):
    world = make_world(oval, config, population=5)
    observations = world.reset(0)
    assert observations.shape == (5, len(config.sensors.angles_deg))
    assert np.all((observations >= 0) & (observations <= 1))
    assert np.array_equal(world.state.positions, np.repeat(oval.start_position[None], 5, axis=0))
    assert np.all(world.state.driving) and world.state.progress_m.tolist() == [0.0] * 5


def test_driving_the_centre_line_completes_laps_in_length_over_speed(oval, config):
    world = make_world(oval, config, episode=EpisodeConfig(max_seconds=200.0, stall_seconds=3.0))
    world.reset(0)
    lap_time = oval.length_m / config.physics.cruise_speed_mps
    previous = 0.0
    while world.time_s < 2.5 * lap_time:
        world.step(follow_centre_line(world))
        assert world.state.progress_m[0] > previous  # always moving forward along the track
        previous = world.state.progress_m[0]
    assert not world.state.crashed[0] and world.state.driving[0]
    assert int(world.state.laps[0]) == 2
    assert [event.lap for event in world.state.lap_events] == [1, 2]
    assert world.lap_times(0) == pytest.approx([lap_time, lap_time], rel=0.03)
    assert world.state.progress_m[0] == pytest.approx(2.5 * oval.length_m, rel=0.03)


def test_lap_time_at_the_line_is_interpolated_exactly(oval, config):
    # On the start straight: placed 2.6 m before the line, driving straight, the car crosses it after 2.6 m.
    world = make_world(oval, config)
    world.reset(0)
    world.place(np.array([0]), np.array([oval.length_m - 2.6]))
    assert world.state.positions[0] == pytest.approx([-2.6, 0.0], abs=1e-9)
    for _ in range(4):
        world.step(np.array([STRAIGHT]))
    speed = config.physics.cruise_speed_mps
    assert world.state.progress_m[0] == pytest.approx(oval.length_m - 2.6 + 4 * speed * config.physics.dt_s)
    assert int(world.state.laps[0]) == 1
    (event,) = world.state.lap_events
    assert (event.car, event.lap) == (0, 1)
    assert event.time_s == pytest.approx(2.6 / speed, rel=1e-9)
    assert event.lap_time_s == pytest.approx(2.6 / speed, rel=1e-9)


def test_driving_backwards_reduces_progress_and_stalls(oval, config):
    world = make_world(oval, config)
    world.reset(0)
    world.place(np.array([0]), np.array([30.0]))
    world.state.headings[0] += math.pi  # turn round on the straight
    step = config.physics.cruise_speed_mps * config.physics.dt_s
    for _ in range(10):
        world.step(np.array([STRAIGHT]))
    assert world.state.progress_m[0] == pytest.approx(30.0 - 10 * step, abs=1e-6)
    assert world.state.best_progress_m[0] == pytest.approx(30.0)
    # Across the start line backwards: progress goes negative, no lap is counted either way.
    for _ in range(40):
        world.step(np.array([STRAIGHT]))
    assert world.state.progress_m[0] == pytest.approx(30.0 - 50 * step, abs=1e-6)
    assert world.state.progress_m[0] < 0 and int(world.state.laps[0]) == 0 and not world.state.lap_events
    stall_steps = round(config.episode.stall_seconds / config.physics.dt_s)
    while world.steps < stall_steps - 1:
        world.step(np.array([STRAIGHT]))
    assert world.state.driving[0]
    world.step(np.array([STRAIGHT]))
    assert world.state.stalled[0] and not world.state.driving[0] and not world.state.crashed[0]


def wide_stadium() -> object:
    """A 24 m wide stadium: 100 m straights and half circles of 40 m radius (room to drive circles)."""
    points = [[x, 0.0] for x in range(0, 101, 20)]
    points += [[100 + 40 * math.sin(a), 40 - 40 * math.cos(a)] for a in np.linspace(0, math.pi, 9)[1:-1]]
    points += [[x, 80.0] for x in range(100, -1, -20)]
    points += [[-40 * math.sin(a), 40 + 40 * math.cos(a)] for a in np.linspace(0, math.pi, 9)[1:-1]]
    return track_from_data({"name": "Stadium", "difficulty": 1, "width_m": 24, "centerline": points}, "stadium")


def test_driving_in_circles_earns_nothing(config):
    track = wide_stadium()
    # Turning faster than usual, so the circle from the centre line stays on the road.
    physics = config.replace("physics", turn_rate_deg_per_s=225.0).physics
    world = make_world(track, config, physics=physics)
    world.reset(0)
    radius = physics.min_turn_radius_m
    world.place(np.array([0]), np.array([20.0]))
    while world.state.driving[0]:
        world.step(np.array([STEER_LEFT]))
    state = world.state
    assert state.stalled[0] and not state.crashed[0]
    # The best it ever got is a quarter circle ahead; it stalls stall_seconds after that.
    assert state.best_progress_m[0] == pytest.approx(20.0 + radius, abs=0.2)
    quarter_circle_s = (math.pi / 2) / physics.turn_rate_rad_per_s
    assert world.time_s == pytest.approx(quarter_circle_s + config.episode.stall_seconds, abs=0.11)
    assert abs(state.progress_m[0] - 20.0) <= radius and int(state.laps[0]) == 0


@pytest.mark.parametrize("speed_factor", [1, 5, 20, 100])
def test_fast_cars_never_pass_through_walls(classic, config, speed_factor):
    physics = config.replace("physics", cruise_speed_mps=config.physics.cruise_speed_mps * speed_factor).physics
    count = 300
    world = make_world(classic, config, population=count, physics=physics)
    world.reset(0)
    rng = np.random.default_rng(speed_factor)
    # Positions are only ever set by the world itself (it caches each car's grid cell), headings may be turned.
    world.place(np.arange(count), rng.random(count) * classic.length_m)
    world.state.headings[:] = rng.uniform(-math.pi, math.pi, count)  # aimed at the walls from every angle
    centre_starts, centre_ends = classic.centerline, np.roll(classic.centerline, -1, axis=0)
    for _ in range(300):
        world.step(rng.integers(0, 3, count))
        positions = world.state.positions
        # Never inside a wall, never on the far side of one: still on the road, the disc clear of every wall.
        wall_gap = point_to_polyline(positions, classic.wall_starts, classic.wall_ends)
        assert np.all(wall_gap >= physics.collision_radius_m - 1e-6)
        assert np.all(point_to_polyline(positions, centre_starts, centre_ends) < classic.width_m / 2)
        if world.done:
            break
    # Driving at random, nearly every car ends against a wall (a few may stall first at cruise speed).
    assert world.done and world.state.crashed.sum() >= 0.95 * count


def test_head_on_crash_stops_at_the_contact_point(oval, config):
    physics = config.replace("physics", cruise_speed_mps=300.0).physics
    world = make_world(oval, config, population=1, physics=physics)
    world.reset(0)
    world.state.headings[0] = math.pi / 2  # straight at the left wall, 7 m away; one step moves 15 m
    world.step(np.array([STRAIGHT]))
    assert world.state.crashed[0] and not world.state.driving[0]
    assert world.state.positions[0] == pytest.approx([0.0, oval.width_m / 2 - physics.collision_radius_m], abs=1e-3)
    # A crashed car stays where it is.
    stopped = world.state.positions.copy()
    world.step(np.array([STEER_LEFT]))
    assert np.array_equal(world.state.positions, stopped)


def test_episode_ends_after_max_seconds(oval, config):
    world = make_world(oval, config, population=3, episode=EpisodeConfig(max_seconds=1.0, stall_seconds=3.0))
    world.reset(0)
    for _ in range(19):
        world.step(np.full(3, STRAIGHT))
    assert not world.done
    world.step(np.full(3, STRAIGHT))
    assert world.done and not world.state.crashed.any() and not world.state.stalled.any()


def run_random(track, config, seed: int, count: int, steps: int):
    world = make_world(track, config, population=count)
    world.reset(seed)
    rng = np.random.default_rng(seed)
    actions = []
    for _ in range(steps):
        chosen = np.where(rng.random(count) < 0.7, STRAIGHT, rng.integers(0, 3, count))
        actions.append(chosen)
        world.step(chosen)
    return world, actions


def test_same_seed_same_actions_identical_arrays(classic, config):
    first, _ = run_random(classic, config, 11, 50, 150)
    second, _ = run_random(classic, config, 11, 50, 150)
    for name in ("positions", "headings", "driving", "crashed", "stalled", "progress_m", "laps", "time_s"):
        assert np.array_equal(getattr(first.state, name), getattr(second.state, name)), name
    assert np.array_equal(first.observations, second.observations)
    # The runs did something worth comparing: cars crashed at many different places.
    assert first.state.crashed.any() and len(np.unique(first.state.progress_m)) > 40


def test_a_car_drives_the_same_alone_or_in_a_crowd(classic, config):
    crowd, actions = run_random(classic, config, 5, 30, 80)
    for car in (0, 17):
        alone = make_world(classic, config)
        alone.reset(5)
        for chosen in actions:
            alone.step(chosen[car : car + 1])
        assert np.array_equal(alone.state.positions[0], crowd.state.positions[car])
        assert alone.state.progress_m[0] == crowd.state.progress_m[car]
        assert np.array_equal(alone.observations[0], crowd.observations[car])


def test_fitness_is_the_weighted_sum_of_named_terms():
    terms = fitness_terms(np.array([120.0, 50.0]), np.array([1, 0]), np.array([False, True]), np.array([30.0, 4.0]))
    assert set(terms) == set(FITNESS_TERMS) == {"progress", "lap", "crash", "time"}
    weights = FitnessConfig(progress=1.0, lap=100.0, crash=-25.0, time=-0.5)
    assert total_fitness(terms, weights).tolist() == [120.0 + 100.0 - 15.0, 50.0 - 25.0 - 2.0]


def test_crossing_the_line_back_and_forth_counts_one_lap(oval, config):
    world = make_world(oval, config)
    world.reset(0)
    world.place(np.array([0]), np.array([oval.length_m - 1.0]))
    for heading_change, steps in ((0.0, 4), (math.pi, 8), (math.pi, 8)):
        world.state.headings[0] += heading_change
        for _ in range(steps):
            world.step(np.array([STRAIGHT]))
    step = config.physics.cruise_speed_mps * config.physics.dt_s
    assert world.state.progress_m[0] == pytest.approx(oval.length_m - 1.0 + 4 * step, abs=1e-6)
    assert int(world.state.laps[0]) == 1 and len(world.state.lap_events) == 1


def test_stopped_cars_keep_their_state_and_no_longer_move(oval, config) -> None:
    world = World(oval, config.physics, config.sensors, config.episode, 2)
    world.reset(0)
    for _ in range(10):
        world.step(np.ones(2, dtype=np.int64))
    world.stop(np.array([1]))
    progress, position = world.state.progress_m[1], world.state.positions[1].copy()
    for _ in range(10):
        world.step(np.ones(2, dtype=np.int64))
    assert world.state.driving.tolist() == [True, False]
    assert world.state.progress_m[1] == progress and np.array_equal(world.state.positions[1], position)
    assert world.state.progress_m[0] > progress
