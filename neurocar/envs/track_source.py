"""Where an environment's tracks come from: a file, a shipped name, a folder, or freshly generated ones.

| `track` option          | tracks                                                                   |
|-------------------------|--------------------------------------------------------------------------|
| None                    | the config's default track                                               |
| a file or shipped name  | that track                                                               |
| a folder                | every `*.yaml` inside; a reset draws one of them                         |
| "generated"             | a new generated track of `difficulty` for every reset                    |
| a `Track` or a list     | those tracks                                                             |
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurocar.config import Config, load_config
from neurocar.errors import NeuroCarError
from neurocar.paths import resolve_track_path, track_files_in
from neurocar.sim.generator import check_car_fits, check_difficulty, generate_track
from neurocar.sim.track import Track, load_track

GENERATED = "generated"
MAX_GENERATED_SEED = 2**63 - 1

TrackOption = str | Path | Track | Sequence[str | Path | Track] | None


def config_option(config: Config | str | Path | None) -> Config:
    """The config an environment runs with: a `Config`, a YAML file, or (None) the default config."""
    if isinstance(config, Config):
        return config
    return load_config(config)


def _load(name: str | Path, config: Config) -> list[Track]:
    path = resolve_track_path(name)
    files = track_files_in(path) if path.is_dir() else [path]
    if not files:
        raise NeuroCarError(f"track {name}: the folder holds no track files (*.yaml)")
    physics = config.physics
    return [
        load_track(file, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m) for file in files
    ]


class TrackSource:
    """The tracks an environment drives; `generated` sources make a new track from the random generator instead."""

    def __init__(self, track: TrackOption, config: Config, difficulty: int = 3) -> None:
        self.generated = isinstance(track, str) and track == GENERATED
        self.difficulty = difficulty
        self.physics = config.physics
        self.tracks: list[Track] = []
        if self.generated:
            check_difficulty(difficulty, "difficulty")
            check_car_fits(difficulty, config.physics)
            return
        chosen = [config.track.default] if track is None else track
        items = chosen if isinstance(chosen, (list, tuple)) else [chosen]
        for item in items:
            self.tracks += [item] if isinstance(item, Track) else _load(item, config)
        if not self.tracks:
            raise NeuroCarError("track: no tracks given")

    def draw(self, generator: np.random.Generator) -> Track:
        """One track for a new episode: drawn from the list (if there are several) or generated."""
        if self.generated:
            seed = int(generator.integers(0, MAX_GENERATED_SEED))
            return generate_track(seed, self.difficulty, self.physics)[0]
        if len(self.tracks) == 1:
            return self.tracks[0]
        return self.tracks[int(generator.integers(len(self.tracks)))]

    def draw_many(self, count: int, generator: np.random.Generator) -> list[Track]:
        """`count` tracks for a batched world: the listed ones (count must be a multiple of them) or generated."""
        if self.generated:
            return [self.draw(generator) for _ in range(count)]
        return list(self.tracks)
