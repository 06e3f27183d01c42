"""Gymnasium environments for NeuroCar (the optional extra `neurocar[gym]`).

`NeuroCarEnv` is one car on a track; `NeuroCarVectorEnv` is many cars in one batched world, in Gymnasium's vector
API. Importing this package registers the ids `NeuroCar-v0` (with the batched world as its vector entry point, so
`gymnasium.make_vec` uses it) and `NeuroCarVector-v0`, so either of these works:

    gymnasium.make("neurocar.envs:NeuroCar-v0", track="hairpins")
    gymnasium.make_vec("neurocar.envs:NeuroCar-v0", num_envs=16, track="hairpins")

Gymnasium itself is imported only here and only when this package is imported: nothing else in NeuroCar needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neurocar.envs.requirement import require_gymnasium

require_gymnasium()

from neurocar.envs.registration import ENVIRONMENT_ID, VECTOR_ENVIRONMENT_ID, register_environments  # noqa: E402

register_environments()

if TYPE_CHECKING:
    from neurocar.envs.car_env import NeuroCarEnv
    from neurocar.envs.vector_env import NeuroCarVectorEnv

__all__ = ["ENVIRONMENT_ID", "VECTOR_ENVIRONMENT_ID", "NeuroCarEnv", "NeuroCarVectorEnv"]


def __getattr__(name: str) -> Any:
    """The environment classes, imported when first asked for."""
    if name == "NeuroCarEnv":
        from neurocar.envs.car_env import NeuroCarEnv

        return NeuroCarEnv
    if name == "NeuroCarVectorEnv":
        from neurocar.envs.vector_env import NeuroCarVectorEnv

        return NeuroCarVectorEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
