"""The track being edited: its points, width, start, name and difficulty, with undo, redo and YAML in and out.

`TrackDocument` holds the values a track file holds and changes them only through its methods, each of which
records one undo step (a drag records one step however far the point travels). It builds the `Track` from its own
data with the loader's validation, so what the editor accepts is exactly what `load_track` accepts, and writes the
shipped track format (coordinates rounded to 0.1 m). No drawing here: the editor window is one user of it, tests
are another.

| value        | meaning                                                                  |
|--------------|--------------------------------------------------------------------------|
| points       | centre-line points [m], in driving order; the last joins the first       |
| width_m      | road width [m]                                                           |
| start_index  | cars start at this point, facing the next one                            |
| name         | shown in the window and reports                                          |
| difficulty   | 1 (easiest) to 5 (hardest)                                               |
| description  | optional text, kept as it was read                                       |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from neurocar.errors import NeuroCarError
from neurocar.schema import excerpt, load_yaml, parse_yaml
from neurocar.sim.track import (
    CENTERLINE_SPACING_M,
    MAX_LENGTH_M,
    MAX_WIDTH_M,
    MIN_WIDTH_M,
    Track,
    TrackError,
    catmull_rom_closed,
    offset_closed,
    resample_closed,
    track_from_data,
    track_text,
)

DEFAULT_WIDTH_M = 12.0
DEFAULT_DIFFICULTY = 2
WIDTH_STEP_M = 0.5
UNDO_LIMIT = 500
# A new track starts as this rounded rectangle (anticlockwise), 160 m x 100 m, valid with the default car.
STARTER_LOOP = (
    (0.0, 0.0),
    (60.0, 0.0),
    (75.0, 8.0),
    (80.0, 25.0),
    (80.0, 75.0),
    (75.0, 92.0),
    (60.0, 100.0),
    (-60.0, 100.0),
    (-75.0, 92.0),
    (-80.0, 75.0),
    (-80.0, 25.0),
    (-75.0, 8.0),
    (-60.0, 0.0),
)


@dataclass(frozen=True)
class TrackValues:
    """One state of the document: what undo and redo restore."""

    points: tuple[tuple[float, float], ...]
    width_m: float
    start_index: int
    name: str
    difficulty: int
    description: str


def free_track_path(folder: Path, stem: str = "new_track") -> Path:
    """`stem.yaml` in `folder`, or `stem-2.yaml`, `stem-3.yaml`, ...: the first name no file has."""
    candidate = folder / f"{stem}.yaml"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}.yaml"
        number += 1
    return candidate


RECOVERY_SUFFIX = ".recovered"


def recovery_track_path(path: str | Path) -> Path:
    """Where unsaved edits of the track saved at `path` are kept when the editor is stopped: `stem.recovered.yaml`
    beside it, or `stem.recovered-2.yaml`, ...: always a file that does not exist yet."""
    target = Path(path)
    return free_track_path(target.parent, f"{target.stem}{RECOVERY_SUFFIX}")


def recovery_files(path: str | Path) -> list[Path]:
    """The recovery copies kept for the track saved at `path`, oldest first."""
    target = Path(path)
    stem = f"{target.stem}{RECOVERY_SUFFIX}"
    if not target.parent.is_dir():
        return []
    found = [candidate for candidate in target.parent.glob(f"{stem}*.yaml") if candidate.is_file()]
    found = [candidate for candidate in found if candidate.stem == stem or candidate.stem.startswith(f"{stem}-")]
    return sorted(found, key=lambda candidate: (candidate.stat().st_mtime, candidate.name))


def name_from_path(path: str | Path) -> str:
    """A track name made from a file name: 'my_new-track.yaml' -> 'My New Track'."""
    words = Path(path).stem.replace("_", " ").replace("-", " ").split()
    return " ".join(word[:1].upper() + word[1:] for word in words) or "New Track"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def distance_to_segment(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Distance [m] from a point to the segment start-end."""
    edge = end - start
    length_squared = float(np.dot(edge, edge))
    along = 0.0 if length_squared == 0 else min(1.0, max(0.0, float(np.dot(point - start, edge)) / length_squared))
    return float(np.hypot(*(point - (start + along * edge))))


