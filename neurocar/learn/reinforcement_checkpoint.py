"""Reinforcement-learning checkpoints: the whole run in one file, written atomically, resumable bit for bit.

A plain dictionary (`torch.load(path, weights_only=True)` reads it): format and version, the config, the seed, the
target laps, the run's total updates (0 for a window's run, which has none), the tracks (file names and full YAML
text) and `Reinforcement.state_dict()` (networks, optimizer, random generator, and the world with every car
mid-episode, as it was at the start of the update being collected).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from neurocar.config import config_from_dict, load_yaml
from neurocar.errors import NeuroCarError
from neurocar.learn.reinforcement import UNLIMITED_UPDATES, Reinforcement
from neurocar.learn.run_directory import CHECKPOINT_FILE
from neurocar.learn.torch_file import save_torch_file
from neurocar.paths import display_path
from neurocar.sim.track import track_from_data

CHECKPOINT_FORMAT = "neurocar-reinforcement-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(folder: Path, learner: Reinforcement) -> Path:
    """Write the run's checkpoint (of its last whole update) into `folder` atomically and return its path."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": learner.config.to_dict(),
        "config_source": learner.config.source,
        "seed": learner.seed,
        "target_laps": learner.target_laps,
        # A window run has no total: a resumed run then needs --updates.
        "updates": 0 if learner.updates == UNLIMITED_UPDATES else learner.updates,
        "tracks": [{"path": track.path, "text": track.source_text} for track in learner.tracks],
        "state": learner.state_dict(),
    }
    path = folder / CHECKPOINT_FILE
    save_torch_file(payload, path)
    return path


def load_checkpoint(folder: Path) -> Reinforcement:
    """Rebuild a run from its folder's checkpoint, its total updates included (at least 1)."""
    name = display_path(folder)
    if not folder.exists():
        raise NeuroCarError(f"--resume {name}: folder not found")
    if not folder.is_dir():
        raise NeuroCarError(f"--resume {name}: is a file; give the run folder (it holds {CHECKPOINT_FILE})")
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        raise NeuroCarError(f"--resume {name}: not a training run (no {CHECKPOINT_FILE} inside)")
    try:
        payload: Any = torch.load(path, weights_only=True, map_location="cpu")
    except Exception:  # any failure to unpickle means a damaged file
        raise NeuroCarError(f"{display_path(path)}: checkpoint is damaged and cannot be read") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        hint = " (an evolution run: resume it with neurocar train evolve --resume)" if _is_evolution(payload) else ""
        raise NeuroCarError(f"{display_path(path)}: not a NeuroCar reinforcement-learning checkpoint{hint}")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise NeuroCarError(f"{display_path(path)}: checkpoint version {payload.get('version')!r} is not supported")
    try:
        config = config_from_dict(payload["config"], str(payload["config_source"]))
        tracks = [
            dataclasses.replace(
                track_from_data(
                    load_yaml(str(track["text"])),
                    str(track["path"]),
                    config.physics.min_turn_radius_m,
                    config.physics.collision_radius_m,
                    config.physics.car_width_m,
                ),
                source_text=str(track["text"]),
            )
            for track in payload["tracks"]
        ]
        learner = Reinforcement(
            config, tracks, int(payload["seed"]), payload["target_laps"], updates=max(int(payload["updates"]), 1)
        )
        learner.load_state_dict(payload["state"])
    except NeuroCarError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise NeuroCarError(f"{display_path(path)}: checkpoint is incomplete ({error})") from None
    return learner


def _is_evolution(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("format") == "neurocar-evolution-checkpoint"
