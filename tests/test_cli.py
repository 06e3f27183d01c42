"""The command line: help for every command, `tracks`, `tracks check`, `bench`, and every kind of bad input ending
in exactly one line, `neurocar: error: ...`, exit code 2, no traceback, and no saved file touched."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from checkout import PROJECT_ROOT

from neurocar.cli import build_parser
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import model_payload, save_model
from neurocar.learn.policy import build_network
from neurocar.paths import TRACKS_DIR

TRACK_FIXTURES = "tests/fixtures/tracks"
CONFIG_FIXTURES = "tests/fixtures/configs"

BROKEN_TRACKS = {
    "too_few_points": "centerline needs at least 4 points, got 3",
    "non_numeric": "centerline[2]: expected numbers, got [100.0, 'ten']",
    "non_finite": "centerline[2]: expected finite numbers, got [100.0, nan]",
    "infinite_width": "width_m: expected a road width of 6 to 30 m, got inf",
    "too_narrow": "width_m: expected a road width of 6 to 30 m, got 3",
    "figure_eight": "centerline: crosses itself (about 42 m from the start)",
    "walls_cross": "walls: the walls cross near (23, 0); parts of the track are closer than the road width or a "
    "curve folds. Move them apart or make width_m smaller",
    "curve_folds": "centerline: the curve 118 m from the start has a radius of 2.4 m, too tight for a 6 m road "
    "(the inner wall folds below 4.0 m); spread the points of that curve out or make width_m smaller",
    "too_tight_for_car": "centerline: the curve 114 m from the start (radius 4.2 m) is too tight for the car to "
    "turn (it needs 7.2 m); spread the points of that curve out",
    "unknown_key": "unknown key 'colour' (known keys: name, description, difficulty, width_m, centerline, start_index)",
    "missing_key": "missing key 'width_m'",
    "bad_difficulty": "difficulty: expected a whole number from 1 to 5, got 7",
    "bad_start_index": "start_index: 9 is not a point index (0 to 3)",
    "not_yaml": "not valid YAML at line 6",
    "empty": "expected a mapping with name, difficulty, width_m and centerline",
    "too_big": "centerline: the track spans 100,000 x 100,000 m; keep it within 5,000 m on a side",
    "far_out": "centerline[1]: [1e+300, 0] is too far out; keep coordinates within 1,000,000 m of the origin",
    "too_long": "centerline: a lap is 28,562 m long; keep it within 20,000 m",
    "alias_bomb": "not valid YAML at line 3: aliases (*name) are not allowed; write the value out",
    "deep_nesting": "not valid YAML at line 5: nested more than 32 levels deep",
    "huge_number": "width_m: expected a road width of 6 to 30 m, got a number with more than 60 digits",
}

BROKEN_CONFIGS = {
    "unknown_key": "unknown key 'physics.warp_factor' (known keys in 'physics': dt_s, cruise_speed_mps, "
    "turn_rate_deg_per_s, car_length_m, car_width_m, collision_radius_m)",
    "wrong_type": "physics.dt_s: expected a number, got 'fast'",
    "fractional_hidden_size": "policy.hidden_sizes[0]: expected a whole number, got 6.5",
    "missing_section": "missing section 'window'",
    "missing_key": "missing key 'physics.cruise_speed_mps'",
    "negative_dt": "physics.dt_s must be at least 0.001 s, got -0.05",
    "not_yaml": "not valid YAML at line 16",
    "window_too_large": "window.height must be at most 4320 pixels, got 1000000",
    "alias": "not valid YAML at line 26: aliases (*name) are not allowed; write the value out",
}


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run every command from an empty folder, so nothing lands in the project (runs/ and the like)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def model(tmp_path, config) -> Path:
    """A valid (untrained) model file."""
    path = tmp_path / "model.pt"
    network = build_network(3, (6,), "sigmoid")
    save_model(path, network, config, {"method": "neuroevolution"})
    return path


def assert_one_line_error(result, message: str) -> None:
    assert result.code == 2
    assert result.err == f"neurocar: error: {message}\n"


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """Every command and subcommand as a tuple of words, e.g. ('train', 'evolve')."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield (*prefix, name)
                yield from command_paths(subparser, (*prefix, name))


COMMANDS = list(command_paths(build_parser()))
TOP_COMMANDS_IN_ORDER = [path[0] for path in COMMANDS if len(path) == 1]
TOP_COMMANDS = sorted(TOP_COMMANDS_IN_ORDER)


