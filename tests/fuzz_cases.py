"""Seeded generators of broken inputs for the fuzz tests: every loader gets truncated, flipped, retyped, extreme,
deeply nested, aliased, huge, binary and non-regular variants of a real file.

A case is built from one integer seed, so a failing case is reproduced by its id alone
(`pytest tests/test_fuzz.py -k "track-17"`).
"""

from __future__ import annotations

import copy
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from neurocar.config import SECTIONS
from neurocar.schema import dataclass_rules, yaml_text

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED_TRACKS = sorted((PROJECT / "tracks").glob("*.yaml"))
GOOD_SESSION = PROJECT / "tests" / "fixtures" / "recordings" / "good" / "session-20261126-190000"

# Values a careless or hostile file might hold where a number, text or list belongs.
NASTY_VALUES: list[Any] = [
    0,
    -1,
    1,
    2**63,
    -(2**63) - 1,
    10**400,
    1e308,
    -1e308,
    1e-308,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    None,
    "",
    "text",
    "\x1b[31mred\x1b]0;title\x07",
    "line\nbreak",
    "x" * 5000,
    [],
    {},
    [1, 2],
    [[1, 2], [3, 4]],
    {"key": "value"},
    list(range(20_000)),
]
# The same as YAML text, plus what only text can say.
NASTY_TEXTS = [
    "0",
    "-1",
    "1e400",
    "-1e400",
    "1" * 5000,
    ".nan",
    ".inf",
    "-.inf",
    "true",
    "null",
    "~",
    "''",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "2026-13-45",
    "!!binary AAAA%",
    "!!python/object:os.system {}",
    "&a [*a]",
    "*nowhere",
    "0x" + "f" * 300,
    "[" * 200 + "]" * 200,
    "\x1b[2J",
    "a\nb: c",
    "10000000000",
    "1e-9",
    "-0.0",
]


def alias_bomb(levels: int = 12) -> str:
    """The 'billion laughs': each level refers to the previous one ten times."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def deep_nesting(depth: int = 5000) -> str:
    """A list nested `depth` levels deep, in flow and block style."""
    return "key: " + "[" * depth + "]" * depth + "\n"


WHOLE_FILES: list[Callable[[random.Random], bytes]] = [
    lambda rng: b"",
    lambda rng: b"\n",
    lambda rng: alias_bomb().encode(),
    lambda rng: deep_nesting().encode(),
    lambda rng: ("- " * 3000 + "x\n").encode(),
    lambda rng: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))),
    lambda rng: b"\xff\xfe" + "name: x\n".encode("utf-16-le"),
    lambda rng: b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(200)),
    lambda rng: ("key: value\n" * 50_000).encode(),
    lambda rng: b"[" + b"0, " * 200_000 + b"0]",
]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Truncate, flip bytes, insert garbage or duplicate a piece."""
    choice = rng.randrange(4)
    if choice == 0 or not data:
        return data[: rng.randrange(len(data) + 1)]
    mutable = bytearray(data)
    if choice == 1:
        for _ in range(rng.randrange(1, 8)):
            mutable[rng.randrange(len(mutable))] = rng.randrange(256)
        return bytes(mutable)
    position = rng.randrange(len(mutable))
    if choice == 2:
        return (
            bytes(mutable[:position]) + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) + data[position:]
        )
    end = min(len(data), position + rng.randrange(1, 200))
    return data[:end] + data[position:end] * rng.randrange(2, 50) + data[end:]


def leaf_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """The path of every value inside nested dicts and lists (including the containers)."""
    paths = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            paths += leaf_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:50]):
            paths += leaf_paths(value, (*prefix, index))
    return paths


def replace_at(data: Any, path: tuple, value: Any) -> Any:
    """A deep copy of `data` with the value at `path` replaced (or deleted when `value` is DELETE)."""
    copied = copy.deepcopy(data)
    target = copied
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copied


DELETE = object()


