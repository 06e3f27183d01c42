"""What every command shares: the config from `--config`/`--set`, track lookup, checked numbers."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from pathlib import Path

from neurocar.config import MAX_POPULATION, Config, load_config, parse_override
from neurocar.errors import NeuroCarError
from neurocar.paths import SHIPPED_DRIVER_NAME, display_path, resolve_model_path, resolve_track_path, track_files_in
from neurocar.schema import excerpt, number_text
from neurocar.sim.track import Track, load_track


def config_from_args(arguments: argparse.Namespace) -> Config:
    """The config file (default configs/default.yaml) with every `--set` applied."""
    return load_config(arguments.config, arguments.set or ())


def explicit_keys(arguments: argparse.Namespace) -> Collection[str] | None:
    """The `section.key` names the user chose on purpose: None if a whole `--config` file was given."""
    if arguments.config is not None:
        return None
    keys = []
    for override in arguments.set or ():
        section, key, _value = parse_override(override)
        keys.append(f"{section}.{key}")
    return keys


def model_path(name: str | Path, option: str = "--model") -> Path:
    """The model file an option names: a path, or `driver` for the shipped general driver."""
    path = resolve_model_path(name)
    if not path.exists() and not path.is_symlink():
        hint = (
            ""
            if str(name) == SHIPPED_DRIVER_NAME
            else f" (the shipped general driver is {option} {SHIPPED_DRIVER_NAME})"
        )
        raise NeuroCarError(f"{option} {name}: model file not found{hint}")
    return path


def refuse_existing_output(out: str | None, force: bool) -> None:
    """`--out FILE` never replaces an existing file unless `--force` was given."""
    if out is not None and not force and (Path(out).exists() or Path(out).is_symlink()):
        raise NeuroCarError(
            f"--out {display_path(out)}: already exists; choose another file or add --force to replace it"
        )


def track_files(names: list[str]) -> list[Path]:
    """The track files named on the command line: files, shipped track names, or folders (every *.yaml inside,
    in name order)."""
    files: list[Path] = []
    for name in names:
        path = resolve_track_path(name)
        if path.is_dir():
            found = track_files_in(path)
            if not found:
                raise NeuroCarError(f"--track {name}: the folder holds no track files (*.yaml)")
            files += found
        else:
            files.append(path)
    return files


def load_tracks(names: list[str] | None, config: Config, default: bool = True) -> list[Track]:
    """The tracks named on the command line (files, shipped names or folders), or, if none is named and `default`
    is set, the config's default track."""
    chosen = names or ([config.track.default] if default else [])
    return [
        load_track(
            path,
            config.physics.min_turn_radius_m,
            config.physics.collision_radius_m,
            config.physics.car_width_m,
        )
        for path in track_files(chosen)
    ]


def load_one_track(name: str | None, config: Config) -> Track:
    """The one track a window drives: a file or shipped name (not a folder), or the config's default track."""
    if name is not None and resolve_track_path(name).is_dir():
        raise NeuroCarError(
            f"--track {name}: is a folder; this command drives one track (folders work with train evolve and evaluate)"
        )
    return load_tracks([name] if name else None, config)[0]


def track_texts(tracks: list[Track]) -> list[str]:
    """The YAML text of each loaded track, as it was on disk."""
    return [track.source_text for track in tracks]


# The most each counted option can ask for: beyond these a command would run for days or never end.
OPTION_MAXIMUMS: dict[str, float] = {
    "--generations": 1_000_000,
    "--epochs": 1_000_000,
    "--population": MAX_POPULATION,
    "--laps": 1000,
    "--target-laps": 1000,
    "--random-tracks": 1000,
    "--count": 10_000,
    "--frames": 100_000_000,
    "--seconds": 86_400,
}


def require_at_least(option: str, value: float | None, minimum: float) -> None:
    """Reject a number below `minimum` (or above the option's maximum) with a message naming the option."""
    if value is None:
        return
    if value < minimum:
        raise NeuroCarError(f"{option} {excerpt(value)}: must be at least {minimum}")
    maximum = OPTION_MAXIMUMS.get(option)
    if maximum is not None and value > maximum:
        raise NeuroCarError(f"{option} {excerpt(value)}: must be at most {number_text(maximum)}")


def refuse_settings_on_resume(given: list[tuple[str, object]], changeable: str) -> None:
    """`--resume` keeps the run's own settings: refuse every option of `given` (name, value) that was set."""
    conflicting = [option for option, value in given if value is not None]  # `--seed 0` is a choice too
    if conflicting:
        raise NeuroCarError(
            f"--resume continues a run with its own settings; drop {', '.join(conflicting)} (only {changeable} can "
            "change)"
        )
