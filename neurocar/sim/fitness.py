"""Fitness as a weighted sum of named terms, each kept for logging.

| term     | value per car                                   | default weight |
|----------|-------------------------------------------------|----------------|
| progress | net metres along the centre line                | 1.0            |
| lap      | laps completed                                  | 100            |
| crash    | 1 if the car hit a wall, else 0                 | -25            |
| time     | seconds the car drove                           | 0              |
"""

from __future__ import annotations

import numpy as np

from neurocar.config import FitnessConfig

FITNESS_TERMS = ("progress", "lap", "crash", "time")


def fitness_terms(
    progress_m: np.ndarray, laps: np.ndarray, crashed: np.ndarray, time_s: np.ndarray
) -> dict[str, np.ndarray]:
    """The unweighted terms, one array (N,) each."""
    return {
        "progress": np.asarray(progress_m, dtype=np.float64),
        "lap": np.asarray(laps, dtype=np.float64),
        "crash": np.asarray(crashed, dtype=np.float64),
        "time": np.asarray(time_s, dtype=np.float64),
    }


def total_fitness(terms: dict[str, np.ndarray], weights: FitnessConfig) -> np.ndarray:
    """Sum of weight * term over the named terms."""
    return sum(getattr(weights, name) * terms[name] for name in FITNESS_TERMS)