def mutate_data(data: Any, rng: random.Random) -> Any:
    """Replace, delete or add one value somewhere in parsed data."""
    paths = leaf_paths(data)
    if not paths or rng.random() < 0.1:
        return rng.choice(NASTY_VALUES)
    path = rng.choice(paths)
    roll = rng.random()
    if roll < 0.15:
        return replace_at(data, path, DELETE)
    if roll < 0.25:
        parent = path[:-1]
        container = data
        for key in parent:
            container = container[key]
        if isinstance(container, dict):
            return replace_at(data, (*parent, rng.choice(["extra", 7, "dt", "\x1b[31m"])), 1)
    return replace_at(data, path, rng.choice(NASTY_VALUES))


def mutate_yaml_text(text: str, rng: random.Random) -> bytes:
    """A broken variant of a YAML file: at the byte level, a value replaced, or a whole bad file."""
    roll = rng.random()
    if roll < 0.3:
        return mutate_bytes(text.encode(), rng)
    if roll < 0.45:
        return rng.choice(WHOLE_FILES)(rng)
    if roll < 0.65:
        lines = text.splitlines()
        index = rng.randrange(len(lines))
        key, colon, _value = lines[index].partition(":")
        lines[index] = f"{key}{colon} {rng.choice(NASTY_TEXTS)}" if colon else rng.choice(NASTY_TEXTS)
        return ("\n".join(lines) + "\n").encode()
    mutated = mutate_data(yaml.safe_load(text), rng)
    try:
        return yaml_text(mutated).encode()
    except (ValueError, OverflowError, RecursionError):
        return text.encode()


@dataclass
class Case:
    """One fuzz case: the files to create and the command to run."""

    name: str
    arguments: list[str]
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content
    special: dict[str, str] = field(default_factory=dict)  # relative path -> fifo, folder, loop, unreadable
    copies: dict[str, Path] = field(default_factory=dict)  # relative path -> folder to copy there first
    payloads: dict[str, Any] = field(default_factory=dict)  # relative path -> object to torch.save
    verdict_code: int | None = None  # an exit code that is a finding, not an error (replay --check: 1, differs)


def special_file(rng: random.Random) -> str:
    """A path that is not a readable regular file."""
    return rng.choice(["fifo", "folder", "loop", "unreadable", "missing"])


def create(case: Case, folder: Path) -> None:
    """Make the case's files inside `folder`."""
    for relative, source in case.copies.items():
        shutil.copytree(source, folder / relative)
    for relative, content in case.files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        path.write_bytes(content)
    for relative, payload in case.payloads.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, path)
    for relative, kind in case.special.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
            (path / "inside.yaml").write_text("name: x\n", encoding="utf-8")
        elif kind == "loop":
            path.symlink_to(path.name)
        elif kind == "unreadable":
            path.write_text("name: x\n", encoding="utf-8")
            path.chmod(0)


# The loaders ------------------------------------------------------------------------------------------------


def config_case(rng: random.Random, name: str) -> Case:
    """A broken config file given with --config."""
    arguments = ["tracks", "check", "oval", "--config", "config.yaml"]
    if rng.random() < 0.1:
        return Case(name, arguments, special={"config.yaml": special_file(rng)})
    text = (PROJECT / "configs" / "default.yaml").read_text(encoding="utf-8")
    return Case(name, arguments, files={"config.yaml": mutate_yaml_text(text, rng)})


CONFIG_KEYS = [f"{section}.{key}" for section, kind in SECTIONS.items() for key in dataclass_rules(kind)]


def set_case(rng: random.Random, name: str) -> Case:
    """A --set option with a mistyped key or a nasty value."""
    key = rng.choice(CONFIG_KEYS)
    roll = rng.random()
    if roll < 0.15:
        position = rng.randrange(len(key))
        key = key[:position] + rng.choice("xq._\n\x1b") + key[position + 1 :]
    elif roll < 0.2:
        key = rng.choice(["", ".", "physics.", ".dt_s", "a.b.c", "=", "physics.dt_s.x"])
    value = rng.choice(NASTY_TEXTS)
    separator = "" if rng.random() < 0.05 else "="
    return Case(name, ["tracks", "check", "oval", "--set", f"{key}{separator}{value}"])