def test_the_commands_of_the_issues_exist():
    assert {("tracks",), ("tracks", "check"), ("bench",), ("train", "evolve"), ("evaluate",)} <= set(COMMANDS)


@pytest.mark.parametrize(
    "entry",
    [["main.py"], ["-m", "neurocar"], "console script"],
    ids=["main.py", "python -m neurocar", "neurocar"],
)
def test_help_lists_every_command(entry):
    if entry == "console script":
        command = [str(Path(sys.executable).parent / "neurocar"), "--help"]
    else:
        command = [sys.executable, *entry, "--help"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    for name in TOP_COMMANDS:
        assert f"    {name} " in result.stdout, name


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*words, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: neurocar {' '.join(words)}")


def test_tracks_table_lists_every_shipped_track(run_cli):
    result = run_cli("tracks")
    assert result.code == 0
    lines = result.out.splitlines()
    assert len(lines) == 1 + len(list(TRACKS_DIR.glob("*.yaml")))
    assert sum("(default)" in line for line in lines) == 1


def test_tracks_json(run_cli, config):
    result = run_cli("tracks", "--json")
    assert result.code == 0 and result.err == ""
    tracks = json.loads(result.out)
    assert len(tracks) >= 6
    for track in tracks:
        assert set(track) == {"name", "track", "path", "length_m", "width_m", "difficulty", "default", "broken"}
        assert track["broken"] is False
        assert Path(track["path"]).exists()  # usable from the working directory (an absolute path from here)
    assert {track["difficulty"] for track in tracks} == {1, 2, 3, 4, 5}
    defaults = [track for track in tracks if track["default"]]
    assert len(defaults) == 1 and Path(defaults[0]["path"]).name == config.track.default


def test_tracks_check_good_and_bad_files(run_cli):
    good = PROJECT_ROOT / "tracks" / "oval.yaml"
    result = run_cli("tracks", "check", good)
    assert result.code == 0 and result.err == ""
    assert result.out.startswith(f"ok: {good}: Oval, 476 m long, 14 m wide, tightest curve radius ")
    mixed = run_cli("tracks", "check", good, PROJECT_ROOT / TRACK_FIXTURES / "empty.yaml", good)
    assert mixed.code == 2
    assert len(mixed.out.splitlines()) == 2
    assert mixed.err == f"neurocar: error: {PROJECT_ROOT / TRACK_FIXTURES}/empty.yaml: {BROKEN_TRACKS['empty']}\n"


def test_every_broken_track_fixture_is_covered():
    assert {path.stem for path in (PROJECT_ROOT / TRACK_FIXTURES).glob("*.yaml")} == set(BROKEN_TRACKS)
    assert {path.stem for path in (PROJECT_ROOT / CONFIG_FIXTURES).glob("*.yaml")} == set(BROKEN_CONFIGS)


@pytest.mark.parametrize("name", sorted(BROKEN_TRACKS))
def test_broken_track_through_every_command(name, run_cli, model, tmp_path):
    file = PROJECT_ROOT / TRACK_FIXTURES / f"{name}.yaml"
    message = f"{file}: {BROKEN_TRACKS[name]}"
    result = run_cli("tracks", "check", file)
    assert_one_line_error(result, message)
    assert result.out == ""
    assert_one_line_error(run_cli("evaluate", "--model", model, "--track", file), message)
    assert_one_line_error(run_cli("train", "evolve", "--track", file, "--run-dir", "run"), message)
    assert_one_line_error(run_cli("train", "rl", "--track", file, "--run-dir", "run"), message)
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", sorted(BROKEN_CONFIGS))
def test_broken_config_through_every_command(name, run_cli, model):
    file = PROJECT_ROOT / CONFIG_FIXTURES / f"{name}.yaml"
    message = f"{file}: {BROKEN_CONFIGS[name]}"
    assert_one_line_error(run_cli("tracks", "--config", file), message)
    assert_one_line_error(run_cli("tracks", "check", "--config", file, TRACKS_DIR / "oval.yaml"), message)
    assert_one_line_error(run_cli("train", "evolve", "--config", file), message)
    assert_one_line_error(run_cli("train", "rl", "--config", file), message)
    assert_one_line_error(run_cli("evaluate", "--model", model, "--config", file), message)
    assert_one_line_error(run_cli("bench", "--config", file), message)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--set", "physicsdt_s=0.1"],
            "--set 'physicsdt_s=0.1': expected section.key=value, for example physics.dt_s=0.05",
        ),
        (
            ["--set", "physics.warp=9"],
            "--set physics.warp=9: unknown key 'physics.warp' (known keys in 'physics': dt_s, cruise_speed_mps, "
            "turn_rate_deg_per_s, car_length_m, car_width_m, collision_radius_m)",
        ),
        (["--set", "physics.dt=0.1"], "--set physics.dt=0.1: unknown key 'physics.dt'; did you mean 'physics.dt_s'?"),
        (["--set", "phisics.dt_s=0.1"], "--set phisics.dt_s=0.1: unknown section 'phisics'; did you mean 'physics'?"),
        (
            ["--set", "physics.population=10"],
            "--set physics.population=10: unknown key 'physics.population'; did you mean 'evolution.population'?",
        ),
        (
            ["--set", "weather.rain=1"],
            "--set weather.rain=1: unknown section 'weather' (sections: track, physics, sensors, episode, fitness, "
            "policy, evolution, supervised, reinforcement, window)",
        ),
        (["--set", "physics.dt_s=-0.05"], "--set physics.dt_s=-0.05: physics.dt_s must be at least 0.001 s, got -0.05"),
        (
            ["--set", "evolution.population=many"],
            "--set evolution.population=many: evolution.population: expected a whole number, got 'many'",
        ),
        (["--config", "nowhere.yaml"], "nowhere.yaml: config file not found"),
    ],
)
def test_bad_settings(arguments, message, run_cli):
    assert_one_line_error(run_cli("train", "evolve", *arguments), message)
    assert_one_line_error(run_cli("tracks", *arguments), message)


