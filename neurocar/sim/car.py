"""Car physics: a kinematic car at constant cruise speed, steered by discrete actions, advanced by a fixed dt.

| action | meaning     | turn rate                |
|--------|-------------|--------------------------|
| 0      | steer left  | +turn rate (anticlockwise) |
| 1      | straight    | 0                        |
| 2      | steer right | -turn rate (clockwise)   |

Positions move along the exact circular arc for the step, so the result does not depend on how the arc is sliced
beyond the choice of dt.
"""

from __future__ import annotations

import numpy as np

from neurocar.config import PhysicsConfig

ACTION_NAMES = ("left", "straight", "right")
STEER_LEFT, STRAIGHT, STEER_RIGHT = 0, 1, 2
_TURN_DIRECTION = np.array([1.0, 0.0, -1.0])


def advance(
    positions: np.ndarray, headings: np.ndarray, actions: np.ndarray, physics: PhysicsConfig
) -> tuple[np.ndarray, np.ndarray]:
    """New positions (N, 2) [m] and headings (N,) [rad] after one step of `physics.dt_s` seconds."""
    speed = physics.cruise_speed_mps
    dt = physics.dt_s
    turn_rate = _TURN_DIRECTION[actions] * physics.turn_rate_rad_per_s
    new_headings = headings + turn_rate * dt
    turning = turn_rate != 0.0
    safe_rate = np.where(turning, turn_rate, 1.0)
    arc_x = np.where(
        turning, speed / safe_rate * (np.sin(new_headings) - np.sin(headings)), speed * dt * np.cos(headings)
    )
    arc_y = np.where(
        turning, -speed / safe_rate * (np.cos(new_headings) - np.cos(headings)), speed * dt * np.sin(headings)
    )
    new_positions = positions + np.stack([arc_x, arc_y], axis=1)
    return new_positions, np.mod(new_headings + np.pi, 2 * np.pi) - np.pi
