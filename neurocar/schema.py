"""File schemas: each file kind declares its fields once, with type, bounds and unit beside each field.

A rule checks one value and returns it converted (`Number` gives a float, `ListOf` a tuple); `Fields` checks a
mapping against a declaration of named rules. A problem is a `SchemaError` naming the dotted key (`physics.dt_s`,
`centerline[3]`); the loader of each file kind adds the file name in front, so every error is one line:
`FILE: KEY: expected a number, got 'fast'` or `FILE: KEY must be at most 0.5 s, got 2`.

This module also reads every YAML file NeuroCar reads (`read_yaml_file`, `parse_yaml`): only regular files (never a
FIFO, a folder or a symlink loop), a bounded size, UTF-8, no aliases, bounded nesting and value count, YAML 1.2
numbers (`1e9` is a float). And it makes values safe to print: `excerpt` quotes at most a short piece of a value,
`printable` removes control characters from text meant for a terminal.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neurocar.errors import NeuroCarError

EXCERPT_CHARACTERS = 60
MAX_YAML_DEPTH = 32
MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_YAML_NODES = 100_000
# Whole numbers beyond this cannot be a count or a size NeuroCar can use, and some would not even fit a float.
MAX_WHOLE_NUMBER = 2**63 - 1


class SchemaError(NeuroCarError):
    """A value that does not fit its declaration; `key` is the dotted path of the value, `problem` the rest."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        if not key:
            super().__init__(problem.lstrip())
        else:
            super().__init__(f"{key}{problem}" if problem.startswith(" ") else f"{key}: {problem}")


# Printing values ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with control characters (escape codes, newlines, bidirectional overrides) replaced by spaces."""
    cleaned = _CONTROL.sub(" ", str(text))
    return "".join(" " if unicodedata.category(character) == "Cs" else character for character in cleaned)


def excerpt(value: Any, limit: int = EXCERPT_CHARACTERS) -> str:
    """A short, one-line, printable quotation of a value: numbers as `%g`, text and structures as `repr`, cut to
    `limit` characters with an ellipsis."""
    if isinstance(value, bool) or value is None:
        text = repr(value)
    elif isinstance(value, int):
        digits = str(value) if abs(value) < 10**limit else f"a number with more than {limit} digits"
        text = digits
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (list, tuple, dict)):
        text = _short_repr(value, limit + 1)
    else:
        text = repr(value)
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shorten(text: str, limit: int = EXCERPT_CHARACTERS) -> str:
    """Text made printable and cut to `limit` characters with an ellipsis."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_repr(value: Any, budget: int) -> str:
    """`repr` of nested lists and mappings that stops after about `budget` characters (never builds a huge one)."""
    parts: list[str] = []
    used = 0

    def add(text: str) -> bool:
        nonlocal used
        parts.append(text)
        used += len(text)
        return used < budget

    def walk(item: Any, depth: int) -> bool:
        if depth > 8:
            return add("...")
        if isinstance(item, (list, tuple)):
            if not add("["):
                return False
            for index, element in enumerate(item):
                if (index and not add(", ")) or not walk(element, depth + 1):
                    return False
            return add("]")
        if isinstance(item, dict):
            if not add("{"):
                return False
            for index, (key, element) in enumerate(item.items()):
                if (index and not add(", ")) or not walk(key, depth + 1) or not add(": "):
                    return False
                if not walk(element, depth + 1):
                    return False
            return add("}")
        return add(excerpt(item, budget))

    walk(value, 0)
    return "".join(parts)


def number_text(value: float) -> str:
    """A bound or a value as messages show it: 0.05, 1000, 1e+09."""
    if isinstance(value, int) and not isinstance(value, bool):
        return excerpt(value)
    return f"{value:g}"


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'X'?` for the closest of `choices` to a mistyped `word`, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# Rules ------------------------------------------------------------------------------------------------------


class Rule:
    """One field's declaration: `check(value, key)` returns the converted value or raises `SchemaError`."""

    description = "a value"

    def check(self, value: Any, key: str) -> Any:
        """Check and convert `value`; `key` names it in errors."""
        raise NotImplementedError

    def expected(self, value: Any, key: str) -> SchemaError:
        """The type error: `key: expected <description>, got <value>`."""
        wanted = getattr(self, "expect", "") or self.description
        return SchemaError(key, f"expected {wanted}, got {excerpt(value)}")


