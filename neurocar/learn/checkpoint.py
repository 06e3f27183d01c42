"""Evolution checkpoints: the whole run state in one file, written atomically, resumable bit for bit.

The file is a plain dictionary (`torch.load(path, weights_only=True)` reads it): format and version, the NeuroCar
release that wrote it (`neurocar_version`; older checkpoints lack it), the config, the seed, the target laps, the
run's total generations, the tracks (their file names and full YAML text, so a resumed run drives exactly the same
tracks), the generated-tracks settings (generated tracks are rebuilt from the seed), and the
`Neuroevolution.state_dict()`.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from neurocar import __version__
from neurocar.config import config_from_dict, load_config
from neurocar.errors import NeuroCarError
from neurocar.learn.genetic import GENERATOR, MAX_MUTATION_SCALE
from neurocar.learn.model_file import MAX_MODEL_FILE_BYTES, load_payload
from neurocar.learn.neuroevolution import LOG_COLUMNS, UNLIMITED_GENERATIONS, Neuroevolution, RandomTracks
from neurocar.learn.run_directory import CHECKPOINT_FILE
from neurocar.learn.torch_file import save_torch_file
from neurocar.paths import display_path
from neurocar.schema import (
    AnyValue,
    Boolean,
    Choice,
    Fields,
    ListOf,
    Number,
    Optional,
    Rule,
    SchemaError,
    Text,
    Whole,
    excerpt,
    parse_yaml,
    read_file_bytes,
)
from neurocar.sim.generator import MAX_DIFFICULTY
from neurocar.sim.track import MAX_TRACK_FILE_BYTES, track_from_data

CHECKPOINT_FORMAT = "neurocar-evolution-checkpoint"
CHECKPOINT_VERSION = 2
# Version 1 kept torch's random generator, which runs no longer use: such a run cannot continue exactly.
TORCH_GENERATOR_VERSION = 1
MAX_SEED = 2**63 - 1
MAX_GENERATIONS = 1_000_000
# Config sections that came after the first checkpoints were written; older checkpoints lack them.
LATER_SECTIONS = ("reinforcement",)


class Tensor(Rule):
    """A dense tensor of finite real numbers (its shape is checked against the config afterwards)."""

    description = "a tensor of finite numbers"

    def check(self, value: Any, key: str) -> Any:
        """The tensor (files are read with torch, so it is one)."""
        import torch

        if not isinstance(value, torch.Tensor) or value.layout != torch.strided or not value.is_floating_point():
            raise self.expected(type(value).__name__ if not isinstance(value, torch.Tensor) else value.dtype, key)
        if not bool(torch.isfinite(value).all()):
            raise SchemaError(key, "contains NaN or infinity")
        return value


class Digits(Rule):
    """A 128-bit whole number written as decimal text (a random generator's state)."""

    description = "a 128-bit number as decimal text"

    def check(self, value: Any, key: str) -> str:
        """The text."""
        if not isinstance(value, str) or not 0 < len(value) <= 39 or not (value.isascii() and value.isdigit()):
            raise self.expected(value, key)
        if int(value) >= 2**128:
            raise self.expected(value, key)
        return value


class BestFitness(Rule):
    """The best fitness so far: a finite number, or -inf before the first generation."""

    description = "a finite number or -inf"

    def check(self, value: Any, key: str) -> float:
        """The fitness as a float."""
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (abs(value) > 1e300 and value != -math.inf)
        ):
            raise self.expected(value, key)
        if math.isnan(value):
            raise self.expected(value, key)
        return float(value)


class LogRow(Rule):
    """One row of the run's log: the log's column names, each value a number or text that reads as one."""

    description = "a mapping of column names to numbers"

    def check(self, value: Any, key: str) -> dict[str, Any]:
        """The row."""
        if not isinstance(value, dict) or len(value) > 100:
            raise self.expected(value, key)
        for name, cell in value.items():
            if name not in LOG_COLUMNS:
                raise SchemaError(key, f"column {excerpt(name)} is not a column of the log ({', '.join(LOG_COLUMNS)})")
            try:
                ok = not isinstance(cell, bool) and isinstance(cell, (int, float, str)) and len(str(cell)) < 100
                ok = ok and isinstance(float(cell), float)
            except (ValueError, OverflowError):
                ok = False
            if not ok:
                raise SchemaError(f"{key}.{excerpt(name)}", f"expected a number, got {excerpt(cell)}")
        return value