class TrackDocument:
    """An editable track with undo and redo; see the module docstring for its values."""

    def __init__(self, values: TrackValues, opened_problem: str | None = None) -> None:
        self.values = values
        # What was wrong with the file as it was opened (shown until the track is changed or saved).
        self.opened_problem = opened_problem
        self._undo: list[TrackValues] = []
        self._redo: list[TrackValues] = []
        self._saved = values
        self._merge_key: object | None = None
        self.revision = 0  # grows with every change, undo and redo: views rebuild when it moves

    # --- making one ----------------------------------------------------------------------------------------------

    @classmethod
    def new(cls, path: str | Path | None = None) -> TrackDocument:
        """A new track: the starter loop, named after the file it will be saved to (unchanged, it is not dirty)."""
        values = TrackValues(
            points=STARTER_LOOP,
            width_m=DEFAULT_WIDTH_M,
            start_index=0,
            name=name_from_path(path) if path is not None else "New Track",
            difficulty=DEFAULT_DIFFICULTY,
            description="",
        )
        return cls(values)

    @classmethod
    def from_data(cls, data: Any, file_name: str, opened_problem: str | None = None) -> TrackDocument:
        """A document from parsed track YAML. The values may be invalid (they are what the user comes to fix), but
        there must be a list of numeric [x, y] points; otherwise a `NeuroCarError` says what is missing."""
        if not isinstance(data, dict):
            raise NeuroCarError(f"{file_name}: expected a mapping with name, difficulty, width_m and centerline")
        raw_points = data.get("centerline")
        if not isinstance(raw_points, list):
            raise NeuroCarError(f"{file_name}: centerline: expected a list of [x, y] points")
        points = []
        for index, point in enumerate(raw_points):
            if not isinstance(point, list) or len(point) != 2 or not all(_number(value) for value in point):
                raise NeuroCarError(
                    f"{file_name}: centerline[{index}]: expected a pair of numbers [x, y], got {excerpt(point)}; "
                    "fix it in a text editor"
                )
            points.append((float(point[0]), float(point[1])))
        if len(points) > 1 and points[0] == points[-1]:
            points.pop()  # the loader accepts a repeated closing point; the editor closes the loop itself
        name = data.get("name")
        width = data.get("width_m")
        difficulty = data.get("difficulty")
        start_index = data.get("start_index", 0)
        description = data.get("description")
        values = TrackValues(
            points=tuple(points),
            width_m=float(width) if _number(width) else DEFAULT_WIDTH_M,
            start_index=start_index if isinstance(start_index, int) and 0 <= start_index < len(points) else 0,
            name=name.strip() if isinstance(name, str) and name.strip() else name_from_path(file_name),
            difficulty=difficulty
            if isinstance(difficulty, int) and not isinstance(difficulty, bool)
            else DEFAULT_DIFFICULTY,
            description=description.strip() if isinstance(description, str) else "",
        )
        return cls(values, opened_problem)

    @classmethod
    def from_text(cls, text: str, file_name: str, opened_problem: str | None = None) -> TrackDocument:
        """A document from the text of a track file; YAML that does not parse is a `NeuroCarError`."""
        data = parse_yaml(text, file_name, hint="; fix it in a text editor")
        return cls.from_data(data, file_name, opened_problem)

    # --- reading -------------------------------------------------------------------------------------------------

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        """The centre-line points [m]."""
        return self.values.points

    @property
    def dirty(self) -> bool:
        """True when the values differ from what was last saved (or opened)."""
        return self.values != self._saved

    @property
    def can_undo(self) -> bool:
        """True when there is a change to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is an undone change to redo."""
        return bool(self._redo)

    def to_data(self) -> dict[str, Any]:
        """The values as track YAML data (what `track_from_data` validates and the file holds)."""
        values = self.values
        data: dict[str, Any] = {"name": values.name}
        if values.description:
            data["description"] = values.description
        data["difficulty"] = values.difficulty
        data["width_m"] = values.width_m
        data["centerline"] = [[x, y] for x, y in values.points]
        data["start_index"] = values.start_index
        return data

    def to_yaml(self) -> str:
        """The shipped track format: name, description, difficulty, width_m, centerline (0.1 m), start_index."""
        return track_text(self.to_data())

    def build(
        self,
        file_name: str,
        min_turn_radius_m: float | None = None,
        collision_radius_m: float = 0.0,
        car_width_m: float = 0.0,
    ) -> tuple[Track | None, TrackError | None]:
        """The track as it would be saved (coordinates rounded), or the reason it is not valid."""
        try:
            data = load_yaml(self.to_yaml())
            track = track_from_data(data, file_name, min_turn_radius_m, collision_radius_m, car_width_m)
        except TrackError as error:
            return None, error
        except NeuroCarError as error:
            return None, TrackError(str(error))
        return track, None

    def nearest_point(self, position: tuple[float, float], within_m: float) -> int | None:
        """The index of the point nearest to `position` [m] if it is within `within_m`, else None."""
        if not self.points:
            return None
        distances = np.hypot(*(np.asarray(self.points) - np.asarray(position, dtype=np.float64)).T)
        nearest = int(np.argmin(distances))
        return nearest if distances[nearest] <= within_m else None

    def insertion_index(self, position: tuple[float, float]) -> int:
        """Where a new point at `position` goes: into the nearest side of the loop, or at the end of a short list."""
        count = len(self.points)
        if count < 3:
            return count
        point = np.asarray(position, dtype=np.float64)
        corners = np.asarray(self.points, dtype=np.float64)
        distances = [distance_to_segment(point, corners[index], corners[(index + 1) % count]) for index in range(count)]
        return int(np.argmin(distances)) + 1

    # --- changing ------------------------------------------------------------------------------------------------

    def _change(self, values: TrackValues, merge_key: object | None = None) -> bool:
        """Make `values` current as one undo step (merged with the last step when `merge_key` repeats)."""
        if values == self.values:
            return False
        if merge_key is None or merge_key != self._merge_key:
            self._undo.append(self.values)
            del self._undo[:-UNDO_LIMIT]
        self._merge_key = merge_key
        self._redo.clear()
        self.values = values
        self.opened_problem = None
        self.revision += 1
        return True

    def end_merge(self) -> None:
        """The next change starts a new undo step (call when a drag ends)."""
        self._merge_key = None

    def add_point(self, position: tuple[float, float], drag: object | None = None) -> int:
        """Add a point at `position` [m] where `insertion_index` says; returns its index. With a `drag` token, the
        moves of the same drag that follow belong to the same undo step (click, drag, release = one step)."""
        index = self.insertion_index(position)
        return self.insert_point(index, position, drag)

    def insert_point(self, index: int, position: tuple[float, float], drag: object | None = None) -> int:
        """Insert a point before `index` (the start point stays the same point); returns `index`."""
        values = self.values
        points = list(values.points)
        points.insert(index, (float(position[0]), float(position[1])))
        start = values.start_index + 1 if 0 < index <= values.start_index else values.start_index
        self._change(replace(values, points=tuple(points), start_index=start), self._drag_key(index, drag))
        return index

    @staticmethod
    def _drag_key(index: int, drag: object | None) -> object | None:
        return None if drag is None else ("move", index, drag)

    def move_point(self, index: int, position: tuple[float, float], drag: object | None = None) -> None:
        """Move one point to `position` [m]; moves with the same `drag` token make one undo step."""
        points = list(self.values.points)
        points[index] = (float(position[0]), float(position[1]))
        self._change(replace(self.values, points=tuple(points)), self._drag_key(index, drag))

    def delete_point(self, index: int) -> None:
        """Remove one point; the start moves to the next point if it was the one removed."""
        values = self.values
        points = list(values.points)
        del points[index]
        start = values.start_index - 1 if index < values.start_index else values.start_index
        start = start if start < len(points) else 0
        self._change(replace(values, points=tuple(points), start_index=start))

    def set_width(self, width_m: float) -> None:
        """Set the road width [m] (kept within the 6 to 30 m the loader accepts)."""
        width = min(MAX_WIDTH_M, max(MIN_WIDTH_M, round(float(width_m) / WIDTH_STEP_M) * WIDTH_STEP_M))
        self._change(replace(self.values, width_m=width))

    def change_width(self, steps: int) -> None:
        """Widen (positive) or narrow (negative) the road by `steps` of 0.5 m."""
        self.set_width(self.values.width_m + steps * WIDTH_STEP_M)

    def set_start(self, index: int) -> None:
        """Cars start at this point."""
        self._change(replace(self.values, start_index=index))

    def reverse(self) -> None:
        """Drive the other way round: the points in reverse order, starting at the same point."""
        values = self.values
        count = len(values.points)
        start = count - 1 - values.start_index if count else 0
        self._change(replace(values, points=tuple(reversed(values.points)), start_index=start))

    def set_difficulty(self, difficulty: int) -> None:
        """Set the difficulty (1 to 5)."""
        if not 1 <= difficulty <= 5:
            raise ValueError(f"difficulty {difficulty} is not from 1 to 5")
        self._change(replace(self.values, difficulty=difficulty))

    def set_name(self, name: str) -> None:
        """Rename the track (surrounding spaces removed; an empty name is ignored)."""
        if name.strip():
            self._change(replace(self.values, name=name.strip()))

    def undo(self) -> bool:
        """Go back one change; returns False when there is nothing to undo."""
        if not self._undo:
            return False
        self._redo.append(self.values)
        self.values = self._undo.pop()
        self._merge_key = None
        self.revision += 1
        return True

    def redo(self) -> bool:
        """Redo the last undone change; returns False when there is nothing to redo."""
        if not self._redo:
            return False
        self._undo.append(self.values)
        self.values = self._redo.pop()
        self._merge_key = None
        self.revision += 1
        return True

    def mark_saved(self) -> None:
        """The current values are what the file now holds."""
        self._saved = self.values
        self.opened_problem = None


def preview_lines(
    points: tuple[tuple[float, float], ...], width_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The smoothed centre line and the two walls as the loader would make them, without any validation, so an
    invalid track can still be drawn (folds and crossings show). None when there is nothing sensible to draw."""
    if len(points) < 3:
        return None
    corners = np.asarray(points, dtype=np.float64)
    steps = np.hypot(*(np.roll(corners, -1, axis=0) - corners).T)
    if not np.all(np.isfinite(corners)) or np.any(steps < 1e-6) or float(np.sum(steps)) > MAX_LENGTH_M:
        return None
    spline, _control_index = catmull_rom_closed(corners, CENTERLINE_SPACING_M)
    centre, _arc = resample_closed(spline, CENTERLINE_SPACING_M)
    with np.errstate(invalid="ignore", divide="ignore"):
        left = offset_closed(centre, width_m / 2)
        right = offset_closed(centre, -width_m / 2)
    if not (np.all(np.isfinite(left)) and np.all(np.isfinite(right))):
        return centre, centre, centre
    return centre, left, right
