"""A head start for headless commands that need torch: import it on a second thread while this one loads the
compiled simulation.

Importing torch takes a second or two and the compiled kernels take a few tenths to load from their cache, and
neither needs the other. `begin_import` starts importing torch (and then the command's own modules that need it)
on a background thread; `load_compiled_code` then drives a throwaway one-car world for one step and runs the
compiled policy forward once, so every kernel a drive uses is loaded (or, on a fresh install, compiled) while
torch is still importing. Nothing here touches the command's own data: results are the same with or without the
head start. (Two threads importing at once is safe: each module is imported once, behind its own lock, and the
package has no import cycles.)
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

TORCH_MODULES = ("torch", "torch.nn")


def _import_quietly(names: tuple[str, ...]) -> None:
    """Import modules, ignoring failures: the command's own import then reports them the usual way."""
    import importlib

    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def begin_import(modules: tuple[str, ...] = ()) -> threading.Thread:
    """Start importing torch, then `modules`, on a daemon thread (a later import of any of them waits for it)."""
    names = TORCH_MODULES + tuple(modules)
    thread = threading.Thread(target=_import_quietly, args=(names,), name="import torch", daemon=True)
    thread.start()
    return thread


def load_compiled_code() -> None:
    """Load every compiled kernel a drive uses: one step of a one-car world on the shipped oval and one compiled
    policy forward, with the default settings."""
    from neurocar.config import load_config
    from neurocar.learn.policy_kernel import SIGMOID, population_actions
    from neurocar.paths import TRACKS_DIR
    from neurocar.sim.track import load_track
    from neurocar.sim.world import World

    config = load_config()
    physics = config.physics
    track = load_track(TRACKS_DIR / "oval.yaml", physics.min_turn_radius_m, physics.collision_radius_m)
    world = World(track, physics, config.sensors, config.episode, population=1, target_laps=1)
    observations = world.reset()
    world.step(np.ones(1, dtype=np.int64))
    layers = np.array([[observations.shape[1], 1, 0, observations.shape[1]]], dtype=np.int64)
    parameters = np.zeros((1, observations.shape[1] + 1), dtype=np.float32)
    buffer = np.zeros(max(observations.shape[1], 1), dtype=np.float32)
    population_actions(observations, parameters, layers, SIGMOID, np.zeros(1, dtype=np.int64), buffer, buffer.copy())


def head_start(modules: tuple[str, ...] = ()) -> None:
    """Begin importing torch and then `modules`, and load the compiled code while they import."""
    begin_import(modules)
    load_compiled_code()
