"""The schema layer: declared rules and their one-line errors, the one YAML reader and its limits, regular files
only, and values made safe to print. Also the config bounds that keep a run alive."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from neurocar.config import load_config
from neurocar.errors import NeuroCarError
from neurocar.paths import display_path
from neurocar.schema import (
    Choice,
    Fields,
    ListOf,
    Number,
    Text,
    Whole,
    excerpt,
    load_yaml,
    parse_yaml,
    printable,
    read_text_file,
)


def error_of(function, *arguments) -> str:
    with pytest.raises(NeuroCarError) as error:
        function(*arguments)
    return str(error.value)


def test_rules_convert_and_name_the_key():
    assert Number(0, 1).check(1, "k") == 1.0 and isinstance(Number().check(1, "k"), float)
    assert Whole(1, 5).check(3, "k") == 3
    assert ListOf(Whole()).check([1, 2], "k") == (1, 2)
    assert error_of(Number(0, 1, "m").check, 2, "a.b") == "a.b must be at most 1 m, got 2"
    assert error_of(Number(0.5).check, True, "a.b") == "a.b: expected a number, got True"
    assert (
        error_of(Number().check, 10**400, "a") == "a: expected a finite number, got a number with more than 60 digits"
    )
    assert error_of(Whole().check, 2.0, "a") == "a: expected a whole number, got 2.0"
    assert error_of(Text(5).check, "toolong", "a") == "a must be at most 5 characters long, got 7"
    assert (
        error_of(Choice(("tanh", "relu")).check, "tahn", "a")
        == "a must be one of tanh, relu, got 'tahn'; did you mean 'tanh'?"
    )
    assert error_of(ListOf(Whole(), max_items=2).check, [1, 2, 3], "a") == "a must have at most 2 values, got 3"
    fields = Fields({"speed": Number(), "name": Text()}, optional={"name": ""})
    assert fields.check({"speed": 1}, "car") == {"speed": 1.0, "name": ""}
    assert error_of(fields.check, {"sped": 1}, "car") == "unknown key 'car.sped'; did you mean 'car.speed'?"
    assert error_of(fields.check, {}, "car") == "missing key 'car.speed'"


def test_excerpts_are_short_and_printable():
    assert excerpt("x" * 1000) == "'" + "x" * 56 + "..."
    assert len(excerpt(list(range(10**6)))) == 60  # never builds the whole repr
    assert excerpt("\x1b[31mred\n") == "'\\x1b[31mred\\n'"  # quoted text shows escapes, never sends them
    assert printable("a\x1b]0;title\x07b\u202e") == "a ]0;title b "


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            'a: &a ["x"]\nb: [*a, *a]\n',
            "not valid YAML at line 2: aliases (*name) are not allowed; write the value out",
        ),
        ("a: " + "[" * 33 + "]" * 33 + "\n", "not valid YAML at line 1: nested more than 32 levels deep"),
        ("[" + "0, " * 100_001 + "0]", "not valid YAML at line 1: more than 100,000 values"),
        ("a: 2026-13-45\n", "not valid YAML: a value cannot be read (ValueError)"),
        ("a: " + "1" * 5000 + "\n", "not valid YAML: a value cannot be read (ValueError)"),
    ],
)
def test_yaml_limits_fail_fast_with_one_line(text, problem):
    started = time.perf_counter()
    assert error_of(parse_yaml, text, "f.yaml") == f"f.yaml: {problem}"
    assert time.perf_counter() - started < 5


def test_the_billion_laughs_fails_at_once():
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    started = time.perf_counter()
    assert "aliases (*name) are not allowed" in error_of(parse_yaml, "\n".join(lines), "bomb.yaml")
    assert time.perf_counter() - started < 1
    assert load_yaml("a: &anchor 1\n") == {"a": 1}  # an anchor nobody refers to is harmless


def test_only_regular_files_are_read(tmp_path: Path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert error_of(read_text_file, fifo, "pipe.yaml", "track file") == (
        "pipe.yaml: is not a regular file (a pipe, socket or device); give a track file"
    )
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert (
        error_of(read_text_file, loop, "loop.yaml", "track file")
        == "loop.yaml: cannot read the track file (a symlink loop)"
    )
    assert display_path(loop) == str(loop)  # no RuntimeError from resolve()
    assert error_of(read_text_file, tmp_path, "here", "track file") == "here: is a folder, not a track file"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 2000)
    assert error_of(read_text_file, big, "big.yaml", "track file", 1000) == (
        "big.yaml: the track file is too large (2,000 bytes; at most 1,000)"
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert (
        error_of(read_text_file, latin, "latin.yaml", "track file")
        == "latin.yaml: the track file is not UTF-8 text (byte 9)"
    )


def test_a_fifo_config_or_track_does_not_hang(tmp_path: Path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.yaml")
    result = run_cli("tracks", "check", "pipe.yaml")
    assert (
        result.err
        == "neurocar: error: pipe.yaml: is not a regular file (a pipe, socket or device); give a track file\n"
    )
    result = run_cli("tracks", "check", "oval", "--config", "pipe.yaml")
    assert (
        result.err
        == "neurocar: error: pipe.yaml: is not a regular file (a pipe, socket or device); give a config file\n"
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("window.height=1000000", "window.height must be at most 4320 pixels, got 1000000"),
        ("window.width=100", "window.width must be at least 320 pixels, got 100"),
        ("window.fps=1e49", "window.fps: expected a whole number, got 1e+49"),
        ("window.fps=1000", "window.fps must be at most 240 frames/s, got 1000"),
        ("evolution.population=10000000", "evolution.population must be at most 100000, got 10000000"),
        ("policy.hidden_sizes=[100000]", "policy.hidden_sizes[0] must be at most 256, got 100000"),
        ("policy.hidden_sizes=[8, 8, 8, 8, 8]", "policy.hidden_sizes must have at most 4 values, got 5"),
        ("policy.hidden_sizes=[-6]", "policy.hidden_sizes[0] must be at least 1, got -6"),
        (
            "evolution.tournament_size=61",
            "evolution.tournament_size must be at most evolution.population (60), got 61",
        ),
        ("fitness.progress=1e308", "fitness.progress must be at most 1e+06, got 1e+308"),
        ("fitness.crash=-1e7", "fitness.crash must be at least -1e+06, got -1e+07"),
        ("supervised.learning_rate=1e10", "supervised.learning_rate must be at most 1, got 1e+10"),
        ("physics.dt_s=0", "physics.dt_s must be at least 0.001 s, got 0"),
        ("physics.car_length_m=1e300", "physics.car_length_m must be at most 20 m, got 1e+300"),
        (
            "sensors.angles_deg=[" + ", ".join(["0"] * 65) + "]",
            "sensors.angles_deg must have at most 64 values, got 65",
        ),
        ("track.default=" + "x" * 5000, "track.default must be at most 4096 characters long, got 5000"),
    ],
)
def test_bounds_the_program_survives(override, message):
    shown = override if len(override) <= 80 else override[:77] + "..."
    assert error_of(load_config, None, [override]) == f"--set {shown}: {message}"


def test_population_and_layers_must_fit_in_memory_together():
    message = error_of(load_config, None, ["evolution.population=100000", "policy.hidden_sizes=[256, 256]"])
    assert message == (
        "--set evolution.population=100000: evolution.population * the policy's 67,587 weights must be at most "
        "20,000,000, got 6,758,700,000; lower evolution.population or policy.hidden_sizes"
    )
    assert load_config(overrides=["evolution.population=100000"]).evolution.population == 100000


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bench", "--seconds", "nan"], "--seconds nan: must be a positive, finite number of seconds"),
        (["train", "evolve", "--random-tracks", "1000000000"], "--random-tracks 1000000000: must be at most 1000"),
        (["train", "evolve", "--generations", "9" * 30], f"--generations {'9' * 30}: must be at most 1000000"),
        (["evaluate", "--model", "m.pt", "--laps", "5000"], "--laps 5000: must be at most 1000"),
    ],
)
def test_number_options_are_bounded(arguments, message, run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(*arguments)
    assert result.code == 2 and result.err.startswith(f"neurocar: error: {message}")
    assert result.err.count("\n") == 1
