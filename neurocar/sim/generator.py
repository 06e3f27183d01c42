"""Random tracks: a closed, valid circuit from a seed and a difficulty, the same track for the same seed.

The centre line is a loop around the origin whose radius varies with a few random harmonics,
r(theta) = R (1 + sum_k a_k cos(k theta + phi_k)), stretched along one axis (long straights into tighter ends),
rotated, and driven either way round. Higher difficulties use more and stronger harmonics (more, tighter curves
and quick direction changes) and a narrower road. A candidate is kept only if the track loader accepts it for the
given car (the car can take every curve at cruise speed) and its tightest curve falls in the difficulty's band;
otherwise the next candidate of the same seed is tried, so the result depends on nothing but the seed, the
difficulty and the physics.

| difficulty | road width [m] | tightest curve radius [m] |
|------------|----------------|---------------------------|
| 1          | 17 to 19       | 30 or more                |
| 2          | 14 to 16       | 18 to 40                  |
| 3          | 12 to 14       | 12 to 22                  |
| 4          | 10 to 12       | 9 to 15                   |
| 5          | 8.5 to 10.5    | under 11                  |
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocar.config import PhysicsConfig
from neurocar.errors import NeuroCarError
from neurocar.sim.track import CAR_CLEARANCE_M, Track, track_from_data, track_text

CONTROL_POINTS = 36
MAX_ATTEMPTS = 60
MIN_DIFFICULTY = 1
MAX_DIFFICULTY = 5


@dataclass(frozen=True)
class DifficultyLevel:
    """How a difficulty shapes a generated track (see the module docstring)."""

    width_m: float
    amplitude: float
    harmonics: int
    min_radius_m: float
    max_radius_m: float


LEVELS = {
    1: DifficultyLevel(width_m=18.0, amplitude=0.12, harmonics=3, min_radius_m=30.0, max_radius_m=math.inf),
    2: DifficultyLevel(width_m=15.0, amplitude=0.22, harmonics=4, min_radius_m=18.0, max_radius_m=40.0),
    3: DifficultyLevel(width_m=13.0, amplitude=0.32, harmonics=5, min_radius_m=12.0, max_radius_m=22.0),
    4: DifficultyLevel(width_m=11.0, amplitude=0.42, harmonics=6, min_radius_m=9.0, max_radius_m=15.0),
    5: DifficultyLevel(width_m=9.5, amplitude=0.52, harmonics=7, min_radius_m=0.0, max_radius_m=11.0),
}
WIDTH_SPREAD_M = 1.0


def check_difficulty(difficulty: int, option: str = "--difficulty") -> None:
    """Reject a difficulty outside 1-5 with one line naming the `option` it came from."""
    if not MIN_DIFFICULTY <= difficulty <= MAX_DIFFICULTY:
        raise NeuroCarError(f"{option} {difficulty}: must be from {MIN_DIFFICULTY} to {MAX_DIFFICULTY}")


def check_car_fits(difficulty: int, physics: PhysicsConfig) -> None:
    """Fail at once, with the reason, when no track of this difficulty can suit the car."""
    level = LEVELS[difficulty]
    widest = level.width_m + WIDTH_SPREAD_M
    needs = max(2 * physics.collision_radius_m, physics.car_width_m) + CAR_CLEARANCE_M
    if needs > widest:
        raise NeuroCarError(
            f"cannot generate a difficulty-{difficulty} track for this car: its roads are at most {widest:g} m "
            f"wide and the car needs {needs:g} m; choose a lower difficulty or a smaller car"
        )
    # The loader lets the car use the outside of a curve: it needs radius + width/2 - collision >= turn radius.
    tightest_possible = physics.min_turn_radius_m - widest / 2 + physics.collision_radius_m
    if tightest_possible >= level.max_radius_m:
        raise NeuroCarError(
            f"cannot generate a difficulty-{difficulty} track for this car: its tightest curves are under "
            f"{level.max_radius_m:g} m and the car turns no tighter than {physics.min_turn_radius_m:.1f} m; choose a "
            "lower difficulty, a lower physics.cruise_speed_mps or a higher physics.turn_rate_deg_per_s"
        )


def _candidate(seed: int, difficulty: int, attempt: int) -> dict[str, Any]:
    """One random closed track in the YAML format (not yet validated)."""
    level = LEVELS[difficulty]
    random = np.random.default_rng([seed, difficulty, attempt])
    radius = random.uniform(75.0, 110.0)
    angles = 2 * np.pi * np.arange(CONTROL_POINTS) / CONTROL_POINTS
    orders = np.arange(2, level.harmonics + 1)
    amplitudes = random.uniform(0.3, 1.0, len(orders)) / np.sqrt(orders)
    amplitudes *= level.amplitude / amplitudes.sum() * random.uniform(0.8, 1.2)
    phases = random.uniform(0.0, 2 * np.pi, len(orders))
    radii = radius * (1 + (amplitudes[:, None] * np.cos(orders[:, None] * angles + phases[:, None])).sum(axis=0))
    stretch = random.uniform(1.0, 1.5)
    points = np.stack([radii * np.cos(angles) * stretch, radii * np.sin(angles)], axis=1)
    rotation = random.uniform(0.0, 2 * np.pi)
    cosine, sine = math.cos(rotation), math.sin(rotation)
    points = points @ np.array([[cosine, sine], [-sine, cosine]])
    if random.random() < 0.5:
        points = points[::-1]
    width = level.width_m + random.uniform(-WIDTH_SPREAD_M, WIDTH_SPREAD_M)
    return {
        "name": f"Generated {difficulty}-{seed}",
        "description": f"A random difficulty-{difficulty} circuit (neurocar tracks generate --seed {seed} "
        f"--difficulty {difficulty}).",
        "difficulty": difficulty,
        "width_m": round(float(width), 1),
        "centerline": [[round(float(x), 1), round(float(y), 1)] for x, y in points],
        "start_index": 0,
    }


def generated_track_name(seed: int, difficulty: int) -> str:
    """How a generated track that has no file is named in logs and model files."""
    return f"generated (seed {seed}, difficulty {difficulty})"


def generate_track(seed: int, difficulty: int, physics: PhysicsConfig) -> tuple[Track, str]:
    """A random valid track of `difficulty` (1-5) for a car with `physics`, and its YAML text.

    The same seed, difficulty and physics give the same track. Raises `NeuroCarError` with the reason when no such
    track can suit the car.
    """
    check_difficulty(difficulty)
    check_car_fits(difficulty, physics)
    level = LEVELS[difficulty]
    name = generated_track_name(seed, difficulty)
    last_problem = ""
    for attempt in range(MAX_ATTEMPTS):
        data = _candidate(seed, difficulty, attempt)
        try:
            track = track_from_data(
                data, name, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m
            )
        except NeuroCarError as error:
            last_problem = str(error).removeprefix(f"{name}: ")
            continue
        if level.min_radius_m <= track.min_radius_m < level.max_radius_m:
            text = track_text(data)
            return dataclasses.replace(track, source_text=text), text
        last_problem = f"its tightest curve ({track.min_radius_m:.1f} m) did not suit difficulty {difficulty}"
    raise NeuroCarError(
        f"cannot generate a difficulty-{difficulty} track for this car in {MAX_ATTEMPTS} tries "
        f"(last problem: {last_problem}); choose a lower difficulty or change the car's physics"
    )