def _bounds_error(key: str, value: Any, minimum: Any, maximum: Any, unit: str) -> SchemaError | None:
    suffix = f" {unit}" if unit else ""
    if minimum is not None and value < minimum:
        return SchemaError(key, f" must be at least {number_text(minimum)}{suffix}, got {number_text(value)}")
    if maximum is not None and value > maximum:
        return SchemaError(key, f" must be at most {number_text(maximum)}{suffix}, got {number_text(value)}")
    return None


@dataclass(frozen=True)
class Number(Rule):
    """A finite number in [minimum, maximum] (either may be None), in `unit`; `above` excludes the minimum."""

    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    above: float | None = None
    expect: str = ""  # when given, every problem reads "expected <expect>, got <value>"
    description = "a number"

    def check(self, value: Any, key: str) -> float:
        """A float within the bounds."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.expected(value, key)
        if (isinstance(value, int) and abs(value) > 1e300) or not math.isfinite(value):
            if self.expect:
                raise self.expected(value, key)
            raise SchemaError(key, f"expected a finite number, got {excerpt(value)}")
        if self.expect and not self._within(value):
            raise self.expected(value, key)
        if self.above is not None and value <= self.above:
            unit = f" {self.unit}" if self.unit else ""
            raise SchemaError(key, f" must be greater than {number_text(self.above)}{unit}, got {number_text(value)}")
        error = _bounds_error(key, value, self.minimum, self.maximum, self.unit)
        if error is not None:
            raise error
        return float(value)

    def _within(self, value: float) -> bool:
        return (
            (self.above is None or value > self.above)
            and (self.minimum is None or value >= self.minimum)
            and (self.maximum is None or value <= self.maximum)
        )


@dataclass(frozen=True)
class Whole(Rule):
    """A whole number (not a bool, not 2.0) in [minimum, maximum]."""

    minimum: int | None = None
    maximum: int | None = MAX_WHOLE_NUMBER
    unit: str = ""
    expect: str = ""  # when given, every problem reads "expected <expect>, got <value>"
    description = "a whole number"

    def check(self, value: Any, key: str) -> int:
        """An int within the bounds."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.expected(value, key)
        error = _bounds_error(key, value, self.minimum, self.maximum, self.unit)
        if error is not None:
            raise self.expected(value, key) if self.expect else error
        return int(value)


