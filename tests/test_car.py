"""Car physics against hand-computed values: straight lines, exact circular arcs, full circles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurocar.sim.car import ACTION_NAMES, STEER_LEFT, STEER_RIGHT, STRAIGHT, advance


def drive(physics, action: int, steps: int, position=(0.0, 0.0), heading=0.0):
    positions = np.array([position], dtype=np.float64)
    headings = np.array([heading])
    for _ in range(steps):
        positions, headings = advance(positions, headings, np.array([action]), physics)
    return positions[0], float(headings[0])


def test_action_meanings():
    assert ACTION_NAMES == ("left", "straight", "right")
    assert (STEER_LEFT, STRAIGHT, STEER_RIGHT) == (0, 1, 2)


def test_default_car_is_car_sized(config):
    physics = config.physics
    assert 4.0 <= physics.car_length_m <= 5.0 and 1.7 <= physics.car_width_m <= 2.2
    assert 10.0 <= physics.cruise_speed_mps <= 20.0
    assert physics.min_turn_radius_m < 10.0


def test_straight_moves_speed_times_dt(config):
    physics = config.physics
    heading = math.radians(30.0)
    position, new_heading = drive(physics, STRAIGHT, 1, (2.0, -1.0), heading)
    step = physics.cruise_speed_mps * physics.dt_s
    assert position == pytest.approx([2.0 + step * math.cos(heading), -1.0 + step * math.sin(heading)], rel=1e-12)
    assert new_heading == pytest.approx(heading, abs=1e-15)
    position, _ = drive(physics, STRAIGHT, 40)
    assert position == pytest.approx([40 * step, 0.0], abs=1e-9)


def test_one_step_of_steering_follows_the_exact_arc(config):
    physics = config.physics
    rate = math.radians(physics.turn_rate_deg_per_s)
    radius = physics.cruise_speed_mps / rate
    turned = rate * physics.dt_s
    position, heading = drive(physics, STEER_LEFT, 1)
    # Anticlockwise on a circle of the turning radius centred at (0, radius).
    assert heading == pytest.approx(turned, rel=1e-12)
    assert position == pytest.approx([radius * math.sin(turned), radius * (1 - math.cos(turned))], rel=1e-12)
    position, heading = drive(physics, STEER_RIGHT, 1)
    assert heading == pytest.approx(-turned, rel=1e-12)
    assert position == pytest.approx([radius * math.sin(turned), -radius * (1 - math.cos(turned))], rel=1e-12)


def test_quarter_and_full_circle(config):
    physics = config.physics
    rate = math.radians(physics.turn_rate_deg_per_s)
    radius = physics.cruise_speed_mps / rate
    quarter_steps = round((math.pi / 2) / rate / physics.dt_s)
    assert quarter_steps * physics.dt_s == pytest.approx((math.pi / 2) / rate)  # 0.75 s at 120 deg/s and dt 0.05
    position, heading = drive(physics, STEER_LEFT, quarter_steps)
    assert position == pytest.approx([radius, radius], rel=1e-9)
    assert heading == pytest.approx(math.pi / 2, rel=1e-9)
    # A full circle after 2 pi / turn rate seconds comes back to the start, facing the same way.
    position, heading = drive(physics, STEER_RIGHT, 4 * quarter_steps, (5.0, 7.0), 1.0)
    assert position == pytest.approx([5.0, 7.0], abs=1e-9)
    assert math.cos(heading - 1.0) == pytest.approx(1.0, abs=1e-12)


def test_headings_stay_wrapped(config):
    _, heading = drive(config.physics, STEER_LEFT, 1000)
    assert -math.pi <= heading < math.pi


def test_many_cars_move_independently(config):
    physics = config.physics
    rng = np.random.default_rng(3)
    positions = rng.uniform(-50, 50, (200, 2))
    headings = rng.uniform(-math.pi, math.pi, 200)
    actions = rng.integers(0, 3, 200)
    batch_positions, batch_headings = advance(positions, headings, actions, physics)
    for car in range(0, 200, 37):
        one_position, one_heading = advance(
            positions[car : car + 1], headings[car : car + 1], actions[car : car + 1], physics
        )
        assert np.array_equal(one_position[0], batch_positions[car])
        assert one_heading[0] == batch_headings[car]
