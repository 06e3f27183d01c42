"""`neurocar edit [FILE.yaml]`: the track editor window.

The file is read and parsed before any window opens, so a file that is not YAML, or has no list of numeric
points to edit, ends with the one-line error. A file that parses but does not validate (a curve too tight, walls
that cross, a bad width) opens anyway, with the problem shown, so it can be fixed. A path that does not exist yet
opens the starter loop, to be saved there. A shipped track's name (`classic`) opens a copy of it, saved to a new
`classic.yaml` (or `classic-2.yaml`, ...) in the working folder; the shipped file is never changed. `--out` names
another file to save to, never one that already exists (other than the file opened). Without a file, the starter
loop opens and is saved to a new `new_track.yaml` (or `new_track-2.yaml`, ...) in the working folder. Unsaved
edits are never lost: when the window is closed or the command is stopped (Ctrl-C, SIGTERM) with unsaved changes,
they are written to a new recovery copy beside the track file (`name.recovered.yaml`), which this command opens
like any other track.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neurocar.commands.common import config_from_args
from neurocar.commands.window_checks import check_window_options
from neurocar.errors import NeuroCarError
from neurocar.files import check_writable
from neurocar.paths import display_path, resolve_track_path
from neurocar.schema import load_yaml, read_text_file
from neurocar.sim.track import MAX_TRACK_FILE_BYTES, TrackError, track_from_data
from neurocar.sim.track_document import TrackDocument, free_track_path

TRACK_SUFFIXES = (".yaml", ".yml")


def _check_destination(path: Path, option: str) -> None:
    if path.suffix.lower() not in TRACK_SUFFIXES:
        raise NeuroCarError(f"{option}{display_path(path)}: give a track file name ending in .yaml")
    check_writable(path)


def open_document(
    name: str | None, out: str | None, min_turn_radius_m: float, collision_radius_m: float, car_width_m: float
) -> tuple[TrackDocument, Path, bool]:
    """The document to edit, where Ctrl+S writes it, and whether that file name was chosen for the user."""
    if name is None:
        destination = Path(out) if out is not None else free_track_path(Path("."))
        _check_destination(destination, "--out " if out is not None else "")
        return TrackDocument.new(destination if out is not None else None), destination, out is None
    source = resolve_track_path(name)
    shipped = not Path(name).exists() and source.exists()  # a shipped track's name, not a path
    if out is not None:
        destination = Path(out)
        if destination.exists() and destination.resolve() != source.resolve():
            raise NeuroCarError(
                f"--out {out}: already exists; open it with 'neurocar edit {out}' to change it, or choose another --out"
            )
    elif shipped:
        # Edit a copy: the shipped tracks stay as they are.
        destination = free_track_path(Path("."), source.stem)
    else:
        destination = source
    _check_destination(destination, "--out " if out is not None else "")
    if not source.exists():
        return TrackDocument.new(source), destination, False
    file_name = display_path(source)
    text = read_text_file(source, file_name, "track file", MAX_TRACK_FILE_BYTES, folder="is a folder, not a track file")
    document = TrackDocument.from_text(text, file_name)
    # What is wrong with the file itself (an unknown key, a bad value the editor replaced): shown until it changes.
    try:
        track_from_data(load_yaml(text), file_name, min_turn_radius_m, collision_radius_m, car_width_m)
    except TrackError as error:
        message = str(error)
        document.opened_problem = message.removeprefix(f"{file_name}: ")
    return document, destination, shipped and out is None


def run(arguments: argparse.Namespace) -> int:
    """Open the editor on a track file (or a new track); returns the exit code."""
    check_window_options(arguments)
    config = config_from_args(arguments)
    physics = config.physics
    document, destination, chosen = open_document(
        arguments.file, arguments.out, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m
    )

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from neurocar.ui.editor_app import EditorApp

    app = EditorApp(
        config,
        document,
        destination,
        choose_free_name=chosen,
        max_frames=arguments.frames,
        screenshot=arguments.screenshot,
    )
    return app.run()
