"""Registers NeuroCar's environment ids with Gymnasium."""

from __future__ import annotations

import gymnasium

ENVIRONMENT_ID = "NeuroCar-v0"
VECTOR_ENVIRONMENT_ID = "NeuroCarVector-v0"


def register_environments() -> None:
    """Register `NeuroCar-v0` (one car; `make_vec` builds the batched world) and `NeuroCarVector-v0` (the batched
    world as the single entry point). Registering twice is harmless."""
    registry = gymnasium.envs.registration.registry
    if ENVIRONMENT_ID not in registry:
        gymnasium.register(
            id=ENVIRONMENT_ID,
            entry_point="neurocar.envs.car_env:NeuroCarEnv",
            vector_entry_point="neurocar.envs.vector_env:NeuroCarVectorEnv",
        )
    if VECTOR_ENVIRONMENT_ID not in registry:
        gymnasium.register(id=VECTOR_ENVIRONMENT_ID, vector_entry_point="neurocar.envs.vector_env:NeuroCarVectorEnv")