def test_control_characters_never_reach_the_terminal(run_cli):
    result = run_cli("tracks", "--set", "window.fps=\n")
    assert result.err == "neurocar: error: --set window.fps= : window.fps: expected a whole number, got ''\n"
    result = run_cli("tracks", "--set", "window.f\x1b[31mps=1")
    assert result.code == 2 and result.err.count("\n") == 1 and "\x1b" not in result.err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "evolve", "--population", "0"], "--population 0: must be at least 2"),
        (["train", "evolve", "--generations", "-1"], "--generations -1: must be at least 1"),
        (["train", "evolve", "--target-laps", "0"], "--target-laps 0: must be at least 1"),
        (
            ["train", "evolve", "--generations", "two"],
            "argument --generations: invalid int value: 'two' (see 'neurocar train evolve --help')",
        ),
        (["train", "evolve", "--bogus"], "unrecognized arguments: --bogus (see 'neurocar train evolve --help')"),
        (
            ["bogus"],
            "argument COMMAND: invalid choice: 'bogus' (choose from "
            + ", ".join(f"'{name}'" for name in TOP_COMMANDS_IN_ORDER)
            + ") (see 'neurocar --help')",
        ),
        (["evaluate"], "the following arguments are required: --model (see 'neurocar evaluate --help')"),
        (
            ["evaluate", "--model", "missing.pt"],
            "--model missing.pt: model file not found (the shipped general driver is --model driver)",
        ),
        (["evaluate", "--model", "."], ".: is a folder, not a model file (a run folder holds best.pt)"),
        (["train", "evolve", "--resume", "nowhere"], "--resume nowhere: folder not found"),
        (["train", "rl", "--updates", "0"], "--updates 0: must be at least 1"),
        (["train", "rl", "--cars", "0"], "--cars 0: must be at least 1"),
        (["train", "rl", "--resume", "nowhere"], "--resume nowhere: folder not found"),
        (["train", "rl", "--resume", "."], "--resume .: not a training run (no checkpoint.pt inside)"),
        (["train", "evolve", "--resume", "."], "--resume .: not a training run (no checkpoint.pt inside)"),
        (["bench", "--seconds", "-1"], "--seconds -1.0: must be a positive, finite number of seconds"),
        (["bench", "--seconds", "nan"], "--seconds nan: must be a positive, finite number of seconds"),
        (["bench", "--seconds", "inf"], "--seconds inf: must be a positive, finite number of seconds"),
        (["bench", "--seconds", "0"], "--seconds 0.0: must be a positive, finite number of seconds"),
    ],
)
def test_bad_command_line_input(arguments, message, run_cli):
    assert_one_line_error(run_cli(*arguments), message)


def test_bad_input_next_to_a_valid_model(run_cli, model):
    assert_one_line_error(run_cli("evaluate", "--model", model, "--laps", "0"), "--laps 0: must be at least 1")
    assert_one_line_error(
        run_cli("evaluate", "--model", model, "--track", "nowhere"),
        "nowhere: track file not found (see `neurocar tracks` for the shipped ones)",
    )
    assert_one_line_error(
        run_cli("train", "evolve", "--run-dir", "model.pt"), "--run-dir model.pt: is a file, not a folder"
    )