@dataclass(frozen=True)
class Text(Rule):
    """Text of at most `max_length` characters; `required` refuses empty or blank text."""

    max_length: int = 10_000
    required: bool = False
    expect: str = ""
    description = "text"

    def check(self, value: Any, key: str) -> str:
        """The text, unchanged."""
        if not isinstance(value, str) or (self.required and not value.strip()):
            raise self.expected(value, key)
        if len(value) > self.max_length:
            raise SchemaError(key, f" must be at most {self.max_length} characters long, got {len(value)}")
        return value


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed set of values (text or numbers)."""

    choices: tuple[Any, ...]
    description = "one of the listed values"

    def check(self, value: Any, key: str) -> Any:
        """The value, if it is one of the choices."""
        if isinstance(value, bool) or value not in self.choices or isinstance(value, (list, dict)):
            listed = ", ".join(str(choice) for choice in self.choices)
            hint = suggestion(value, map(str, self.choices)) if isinstance(value, str) else ""
            raise SchemaError(key, f" must be one of {listed}, got {excerpt(value)}{hint}")
        return value


@dataclass(frozen=True)
class Boolean(Rule):
    """true or false."""

    description = "true or false"

    def check(self, value: Any, key: str) -> bool:
        """The bool."""
        if not isinstance(value, bool):
            raise self.expected(value, key)
        return value


@dataclass(frozen=True)
class ListOf(Rule):
    """A list of `min_items` to `max_items` values, each checked by `item`; returns a tuple."""

    item: Rule
    min_items: int = 0
    max_items: int = 100_000
    noun: str = "values"
    expect: str = ""
    description = "a list"

    def check(self, value: Any, key: str) -> tuple[Any, ...]:
        """A tuple of the checked items."""
        if not isinstance(value, (list, tuple)):
            raise self.expected(value, key)
        if len(value) < self.min_items:
            noun = self.noun[:-1] if self.min_items == 1 and self.noun.endswith("s") else self.noun
            raise SchemaError(key, f" needs at least {self.min_items} {noun}, got {len(value)}")
        if len(value) > self.max_items:
            raise SchemaError(key, f" must have at most {self.max_items:,} {self.noun}, got {len(value):,}")
        return tuple(self.item.check(element, f"{key}[{index}]") for index, element in enumerate(value))


@dataclass(frozen=True)
class Optional(Rule):
    """`rule`, or null (then `default`)."""

    rule: Rule
    default: Any = None

    def check(self, value: Any, key: str) -> Any:
        """The default for null, else the checked value."""
        return self.default if value is None else self.rule.check(value, key)


@dataclass(frozen=True)
class AnyValue(Rule):
    """Anything (checked elsewhere, or kept as information only)."""

    def check(self, value: Any, key: str) -> Any:
        """The value, unchanged."""
        return value


@dataclass(frozen=True)
class Fields(Rule):
    """A mapping of declared keys; keys in `optional` may be missing (their default is used). Unknown keys are
    errors with a 'did you mean'."""

    rules: Mapping[str, Rule]
    optional: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    strict: bool = True  # False: keys not declared are left out of the result instead of refused
    description = "a mapping of keys to values"

    def check(self, value: Any, key: str) -> dict[str, Any]:
        """A dict of the checked values, in declaration order, defaults filled in."""
        if not isinstance(value, dict):
            raise self.expected(value, key)
        prefix = f"{key}." if key else ""
        for name in value if self.strict else ():
            if not isinstance(name, str) or name not in self.rules:
                shown = printable(name if isinstance(name, str) else excerpt(name))[:EXCERPT_CHARACTERS]
                hint = suggestion(name, self.rules) if isinstance(name, str) else ""
                if hint:
                    hint = suggestion(name, self.rules).replace("'", f"'{prefix}", 1)
                else:
                    where = f" in '{key}'" if key else ""
                    hint = f" (known keys{where}: {', '.join(self.rules)})"
                raise SchemaError("", f"unknown key '{prefix}{shown}'{hint}")
        checked: dict[str, Any] = {}
        for name, rule in self.rules.items():
            if name not in value:
                if name in self.optional:
                    checked[name] = self.optional[name]
                    continue
                raise SchemaError("", f"missing key '{prefix}{name}'")
            checked[name] = rule.check(value[name], f"{prefix}{name}")
        return checked


# Declarations inside frozen dataclasses ---------------------------------------------------------------------


def declare(rule: Rule, doc: str = "") -> Any:
    """A dataclass field declared by `rule` (its type, bounds and unit), with `doc` saying what it is."""
    return dataclasses.field(metadata={"rule": rule, "doc": doc})


def dataclass_rules(section_type: type) -> dict[str, Rule]:
    """The rule of every field of a dataclass built with `declare`, by field name."""
    return {
        field.name: field.metadata["rule"] for field in dataclasses.fields(section_type) if "rule" in field.metadata
    }


def build(section_type: type, value: Any, key: str, origin: Callable[[str], str] | None = None) -> Any:
    """Check `value` against the declared fields of `section_type` and return the dataclass.

    `origin(key)`, when given, says where a key's value came from (a file, or the option that set it); the error
    then starts with it.
    """
    try:
        return section_type(**Fields(dataclass_rules(section_type)).check(value, key))
    except SchemaError as error:
        if origin is None:
            raise
        if not error.key:
            raise SchemaError(origin(key), error.problem) from None
        raise SchemaError(f"{origin(error.key.split('[')[0])}: {error.key}", error.problem) from None


# Reading files ----------------------------------------------------------------------------------------------


def check_regular_file(path: Path, name: str, noun: str, missing: str = "not found", folder: str = "") -> int:
    """Fail with one line unless `path` is a regular file that can be opened; returns its size in bytes.

    `noun` says what the file should be ("track file"); `missing` and `folder` are the messages for a missing
    file and for a folder. Uses `os.stat`, so a FIFO is refused before anything opens (and blocks on) it.
    """
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise NeuroCarError(f"{name}: {missing}") from None
    except PermissionError:
        raise NeuroCarError(f"{name}: cannot read the {noun} (permission denied)") from None
    except (OSError, ValueError) as error:
        loop = getattr(error, "errno", None) == errno.ELOOP
        reason = "a symlink loop" if loop else (getattr(error, "strerror", "") or "")
        raise NeuroCarError(f"{name}: cannot read the {noun} ({reason or error.__class__.__name__})") from None
    if stat.S_ISDIR(status.st_mode):
        raise NeuroCarError(f"{name}: {folder or f'is a folder, not a {noun}'}")
    if not stat.S_ISREG(status.st_mode):
        raise NeuroCarError(f"{name}: is not a regular file (a pipe, socket or device); give a {noun}")
    if not os.access(path, os.R_OK):
        raise NeuroCarError(f"{name}: cannot read the {noun} (permission denied)")
    return status.st_size


def read_file_bytes(
    path: Path, name: str, noun: str, max_bytes: int, missing: str = "not found", folder: str = ""
) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; anything else is a one-line `NeuroCarError`."""
    size = check_regular_file(path, name, noun, missing, folder)
    if size > max_bytes:
        raise NeuroCarError(f"{name}: the {noun} is too large ({size:,} bytes; at most {max_bytes:,})")
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise NeuroCarError(f"{name}: cannot read the {noun} ({error.strerror or error})") from None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # replaced between the check and the open
            raise NeuroCarError(f"{name}: is not a regular file (a pipe, socket or device); give a {noun}")
        try:
            data = stream.read(max_bytes + 1)
        except OSError as error:
            raise NeuroCarError(f"{name}: cannot read the {noun} ({error.strerror or error})") from None
    if len(data) > max_bytes:
        raise NeuroCarError(f"{name}: the {noun} is too large (more than {max_bytes:,} bytes)")
    return data


