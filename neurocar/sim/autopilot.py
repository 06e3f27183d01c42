"""The scripted driver: pure pursuit of a point ahead on the centre line, choosing among the three actions.

The autopilot uses what the network never sees, the track's centre line and the car's progress along it. For each
car it takes the point `lookahead_m` metres further along the centre line, tries each action for one step with the
car's own physics (`neurocar.sim.car.advance`), and keeps the one that leaves the car pointing most nearly at that
point; "straight" wins ties within `deadband_rad`, so the car does not weave on straights. It produces demonstration
data (`neurocar drive --autopilot`) and drives the tests.

| input       | shape  | meaning                                            |
|-------------|--------|----------------------------------------------------|
| positions   | (N, 2) | car centres [m]                                    |
| headings    | (N,)   | directions of travel [rad]                         |
| progress_m  | (N,)   | net progress along the centre line [m] (any lap)   |
| result      | (N,)   | actions: 0 steer left, 1 straight, 2 steer right   |
"""

from __future__ import annotations

import math

import numpy as np

from neurocar.config import PhysicsConfig
from neurocar.sim.car import STRAIGHT, advance
from neurocar.sim.track import Track

DEFAULT_LOOKAHEAD_M = 5.0
DEFAULT_DEADBAND_RAD = math.radians(2.0)


def _wrap(angles: np.ndarray) -> np.ndarray:
    return np.mod(angles + np.pi, 2 * np.pi) - np.pi


def autopilot_actions(
    track: Track,
    physics: PhysicsConfig,
    positions: np.ndarray,
    headings: np.ndarray,
    progress_m: np.ndarray,
    lookahead_m: float = DEFAULT_LOOKAHEAD_M,
    deadband_rad: float = DEFAULT_DEADBAND_RAD,
) -> np.ndarray:
    """The autopilot's action (N,) for each car (see the module docstring)."""
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    headings = np.asarray(headings, dtype=np.float64).reshape(-1)
    count = len(positions)
    target, _heading = track.pose_at(np.asarray(progress_m, dtype=np.float64).reshape(-1) + lookahead_m)
    # Try all three actions for every car at once: rows are cars, columns actions.
    tried_actions = np.tile(np.arange(3), count)
    new_positions, new_headings = advance(
        np.repeat(positions, 3, axis=0), np.repeat(headings, 3), tried_actions, physics
    )
    offset = np.repeat(target, 3, axis=0) - new_positions
    bearing = np.arctan2(offset[:, 1], offset[:, 0])
    error = np.abs(_wrap(bearing - new_headings)).reshape(count, 3)
    best = np.argmin(error, axis=1)
    straight_is_close = error[:, STRAIGHT] <= error[np.arange(count), best] + deadband_rad
    return np.where(straight_is_close, STRAIGHT, best).astype(np.int64)


class Autopilot:
    """The scripted driver for one track and car physics; `actions(world)` drives every car of a world."""

    def __init__(self, track: Track, physics: PhysicsConfig, lookahead_m: float = DEFAULT_LOOKAHEAD_M) -> None:
        self.track = track
        self.physics = physics
        self.lookahead_m = lookahead_m

    def actions(self, positions: np.ndarray, headings: np.ndarray, progress_m: np.ndarray) -> np.ndarray:
        """Actions (N,) for cars at these poses and progress values."""
        return autopilot_actions(self.track, self.physics, positions, headings, progress_m, self.lookahead_m)