def damaged_models(folder: Path, config) -> dict[str, tuple[Path, str]]:
    """Broken model files made on the spot, with the message each must give."""
    random_bytes = folder / "random.pt"
    random_bytes.write_bytes(bytes(range(256)) * 4)
    empty = folder / "empty.pt"
    empty.write_bytes(b"")
    not_a_model = folder / "not_a_model.pt"
    torch.save({"weights": torch.zeros(3)}, not_a_model)
    mismatched = folder / "mismatched.pt"
    torch.save(model_payload(build_network(3, (8,), "sigmoid"), config, {}), mismatched)
    return {
        "random bytes": (random_bytes, "random.pt: not a NeuroCar model file (damaged, empty or another format)"),
        "empty": (empty, "empty.pt: not a NeuroCar model file (damaged, empty or another format)"),
        "torch file": (not_a_model, "not_a_model.pt: not a NeuroCar model file (no 'neurocar-model' header)"),
        "mismatched": (
            mismatched,
            "mismatched.pt: weights do not fit the contract (3-6-3 needs [('0.bias', (6,)), ('0.weight', (6, 3)), "
            "('2.bias', (3,)), ('2.weight', (3, 6))], the file has [('0.bias', (8,)), ('0.weight', (8, 3)), "
            "('2.bias', (3,)), ('2.weight', (3, 8))])",
        ),
    }


@pytest.mark.parametrize("kind", ["random bytes", "empty", "torch file", "mismatched"])
def test_damaged_model_files(kind, run_cli, tmp_path, config):
    path, message = damaged_models(tmp_path, config)[kind]
    before = path.read_bytes()
    assert_one_line_error(run_cli("evaluate", "--model", path.name), message)
    assert_one_line_error(run_cli("train", "evolve", "--init", path.name, "--run-dir", "run"), message)
    assert path.read_bytes() == before


def test_model_with_other_sensors_and_a_conflicting_setting(run_cli, tmp_path, config):
    trained = config.replace("sensors", range_m=30.0)
    save_model(tmp_path / "ranged.pt", build_network(3, (6,), "sigmoid"), trained, {})
    result = run_cli("evaluate", "--model", "ranged.pt", "--set", "sensors.range_m=50", "--track", "oval")
    assert_one_line_error(
        result,
        "ranged.pt: does not match the requested settings: sensors.range_m is 50, the model needs 30"
        " (drop those settings to run the model with its own)",
    )
    # Without the conflicting setting the model runs with its own sensors.
    assert run_cli("evaluate", "--model", "ranged.pt", "--track", "oval", "--json").code == 0


def test_failed_runs_leave_existing_files_alone(run_cli, tmp_path, model):
    out = tmp_path / "keep.pt"
    out.write_bytes(b"precious model")
    run_folder = tmp_path / "old_run"
    run_folder.mkdir()
    (run_folder / "log.csv").write_text("generation\n1\n")
    broken_track = PROJECT_ROOT / TRACK_FIXTURES / "figure_eight.yaml"
    failing = [
        ["train", "evolve", "--out", "keep.pt", "--population", "0"],
        ["train", "evolve", "--out", "keep.pt", "--track", broken_track],
        ["train", "evolve", "--out", "keep.pt", "--run-dir", "old_run"],
        ["train", "evolve", "--out", "keep.pt", "--init", "keep.pt"],
        ["train", "evolve", "--out", "keep.pt", "--resume", "old_run"],
    ]
    for arguments in failing:
        result = run_cli(*arguments)
        assert result.code == 2 and len(result.err.splitlines()) == 1 and "Traceback" not in result.err, arguments
    assert out.read_bytes() == b"precious model"
    assert (run_folder / "log.csv").read_text() == "generation\n1\n"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["keep.pt", "model.pt", "old_run"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("model.pt/best.pt", "model.pt/best.pt: model.pt is not a folder"),
        ("model.pt/new/best.pt", "model.pt/new/best.pt: model.pt is not a folder"),
        (".", ".: is a folder; give a file name such as model.pt"),
    ],
)
def test_unwritable_out_path(out, message, run_cli, model, tmp_path):
    before = model.read_bytes()
    result = run_cli("train", "evolve", "--out", out, "--run-dir", "run", "--population", "4", "--generations", "1")
    assert_one_line_error(result, message)
    assert model.read_bytes() == before and not (tmp_path / "run").exists()