def track_case(rng: random.Random, name: str) -> Case:
    """A broken track file given to `tracks check`."""
    arguments = ["tracks", "check", "track.yaml"]
    if rng.random() < 0.1:
        return Case(name, arguments, special={"track.yaml": special_file(rng)})
    text = rng.choice(SHIPPED_TRACKS).read_text(encoding="utf-8")
    return Case(name, arguments, files={"track.yaml": mutate_yaml_text(text, rng)})


REPLAY_FIXTURES = sorted((PROJECT / "tests" / "fixtures" / "replays").glob("oval_*"))  # a race and a lap


def replay_case(rng: random.Random, name: str) -> Case:
    """A broken replay or lap file given to `replay --check`."""
    arguments = ["replay", "drive.replay", "--check"]
    if rng.random() < 0.1:
        return Case(name, arguments, special={"drive.replay": special_file(rng)})
    text = rng.choice(REPLAY_FIXTURES).read_text(encoding="utf-8")
    return Case(name, arguments, files={"drive.replay": mutate_yaml_text(text, rng)}, verdict_code=1)


def mutate_tensor(tensor: torch.Tensor, rng: random.Random) -> Any:
    """A tensor of another shape, type or layout, with NaN, or no tensor at all."""
    choice = rng.randrange(8)
    if choice == 0:
        return tensor.to_sparse()
    if choice == 1:
        return tensor.to(torch.complex64)
    if choice == 2:
        return tensor.to(torch.int64)
    if choice == 3:
        filled = tensor.to(torch.float32) if not tensor.is_floating_point() else tensor
        return torch.full_like(filled, float(rng.choice([float("nan"), float("inf"), 1e38])))
    if choice == 4:
        return torch.zeros(*[size + rng.randrange(1, 3) for size in tensor.shape] or [2])
    if choice == 5:
        return tensor.reshape(-1)
    if choice == 6:
        return tensor.to(torch.float64)
    return rng.choice(NASTY_VALUES[:20])


def mutate_payload(payload: dict[str, Any], rng: random.Random) -> Any:
    """Change one entry of a saved dictionary: a tensor, a key, or any value inside."""
    tensors = [path for path in leaf_paths(payload) if isinstance(_get(payload, path), torch.Tensor)]
    roll = rng.random()
    if tensors and roll < 0.35:
        path = rng.choice(tensors)
        return replace_at(payload, path, mutate_tensor(_get(payload, path), rng))
    if roll < 0.4 and isinstance(payload.get("state_dict"), dict):
        changed = copy.deepcopy(payload)
        changed["state_dict"][rng.choice([7, 1.5, ("a",), "extra"])] = torch.zeros(3)
        return changed
    plain = [path for path in leaf_paths(payload) if not isinstance(_get(payload, path), torch.Tensor)]
    path = rng.choice(plain)
    value = rng.choice(NASTY_VALUES) if rng.random() < 0.8 else DELETE
    if path[-1] == "dt_s" and rng.random() < 0.5:
        value = 0.0
    return replace_at(payload, path, value)