# The checkpoint file: every field declared, checked before a resume writes anything.
CHECKPOINT = Fields(
    {
        "format": AnyValue(),
        "version": AnyValue(),
        "config": AnyValue(),  # checked by the config's own declaration
        "config_source": Text(4096),
        "seed": Whole(0, MAX_SEED),
        "target_laps": Optional(Whole(1, 1_000_000)),
        "generations": Optional(Whole(0, MAX_GENERATIONS)),  # None (or 0): no total was asked for (a window run)
        "random_tracks": Fields(
            {"count": Whole(0, 1000), "max_difficulty": Whole(1, MAX_DIFFICULTY), "fixed": Boolean()}
        ),
        "tracks": ListOf(Fields({"path": Text(4096), "text": Text(MAX_TRACK_FILE_BYTES)}), max_items=10_000),
        "state": Fields(
            {
                "generation": Whole(0, MAX_GENERATIONS),
                "population": Tensor(),
                "generator_state": Fields(
                    {
                        "bit_generator": Choice((GENERATOR,)),
                        "state": Digits(),
                        "inc": Digits(),
                        "has_uint32": Whole(0, 1),
                        "uinteger": Whole(0, 2**32 - 1),
                    }
                ),
                "best_vector": Optional(Tensor()),
                "best_fitness": BestFitness(),
                "best_row": LogRow(),
                "best_generation": Whole(0, MAX_GENERATIONS),
                "mutation_scale": Number(0.0, MAX_MUTATION_SCALE),
                "stagnant_generations": Whole(0, MAX_GENERATIONS),
                "history": ListOf(LogRow(), max_items=MAX_GENERATIONS),
                "held_out_vector": Optional(Tensor()),
                "held_out_generations": Whole(0, MAX_GENERATIONS),
            },
            optional={"best_generation": 0, "held_out_vector": None, "held_out_generations": 0},
        ),
    },
    optional={"random_tracks": RandomTracks().to_dict(), "target_laps": None, "generations": None},
    strict=False,  # newer files may carry more information (the version that wrote them)
)


def save_checkpoint(folder: Path, evolution: Neuroevolution) -> Path:
    """Write the run's checkpoint into `folder` atomically and return its path."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "neurocar_version": __version__,
        "config": evolution.config.to_dict(),
        "config_source": evolution.config.source,
        "seed": evolution.seed,
        "target_laps": evolution.target_laps,
        # A window run has no total: a resumed run then takes the config's.
        "generations": None if evolution.generations == UNLIMITED_GENERATIONS else evolution.generations,
        "random_tracks": evolution.random_tracks.to_dict(),
        "tracks": [
            {"path": track.path, "text": text}
            for track, text in zip(evolution.tracks, evolution.track_texts, strict=True)
        ],
        "state": evolution.state_dict(),
    }
    path = folder / CHECKPOINT_FILE
    save_torch_file(payload, path)
    return path


def load_checkpoint(folder: Path) -> Neuroevolution:
    """Rebuild a run from its folder's checkpoint, with its tracks' texts and its total generations."""
    name = display_path(folder)
    if not folder.exists():
        raise NeuroCarError(f"--resume {name}: folder not found")
    if not folder.is_dir():
        raise NeuroCarError(f"--resume {name}: is a file; give the run folder (it holds {CHECKPOINT_FILE})")
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        raise NeuroCarError(f"--resume {name}: not a training run (no {CHECKPOINT_FILE} inside)")
    file_name = display_path(path)
    data = read_file_bytes(path, file_name, "checkpoint", MAX_MODEL_FILE_BYTES)
    try:
        payload: Any = load_payload(data)
    except Exception:  # any failure to unpickle means a damaged file
        raise NeuroCarError(f"{file_name}: checkpoint is damaged and cannot be read") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise NeuroCarError(f"{file_name}: not a NeuroCar evolution checkpoint")
    if payload.get("version") == TORCH_GENERATOR_VERSION:
        raise NeuroCarError(
            f"{file_name}: checkpoint from an older NeuroCar, whose random generator this one no longer has, so the "
            "run cannot continue exactly; start a new run (its best.pt still loads, e.g. with --init)"
        )
    if payload.get("version") != CHECKPOINT_VERSION:
        raise NeuroCarError(f"{file_name}: checkpoint version {excerpt(payload.get('version'))} is not supported")
    try:
        fields = CHECKPOINT.check(payload, "")
    except SchemaError as error:
        raise NeuroCarError(f"{file_name}: {error}") from None
    state = fields["state"]
    stored_config = fields["config"]
    if isinstance(stored_config, dict):
        # A run saved before a section existed resumes with that section's defaults (it never used them).
        defaults = load_config().to_dict()
        stored_config = {**{section: defaults[section] for section in LATER_SECTIONS}, **stored_config}
    config = config_from_dict(stored_config, f"{file_name}: config (from {excerpt(fields['config_source'])})")
    texts = [track["text"] for track in fields["tracks"]]
    tracks = []
    for index, (text, track) in enumerate(zip(texts, fields["tracks"], strict=True)):
        where = f"{file_name}: tracks[{index}] ({excerpt(track['path'])})"
        loaded = track_from_data(
            parse_yaml(text, where),
            where,
            config.physics.min_turn_radius_m,
            config.physics.collision_radius_m,
            config.physics.car_width_m,
        )
        tracks.append(dataclasses.replace(loaded, path=track["path"], source_text=text))
    random_tracks = RandomTracks(**fields["random_tracks"])
    if not tracks and not random_tracks.count:
        raise NeuroCarError(f"{file_name}: checkpoint has no tracks")
    evolution = Neuroevolution(
        config,
        tracks,
        fields["seed"],
        fields["target_laps"],
        random_tracks,
        generations=fields["generations"] or config.evolution.generations,
        track_texts=texts,
    )
    parameters = evolution.policy.parameter_count
    if tuple(state["population"].shape) != (config.evolution.population, parameters):
        raise NeuroCarError(f"{file_name}: checkpoint population does not fit its config")
    for vector in ("best_vector", "held_out_vector"):
        if state[vector] is not None and tuple(state[vector].shape) != (parameters,):
            raise NeuroCarError(f"{file_name}: checkpoint best weights do not fit its config")
    try:
        evolution.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise NeuroCarError(f"{file_name}: checkpoint is incomplete ({excerpt(str(error))})") from None
    return evolution