def read_text_file(
    path: Path, name: str, noun: str, max_bytes: int = MAX_YAML_BYTES, missing: str = "not found", folder: str = ""
) -> str:
    """The UTF-8 text of a regular file (see `read_file_bytes`); other bytes are a one-line error."""
    data = read_file_bytes(path, name, noun, max_bytes, missing, folder)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NeuroCarError(f"{name}: the {noun} is not UTF-8 text (byte {error.start})") from None


_FLOAT_TAG = "tag:yaml.org,2002:float"
# YAML 1.2 floats: PyYAML's YAML 1.1 rules read `1e9` and `1e-3` (no point, or no exponent sign) as text.
# `.inf` and `.nan` stay floats, so the rules can reject them as non-finite with a clear message.
_FLOAT_PATTERN = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class YamlLimitError(yaml.YAMLError):
    """YAML that parses but is refused: an alias, nesting deeper than `MAX_YAML_DEPTH`, too many values."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.problem = message
        self.problem_mark = mark


# libyaml's parser when PyYAML has it (ten times faster), else PyYAML's own.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader with YAML 1.2 floats."""


def _check_limits(text: str) -> None:
    """Refuse, before building anything, aliases (an alias bomb expands without end), nesting deeper than
    `MAX_YAML_DEPTH` and more than `MAX_YAML_NODES` values (each costs time to build)."""
    depth = 0
    nodes = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlLimitError("aliases (*name) are not allowed; write the value out", event.start_mark)
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise YamlLimitError(f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            nodes += 1
            if nodes > MAX_YAML_NODES:
                raise YamlLimitError(f"more than {MAX_YAML_NODES:,} values", event.start_mark)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _FLOAT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_PATTERN, list("-+0123456789."))


def load_yaml(text: str) -> Any:
    """Parse YAML text with the limits above, reading `1e9`, `1E-3`, `+1.5e+2` and `.5` as floats.

    Raises `yaml.YAMLError` for text that is not valid (or not allowed) YAML, including values PyYAML cannot
    construct (a number too long to convert, an impossible date).
    """
    try:
        _check_limits(text)
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError, TypeError, RecursionError) as error:
        raise YamlLimitError(f"a value cannot be read ({error.__class__.__name__})", None) from None


def parse_yaml(text: str, file_name: str, hint: str = "") -> Any:
    """Parse a file's YAML text; a problem is a `NeuroCarError` naming the file and the line (then `hint`)."""
    try:
        return load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        detail = f": {error.problem}" if isinstance(error, YamlLimitError) else ""
        raise NeuroCarError(f"{file_name}: not valid YAML{where}{detail}{hint}") from None


def read_yaml_file(
    path: Path, name: str, noun: str, max_bytes: int = MAX_YAML_BYTES, missing: str = "not found", folder: str = ""
) -> tuple[Any, str]:
    """Read and parse one YAML file of any kind; returns the parsed data and the text."""
    text = read_text_file(path, name, noun, max_bytes, missing, folder)
    return parse_yaml(text, name), text


class _Dumper(yaml.SafeDumper):
    """A safe dumper that never writes aliases (the loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        """Write every value out, even one that appears twice."""
        return True


def yaml_text(data: Any) -> str:
    """Data as YAML text in the order given, readable by `load_yaml`."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