def test_bench_json(run_cli):
    from neurocar.commands.bench import MEASURE_WINDOWS

    result = run_cli("bench", "--json", "--seconds", "0.02", "--track", "oval", "--repeats", "0")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert set(report["cars"]) == {"1", "60", "1000", "10000"}
    for count in ("1", "60", "1000"):
        for kind in ("world", "with_policy"):
            figures = report["cars"][count][kind]
            assert figures["car_steps_per_s"] > 0 and figures["step_us"] > 0, (count, kind)
            # The figure is the median window's: it lies between the slowest and the fastest one.
            assert figures["windows"] == MEASURE_WINDOWS
            slowest, fastest = figures["slowest_window_car_steps_per_s"], figures["fastest_window_car_steps_per_s"]
            assert slowest <= figures["car_steps_per_s"] <= fastest, (count, kind)
    assert report["five_tracks"]["world"]["car_steps_per_s"] > 0
    assert report["one_core"]["world"]["car_steps_per_s"] > 0
    assert report["window"]["same_drive"] and report["window"]["window"] > 0 and report["window"]["share"] > 0
    assert "commands" not in report  # --repeats 0
    assert report["peak_memory_mib"] > 0
    assert report["generation"]["first"]["car_steps"] > 0
    assert report["evaluate"]["tracks"] == len(list(TRACKS_DIR.glob("*.yaml")))
    assert report["evaluate"]["lapped"] == report["evaluate"]["tracks"]
    for name in ("first_run", "cached"):
        assert report["start"][name]["first_step_s"] > 0 and report["start"][name]["import_s"] > 0


def test_bench_times_whole_commands_in_fresh_processes(monkeypatch, tmp_path):
    from neurocar.commands import bench

    commands = (("tracks", ["tracks"], False), ("tracks check oval", ["tracks", "check", "oval"], False))
    monkeypatch.setattr(bench, "WHOLE_COMMANDS", commands)
    figures = bench.command_figures(2, 0)
    assert list(figures) == ["tracks", "tracks check oval"]
    for timing in figures.values():
        assert len(timing["runs_s"]) == 2 and min(timing["runs_s"]) <= timing["median_s"] <= max(timing["runs_s"])
    monkeypatch.setattr(bench, "WHOLE_COMMANDS", (("tracks check", ["tracks", "check", "no-such-track"], False),))
    with pytest.raises(NeuroCarError, match="bench: neurocar tracks check failed: neurocar: error: "):
        bench.command_figures(1, 0)


def test_a_closed_pipe_ends_quietly():
    # `neurocar tracks --json | head -1`: the reader is gone before anything is written.
    console_script = str(Path(sys.executable).parent / "neurocar")
    process = subprocess.Popen(
        [console_script, "tracks", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT_ROOT
    )
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert errors == ""


def test_model_with_other_sensors_under_a_chosen_config(run_cli, tmp_path, config):
    trained = config.replace("sensors", angles_deg=(-90.0, -45.0, 0.0, 45.0, 90.0)).replace("policy", hidden_sizes=(4,))
    save_model(tmp_path / "five.pt", build_network(5, (4,), "sigmoid"), trained, {})
    result = run_cli("evaluate", "--model", "five.pt", "--config", PROJECT_ROOT / "configs" / "default.yaml")
    assert_one_line_error(
        result,
        "five.pt: does not match the requested settings: sensors.angles_deg is [-45, 0, 45], the model needs "
        "[-90, -45, 0, 45, 90]; policy.hidden_sizes is [6], the model has [4] (drop those settings to run the model "
        "with its own)",
    )
    assert run_cli("evaluate", "--model", "five.pt", "--track", "oval").code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00garbage" * 10, "checkpoint is damaged and cannot be read"),
        (None, "not a NeuroCar evolution checkpoint"),
    ],
    ids=["random bytes", "torch file"],
)
def test_damaged_checkpoint(content, message, run_cli, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    checkpoint = folder / "checkpoint.pt"
    if content is None:
        torch.save({"format": "something else"}, checkpoint)
    else:
        checkpoint.write_bytes(content)
    before = checkpoint.read_bytes()
    result = run_cli("train", "evolve", "--resume", "run", "--generations", "5")
    assert_one_line_error(result, f"run/checkpoint.pt: {message}")
    assert checkpoint.read_bytes() == before and [entry.name for entry in folder.iterdir()] == ["checkpoint.pt"]
