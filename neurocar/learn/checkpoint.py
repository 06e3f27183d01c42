"""Evolution checkpoints: the whole run state in one file, written atomically, resumable bit for bit.

The file is a plain dictionary (`torch.load(path, weights_only=True)` reads it): format and version, the NeuroCar
release that wrote it (`neurocar_version`; older checkpoints lack it), the config,
the seed, the target laps, the tracks (their file names and full YAML text, so a resumed run drives exactly the
same tracks), the generated-tracks settings (generated tracks are rebuilt from the seed), and the
`Neuroevolution.state_dict()`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from neurocar import __version__
from neurocar.config import config_from_dict, load_yaml
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import atomic_torch_save
from neurocar.learn.neuroevolution import Neuroevolution, RandomTracks
from neurocar.learn.run_directory import CHECKPOINT_FILE
from neurocar.paths import display_path
from neurocar.sim.track import track_from_data

CHECKPOINT_FORMAT = "neurocar-evolution-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(folder: Path, evolution: Neuroevolution, track_texts: list[str], generations: int) -> Path:
    """Write the run's checkpoint into `folder` atomically and return its path; `generations` is the run's total."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "neurocar_version": __version__,
        "config": evolution.config.to_dict(),
        "config_source": evolution.config.source,
        "seed": evolution.seed,
        "target_laps": evolution.target_laps,
        "generations": generations,
        "random_tracks": evolution.random_tracks.to_dict(),
        "tracks": [
            {"path": track.path, "text": text} for track, text in zip(evolution.tracks, track_texts, strict=True)
        ],
        "state": evolution.state_dict(),
    }
    path = folder / CHECKPOINT_FILE
    atomic_torch_save(payload, path)
    return path


def load_checkpoint(folder: Path) -> tuple[Neuroevolution, list[str], int]:
    """Rebuild a run from its folder's checkpoint; returns the run, its tracks' YAML texts and its total
    generations (as asked for when it started)."""
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
        raise NeuroCarError(f"{display_path(path)}: not a NeuroCar evolution checkpoint")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise NeuroCarError(f"{display_path(path)}: checkpoint version {payload.get('version')!r} is not supported")
    try:
        config = config_from_dict(payload["config"], str(payload["config_source"]))
        texts = [str(track["text"]) for track in payload["tracks"]]
        tracks = [
            dataclasses.replace(
                track_from_data(
                    load_yaml(text),
                    str(track["path"]),
                    config.physics.min_turn_radius_m,
                    config.physics.collision_radius_m,
                    config.physics.car_width_m,
                ),
                source_text=text,
            )
            for text, track in zip(texts, payload["tracks"], strict=True)
        ]
        random_tracks = RandomTracks(**payload.get("random_tracks", {}))
        evolution = Neuroevolution(config, tracks, int(payload["seed"]), payload["target_laps"], random_tracks)
        evolution.load_state_dict(payload["state"])
    except NeuroCarError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise NeuroCarError(f"{display_path(path)}: checkpoint is incomplete ({error})") from None
    if evolution.population.shape != (config.evolution.population, evolution.policy.parameter_count):
        raise NeuroCarError(f"{display_path(path)}: checkpoint population does not fit its config")
    generations = payload.get("generations")
    if not isinstance(generations, int) or generations < 1:
        generations = evolution.config.evolution.generations
    return evolution, texts, generations