def _get(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


def model_case(rng: random.Random, name: str, model: Path) -> Case:
    """A broken model file given to `evaluate`."""
    arguments = ["evaluate", "--model", "model.pt", "--track", "oval", "--laps", "1"]
    roll = rng.random()
    if roll < 0.1:
        return Case(name, arguments, special={"model.pt": special_file(rng)})
    if roll < 0.35:
        return Case(name, arguments, files={"model.pt": mutate_bytes(model.read_bytes(), rng)})
    payload = torch.load(model, weights_only=True)
    return Case(name, arguments, payloads={"model.pt": mutate_payload(payload, rng)})


def recording_case(rng: random.Random, name: str) -> Case:
    """A broken session given to `train supervised`."""
    arguments = ["train", "supervised", "--data", "rec", "--epochs", "2", "--run-dir", "run"]
    session = "rec/session-20261126-190000"
    case = Case(name, arguments, copies={session: GOOD_SESSION})
    target = rng.choice(["meta.yaml", "frames.csv"])
    roll = rng.random()
    if roll < 0.1:
        case.special[f"{session}/{target}"] = special_file(rng)
    elif target == "meta.yaml":
        case.files[f"{session}/meta.yaml"] = mutate_yaml_text((GOOD_SESSION / "meta.yaml").read_text("utf-8"), rng)
    else:
        lines = (GOOD_SESSION / "frames.csv").read_text("utf-8").splitlines()
        if roll < 0.4:
            case.files[f"{session}/frames.csv"] = mutate_bytes("\n".join(lines).encode(), rng)
        elif roll < 0.9:
            row = rng.randrange(1, len(lines))
            cells = lines[row].split(",")
            cells[rng.randrange(len(cells))] = rng.choice(
                ["1e300", "-1", "5.0", "3", "nan", "inf", "x", "", "1e400", "0.5", "2.5", "1" * 400, "robot"]
            )
            lines[row] = ",".join(cells)
            case.files[f"{session}/frames.csv"] = ("\n".join(lines) + "\n").encode()
        else:
            extra = ",".join(["0"] * rng.randrange(1, 2000))
            case.files[f"{session}/frames.csv"] = ("\n".join([*lines, extra]) + "\n").encode()
    return case


def checkpoint_case(rng: random.Random, name: str, run: Path) -> Case:
    """A broken checkpoint given to `train evolve --resume`."""
    arguments = ["train", "evolve", "--resume", "run", "--generations", "2"]
    case = Case(name, arguments, copies={"run": run})
    roll = rng.random()
    if roll < 0.1:
        case.special["run/checkpoint.pt"] = special_file(rng)
    elif roll < 0.3:
        case.files["run/checkpoint.pt"] = mutate_bytes((run / "checkpoint.pt").read_bytes(), rng)
    else:
        payload = torch.load(run / "checkpoint.pt", weights_only=True)
        if roll < 0.5 and payload["tracks"]:
            text = payload["tracks"][0]["text"]
            position = rng.randrange(len(text))
            payload["tracks"][0]["text"] = text[:position] + rng.choice("[]{}:&*!%@`'\"\t\x00") + text[position + 1 :]
            case.payloads["run/checkpoint.pt"] = payload
        else:
            case.payloads["run/checkpoint.pt"] = mutate_payload(payload, rng)
    return case


CLI_COMMANDS = [
    ["tracks"],
    ["tracks", "--dir", "."],
    ["tracks", "check", "oval"],
    ["tracks", "generate", "--out", "made.yaml"],
    ["evaluate", "--model", "model.pt", "--track", "oval"],
    ["bench", "--seconds", "0.01", "--track", "oval", "--set", "evolution.population=2"],
    ["train", "evolve", "--track", "oval", "--generations", "1", "--population", "2", "--set", "episode.max_seconds=2"],
    ["train", "supervised", "--data", "rec", "--epochs", "1", "--run-dir", "run"],
]
CLI_OPTIONS = [
    "--seed",
    "--laps",
    "--seconds",
    "--generations",
    "--population",
    "--target-laps",
    "--random-tracks",
    "--random-difficulty",
    "--difficulty",
    "--count",
    "--epochs",
    "--track",
    "--model",
    "--out",
    "--run-dir",
    "--config",
    "--set",
    "--frames",
    "--json",
    "--bogus",
]
CLI_VALUES = ["nan", "inf", "-inf", "-1", "0", "1e400", "", "x", "\n", "\x1b[31m", "9" * 400, "--", "-5.5", "/"]


def cli_case(rng: random.Random, name: str, model: Path) -> Case:
    """A command with one option given a nasty value (or a mistyped command)."""
    arguments = list(rng.choice(CLI_COMMANDS))
    roll = rng.random()
    if roll < 0.1:
        word = arguments[0]
        position = rng.randrange(len(word))
        arguments[0] = word[:position] + rng.choice("xz\x1b") + word[position + 1 :]
    else:
        option = rng.choice(CLI_OPTIONS)
        value = rng.choice(CLI_VALUES)
        if option in arguments:
            index = arguments.index(option)
            del arguments[index : index + 2]
        arguments += [option, value] if option != "--json" else [option]
    return Case(name, arguments, copies={"rec/session-1": GOOD_SESSION}, files={"model.pt": model.read_bytes()})
