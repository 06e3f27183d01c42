"""`neurocar tracks generate`: write random valid tracks (the same seed gives the same track)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurocar.commands.common import config_from_args, require_at_least
from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_text
from neurocar.paths import display_path
from neurocar.sim.generator import check_difficulty, generate_track


def _destinations(out: str | None, seed: int, difficulty: int, count: int) -> list[Path | None]:
    """Where each generated track goes: stdout (None), the one file, or numbered files in a folder."""
    track_file = out is not None and Path(out).suffix.lower() in (".yaml", ".yml")
    if count == 1:
        if out is None:
            return [None]
        path = Path(out)
        if path.is_dir():
            return [path / f"generated-d{difficulty}-{seed}.yaml"]
        if not track_file:
            raise NeuroCarError(f"--out {out}: name the track file FILE.yaml (or an existing folder)")
        return [path]
    if out is None:
        raise NeuroCarError(f"--count {count}: give --out DIR, the folder to write the tracks into")
    folder = Path(out)
    if (folder.exists() and not folder.is_dir()) or (track_file and not folder.exists()):
        raise NeuroCarError(f"--out {out}: is a file name; with --count, give a folder")
    return [folder / f"generated-d{difficulty}-{seed + index}.yaml" for index in range(count)]


def run(arguments: argparse.Namespace) -> int:
    """Generate the tracks and write them (never over an existing file unless --force)."""
    require_at_least("--count", arguments.count, 1)
    check_difficulty(arguments.difficulty)
    config = config_from_args(arguments)
    destinations = _destinations(arguments.out, arguments.seed, arguments.difficulty, arguments.count)
    if not arguments.force:
        existing = [path for path in destinations if path is not None and path.exists()]
        if existing:
            raise NeuroCarError(
                f"{display_path(existing[0])}: already exists; choose another --out or add --force to replace it"
            )
    generated = [
        generate_track(arguments.seed + index, arguments.difficulty, config.physics) for index in range(arguments.count)
    ]
    for destination, (track, text) in zip(destinations, generated, strict=True):
        if destination is None:
            sys.stdout.write(text)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(destination, text)
        print(
            f"wrote {display_path(destination)}: {track.name}, {track.length_m:.0f} m long, {track.width_m:g} m wide, "
            f"tightest curve radius {track.min_radius_m:.1f} m",
            file=sys.stderr if arguments.out is None else sys.stdout,
        )
    return 0
