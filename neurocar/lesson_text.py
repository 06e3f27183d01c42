"""The lesson's words: one YAML file per language, validated strictly, with the language chosen from the locale.

The shipped files live in the package (`neurocar/lesson/texts/en.yaml`, `es.yaml`); a teacher can copy one, change
the words and load it with `neurocar lesson --text FILE`. `TEXT_SCHEMA` declares every section and key, and for
each text the `{placeholders}` the window fills in (numbers it formats itself). A file with a missing or unknown
key, a value that is not text, or a placeholder the text may not use is refused with one line naming the file and
the key.
"""

from __future__ import annotations

import locale
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from neurocar.config import parse_yaml
from neurocar.errors import NeuroCarError
from neurocar.paths import display_path

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
MAX_TEXT_FILE_BYTES = 256 * 1024

# section -> key -> the placeholders that text may use.
TEXT_SCHEMA: dict[str, dict[str, tuple[str, ...]]] = {
    "window": {
        "title": (),
        "chapter": ("number", "count"),
        "footer": (),
    },
    "help": {
        "title": (),
        "chapters": (),
        "first_last": (),
        "jump": (),
        "keys_chapters": (),
        "keys_first_last": (),
        "help": (),
        "quit": (),
        "close": (),
    },
    "actions": {"left": (), "straight": (), "right": ()},
    "sensors": {"left": (), "ahead": (), "right": ()},
    "neuron": {
        "title": (),
        "body": ("x", "target"),
        "key_step": (),
        "key_rate": (),
        "key_reset": (),
        "state": ("step", "weight", "output", "error"),
        "rate": ("rate",),
        "converges": ("overshoot",),
        "oscillates": ("overshoot",),
        "lands": ("overshoot",),
        "stays": ("diverge",),
        "diverges": ("diverge",),
        "why": (),
        "blown_up": (),
        "plot_output": (),
        "plot_error": (),
        "plot_target": (),
        "plot_steps": (),
    },
    "inputs": {
        "title": (),
        "body": (),
        "key_choose": (),
        "key_nudge": (),
        "key_drive": (),
        "weight": ("number",),
        "bias": (),
        "output": (),
    },
    "matrix": {
        "title": (),
        "body": (),
        "key_row": (),
        "key_drive": (),
        "row": ("row",),
    },
    "nonlinear": {
        "title": (),
        "body": (),
        "linear": (),
        "sigmoid": (),
        "product": (),
        "no_product": (),
        "axis_left": (),
        "axis_right": (),
        "key_random": (),
        "key_designed": (),
        "designed": (),
        "random": ("seed",),
    },
    "brain": {
        "title": (),
        "body": (),
        "parameters": ("formula", "count"),
        "map": ("ahead",),
        "car": (),
        "key_ahead": (),
        "key_pause": (),
        "paused": (),
    },
    "driving": {
        "title": (),
        "body": (),
        "key_evolve": (),
        "key_drive": (),
        "back": ("folder",),
    },
}


@dataclass(frozen=True)
class LessonText:
    """Every text of the lesson in one language, looked up as 'section.key'."""

    source: str
    values: Mapping[str, str]

    def get(self, key: str, **fields: object) -> str:
        """The text of `key` with its placeholders filled from `fields`."""
        text = self.values[key]
        return text.format_map({name: str(value) for name, value in fields.items()})

    def lines(self, key: str, **fields: object) -> list[str]:
        """The text of `key` as paragraphs (one per line of the file's text)."""
        return [line.strip() for line in self.get(key, **fields).splitlines() if line.strip()]


def shipped_text_file(language: str) -> Path:
    """The shipped file of a language ('en' or 'es')."""
    return Path(str(resources.files("neurocar").joinpath("lesson", "texts", f"{language}.yaml")))


