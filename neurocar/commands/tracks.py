"""`neurocar tracks`: list the shipped tracks, or check track files someone wrote."""

from __future__ import annotations

import argparse
import json
import sys

from neurocar.commands.common import config_from_args
from neurocar.errors import NeuroCarError
from neurocar.paths import TRACKS_DIR, display_path, resolve_track_path
from neurocar.sim.track import load_track


def run_list(arguments: argparse.Namespace) -> int:
    """Print every shipped track as a table, or as JSON with `--json`."""
    config = config_from_args(arguments)
    default = resolve_track_path(config.track.default).resolve()
    rows = []
    for path in sorted(TRACKS_DIR.glob("*.yaml")):
        track = load_track(
            path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
        )
        rows.append(
            {
                "name": track.name,
                "path": display_path(path),
                "length_m": round(track.length_m, 1),
                "width_m": track.width_m,
                "difficulty": track.difficulty,
                "default": path.resolve() == default,
            }
        )
    rows.sort(key=lambda row: (row["difficulty"], row["name"]))
    if arguments.json:
        print(json.dumps(rows, indent=2))
        return 0
    name_width = max(len("name"), *(len(row["name"]) for row in rows))
    path_width = max(len("file"), *(len(row["path"]) for row in rows))
    print(f"{'name':<{name_width}}  {'file':<{path_width}}  {'length':>8}  {'width':>6}  difficulty")
    for row in rows:
        stars = "*" * row["difficulty"] + "." * (5 - row["difficulty"])
        mark = "  (default)" if row["default"] else ""
        print(
            f"{row['name']:<{name_width}}  {row['path']:<{path_width}}  {row['length_m']:>7.0f}m  "
            f"{row['width_m']:>5g}m  {row['difficulty']} {stars}{mark}"
        )
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
            print(f"neurocar: error: {error}", file=sys.stderr)
            failures += 1
            continue
        print(
            f"ok: {track.path}: {track.name}, {track.length_m:.0f} m long, {track.width_m:g} m wide, "
            f"tightest curve radius {track.min_radius_m:.1f} m, difficulty {track.difficulty}"
        )
    return 2 if failures else 0
