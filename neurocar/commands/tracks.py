"""`neurocar tracks`: list the track files of a folder (the shipped ones by default), or check track files.

Listing never stops at a broken file: it shows it as a row marked broken, with the one-line reason, and lists the
others. Listing exits 0 either way; `neurocar tracks check FILE` is the command whose exit code says whether a file
is valid.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from neurocar.commands.common import config_from_args
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.paths import TRACKS_DIR, display_path, resolve_track_path, track_files_in
from neurocar.schema import printable
from neurocar.sim.track import load_track


def _track_folder(arguments: argparse.Namespace) -> Path:
    """The folder to list: `--dir` (which must be an existing folder) or the shipped tracks."""
    if arguments.dir is None:
        return TRACKS_DIR
    folder = Path(arguments.dir)
    if not folder.exists():
        raise NeuroCarError(f"--dir {arguments.dir}: folder not found")
    if not folder.is_dir():
        raise NeuroCarError(f"--dir {arguments.dir}: is a file, not a folder")
    return folder


def _listing_row(path: Path, config: Config, default: Path, shipped: bool) -> dict[str, Any]:
    """One row of the listing: the track's summary, or `broken` with the reason the loader gave.

    `track` is what selects it with `--track`: a shipped track's short name (which works from any folder, where its
    installed path would be a long one inside the package), else the file's path from the working folder.
    """
    file_name = display_path(path)
    row: dict[str, Any] = {
        "name": None,
        "track": printable(path.stem if shipped else file_name),
        "path": printable(file_name),
        "length_m": None,
        "width_m": None,
        "difficulty": None,
        "default": path.resolve() == default,
        "broken": False,
    }
    try:
        track = load_track(
            path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
        )
    except NeuroCarError as error:
        message = str(error)
        reason = message.removeprefix(f"{file_name}: ")
        return {**row, "broken": True, "error": printable(reason)}
    return {
        **row,
        "name": track.name,
        "length_m": round(track.length_m, 1),
        "width_m": track.width_m,
        "difficulty": track.difficulty,
    }


def broken_summary(broken_count: int, total_count: int) -> str:
    """The closing line of a listing with broken files, e.g. "1 of 8 track files is broken; see ..."."""
    files = "file" if total_count == 1 else "files"
    verb = "is" if broken_count == 1 else "are"
    return f"{broken_count} of {total_count} track {files} {verb} broken; see 'neurocar tracks check FILE'"


def run_list(arguments: argparse.Namespace) -> int:
    """List every track file (`*.yaml`, `*.yml`) of the folder as a table, or as JSON with `--json`.

    A broken file is a row marked broken with its reason and does not stop the others; the exit code is 0.
    """
    config = config_from_args(arguments)
    folder = _track_folder(arguments)
    default = resolve_track_path(config.track.default).resolve()
    paths = track_files_in(folder)
    shipped = folder.resolve() == TRACKS_DIR.resolve()
    rows = [_listing_row(path, config, default, shipped) for path in paths]
    valid = sorted((row for row in rows if not row["broken"]), key=lambda row: (row["difficulty"], row["name"]))
    broken = [row for row in rows if row["broken"]]
    rows = valid + broken
    if arguments.json:
        print(json.dumps(rows, indent=2))
        if broken:
            print(broken_summary(len(broken), len(rows)), file=sys.stderr)
        return 0
    if not rows:
        print(f"no track files (*.yaml) in {display_path(folder)}")
        return 0
    name_width = max(len("name"), *(len(row["name"] or "-") for row in rows))
    track_width = max(len("--track"), *(len(row["track"]) for row in rows))
    print(f"{'name':<{name_width}}  {'--track':<{track_width}}  {'length':>8}  {'width':>6}  difficulty")
    for row in valid:
        stars = "*" * row["difficulty"] + "." * (5 - row["difficulty"])
        mark = "  (default)" if row["default"] else ""
        print(
            f"{row['name']:<{name_width}}  {row['track']:<{track_width}}  {row['length_m']:>7.0f}m  "
            f"{row['width_m']:>5g}m  {row['difficulty']} {stars}{mark}"
        )
    for row in broken:
        print(f"{'-':<{name_width}}  {row['track']:<{track_width}}  broken: {row['error']}")
    if broken:
        print(broken_summary(len(broken), len(rows)))
    return 0


def run_check(arguments: argparse.Namespace) -> int:
    """Validate each file (a path or a shipped track name): a one-line summary, or the one-line error.

    Exit 2 if any is invalid.
    """
    config = config_from_args(arguments)
    failures = 0
    for name in arguments.files:
        try:
            track = load_track(
                resolve_track_path(name),
                config.physics.min_turn_radius_m,
                config.physics.collision_radius_m,
                config.physics.car_width_m,
            )
        except NeuroCarError as error:
            print(f"neurocar: error: {printable(str(error))}", file=sys.stderr)
            failures += 1
            continue
        print(
            f"ok: {printable(track.path)}: {track.name}, {track.length_m:.0f} m long, {track.width_m:g} m wide, "
            f"tightest curve radius {track.min_radius_m:.1f} m, difficulty {track.difficulty}"
        )
    return 2 if failures else 0