def system_language(environment: Mapping[str, str] | None = None) -> str:
    """The language the system asks for (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, then the locale), if the lesson
    has it; else English."""
    environment = os.environ if environment is None else environment
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environment.get(variable, "").strip()
        if not value:
            continue
        for choice in value.split(":"):  # LANGUAGE may list several: "es:en"
            code = choice.split(".")[0].split("_")[0].split("-")[0].lower()
            if code in LANGUAGES:
                return code
        return DEFAULT_LANGUAGE
    if environment is os.environ:
        try:
            name = locale.getlocale()[0] or ""
        except ValueError:
            name = ""
        code = name.split("_")[0].lower()
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def _placeholders(text: str, where: str) -> set[str]:
    """The `{names}` in a text; anything else in braces is an error naming `where`."""
    names = set()
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise NeuroCarError(f"{where}: a lone {{ or }} (write {{{{ or }}}} for a brace in the text)") from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise NeuroCarError(f"{where}: placeholder {{{name}}} must be a plain name in braces, like {{rate}}")
        names.add(name)
    return names


def text_from_dict(data: object, file_name: str) -> LessonText:
    """Check a parsed text file against `TEXT_SCHEMA` and return its texts."""
    if not isinstance(data, dict):
        raise NeuroCarError(f"{file_name}: expected sections such as 'window:' and 'neuron:', found no mapping")
    for section in data:
        if section not in TEXT_SCHEMA:
            raise NeuroCarError(f"{file_name}: unknown key '{section}' (the sections are {', '.join(TEXT_SCHEMA)})")
    values: dict[str, str] = {}
    for section, keys in TEXT_SCHEMA.items():
        if section not in data:
            raise NeuroCarError(f"{file_name}: missing key '{section}' (every key of the shipped en.yaml is needed)")
        entries = data[section]
        if not isinstance(entries, dict):
            raise NeuroCarError(f"{file_name}: '{section}' must hold keys such as '{next(iter(keys))}:'")
        for key in entries:
            if key not in keys:
                raise NeuroCarError(f"{file_name}: unknown key '{section}.{key}' (check its spelling against en.yaml)")
        for key, allowed in keys.items():
            dotted = f"{section}.{key}"
            if key not in entries:
                raise NeuroCarError(f"{file_name}: missing key '{dotted}' (every key of the shipped en.yaml is needed)")
            value = entries[key]
            if not isinstance(value, str) or not value.strip():
                raise NeuroCarError(f"{file_name}: '{dotted}' must be a non-empty text")
            for name in sorted(_placeholders(value, f"{file_name}: '{dotted}'")):
                if name not in allowed:
                    may = f"may use {', '.join('{' + field + '}' for field in allowed)}" if allowed else "has none"
                    raise NeuroCarError(
                        f"{file_name}: '{dotted}' uses unknown placeholder {{{name}}} (this text {may})"
                    )
            values[dotted] = value
    return LessonText(file_name, values)


def load_text(path: str | Path) -> LessonText:
    """Read and validate a lesson text file."""
    file_path = Path(path)
    file_name = display_path(file_path)
    if not file_path.exists():
        raise NeuroCarError(f"{file_name}: lesson text file not found")
    if not file_path.is_file():
        raise NeuroCarError(f"{file_name}: not a file (give a lesson text file such as es.yaml)")
    if file_path.stat().st_size > MAX_TEXT_FILE_BYTES:
        raise NeuroCarError(f"{file_name}: too large for a lesson text file (at most {MAX_TEXT_FILE_BYTES} bytes)")
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NeuroCarError(f"{file_name}: cannot read lesson text file ({error})") from None
    return text_from_dict(parse_yaml(text, file_name), file_name)


def lesson_text(language: str | None = None, path: str | Path | None = None) -> LessonText:
    """The texts to show: a teacher's file if given, else the shipped file of `language` (default: the system's)."""
    if path is not None:
        return load_text(path)
    chosen = language or system_language()
    if chosen not in LANGUAGES:
        raise NeuroCarError(f"--lang {chosen}: the lesson speaks {' and '.join(LANGUAGES)}")
    return load_text(shipped_text_file(chosen))
