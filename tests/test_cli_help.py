"""What any command line is expected to do: `neurocar help`, "did you mean", a description on every `--help`,
option names as typed, `--out` that never replaces a file without `--force`, and a clear end without a display."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

import pytest
import torch

from neurocar.cli import build_parser
from neurocar.commands.window_checks import no_display_reason
from neurocar.learn.model_file import load_model, save_model
from neurocar.learn.policy import build_network
from neurocar.paths import SHIPPED_DRIVER


def one_line_error(result) -> str:
    assert result.code == 2, result.out + result.err
    assert result.err.startswith("neurocar: error: ") and result.err.count("\n") == 1, result.err
    return result.err.removeprefix("neurocar: error: ").rstrip("\n")


def every_parser(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, parser) for every command and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield (*path, name), subparser
                yield from every_parser(subparser, (*path, name))


def test_every_subcommand_help_opens_with_a_description():
    parsers = list(every_parser(build_parser()))
    assert len(parsers) >= 12
    for path, parser in parsers:
        description = parser.description
        assert description and "\n" not in description.strip(), f"neurocar {' '.join(path)} has no description"
        assert description.strip() in " ".join(parser.format_help().split()), path


@pytest.mark.parametrize("topic", [(), ("train",), ("train", "evolve"), ("tracks", "generate"), ("edit",)])
def test_help_command_prints_the_same_as_dash_dash_help(topic, run_cli, capsys):
    result = run_cli("help", *topic)
    assert result.code == 0 and result.err == ""
    with pytest.raises(SystemExit):
        build_parser().parse_args([*topic, "--help"])
    assert result.out == capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["trian"], "did you mean 'train'?"),
        (["train", "evlove"], "did you mean 'evolve'?"),
        (["tracks", "genrate"], "did you mean 'generate'?"),
        (["help", "evaluat"], "help: no command 'evaluat' in 'neurocar'"),
        (["help", "train", "supervise"], "did you mean 'supervised'?"),
        (["help", "bench", "more"], "help: 'neurocar bench' has no subcommands"),
        (["sim", "--speed", "3"], "invalid choice: '3'"),
    ],
)
def test_mistyped_commands_get_a_suggestion(arguments, message, run_cli):
    assert message in one_line_error(run_cli(*arguments))


def test_a_suggestion_only_when_something_is_close(run_cli):
    assert "did you mean" not in one_line_error(run_cli("xyzzy"))


def test_abbreviated_options_are_refused_so_errors_name_what_was_typed(run_cli):
    message = one_line_error(run_cli("train", "evolve", "--gen", "0"))
    assert message == (
        "unrecognized arguments: --gen 0; did you mean '--generations'? (see 'neurocar train evolve --help')"
    )
    assert "--generations 0: must be at least 1" in one_line_error(run_cli("train", "evolve", "--generations", "0"))


@pytest.mark.parametrize(
    ("arguments", "suggestion"),
    [
        (["tracks", "generate", "--cuont", "3"], "; did you mean '--count'? (see 'neurocar tracks generate --help')"),
        (["train", "evolve", "--rand", "3"], "; did you mean '--random-tracks' or '--random-difficulty'?"),
        (["evaluate", "--model", "driver", "--lap=2"], "; did you mean '--laps'? (see 'neurocar evaluate --help')"),
        (["tracks", "check", "oval", "--bogus"], " (see 'neurocar tracks check --help')"),
    ],
)
def test_unknown_options_get_the_command_help_and_a_suggestion(arguments, suggestion, run_cli):
    message = one_line_error(run_cli(*arguments))
    assert message.startswith("unrecognized arguments: ") and suggestion in message


def write_model(path):
    from neurocar.config import load_config

    config = load_config()
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    save_model(path, network, config, {"method": "test"})


QUICK_EVOLVE = ["train", "evolve", "--track", "oval", "--generations", "1", "--population", "4"]


def test_evolve_out_refuses_an_existing_model_without_force(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path / "model.pt")
    before = (tmp_path / "model.pt").read_bytes()
    message = one_line_error(run_cli(*QUICK_EVOLVE, "--out", "model.pt", "--run-dir", "first"))
    assert message == "--out model.pt: already exists; choose another file or add --force to replace it"
    assert (tmp_path / "model.pt").read_bytes() == before
    assert not (tmp_path / "first").exists()  # refused before any work
    assert run_cli(*QUICK_EVOLVE, "--out", "model.pt", "--force", "--run-dir", "second").code == 0
    assert load_model(tmp_path / "model.pt").training["method"] == "neuroevolution"


def test_force_never_replaces_a_file_that_is_not_a_model(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.pt").write_text("my notes", encoding="utf-8")
    assert "is not a NeuroCar model" in one_line_error(run_cli(*QUICK_EVOLVE, "--out", "notes.pt", "--force"))
    assert (tmp_path / "notes.pt").read_text(encoding="utf-8") == "my notes"


def test_supervised_out_refuses_an_existing_file_without_force(tmp_path, monkeypatch, run_cli):
    from checkout import PROJECT_ROOT

    monkeypatch.chdir(tmp_path)
    write_model(tmp_path / "model.pt")
    data = PROJECT_ROOT / "tests" / "fixtures" / "recordings" / "good"
    arguments = ["train", "supervised", "--data", data, "--epochs", "2", "--out", "model.pt"]
    message = one_line_error(run_cli(*arguments))
    assert message.endswith("already exists; choose another file or add --force to replace it")
    assert run_cli(*arguments, "--force").code == 0
    assert load_model(tmp_path / "model.pt").training["method"] == "supervised"


def test_adam_is_not_asked_for_a_fused_kernel():
    """Fused Adam on CPU needs a newer torch than the declared floor; the plain one is as fast for 45 weights."""
    import inspect

    from neurocar.learn import supervised

    assert "fused" not in inspect.getsource(supervised)
    assert torch.load(SHIPPED_DRIVER, weights_only=True)["format"] == "neurocar-model"


@pytest.mark.parametrize(
    ("environment", "platform", "expected"),
    [
        ({}, "linux", "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({"DISPLAY": ""}, "linux", "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({"DISPLAY": ":0"}, "linux", None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({"SDL_VIDEODRIVER": "dummy"}, "linux", None),
        ({}, "freebsd14", "DISPLAY and WAYLAND_DISPLAY are not set"),
        ({}, "win32", None),
        ({}, "darwin", None),
    ],
)
def test_no_display_detection(environment, platform, expected):
    assert no_display_reason(environment, platform) == expected


def run_without_display(arguments: list[str], tmp_path, extra: dict[str, str] | None = None):
    import os

    environment = {
        key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    environment.update(extra or {})
    return subprocess.run(
        [sys.executable, "-m", "neurocar", *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the DISPLAY variables are how Linux finds one")
@pytest.mark.parametrize("command", [["watch"], ["sim"], ["drive", "--record", "recordings"], ["edit"]])
def test_a_window_without_a_display_ends_at_once(command, tmp_path):
    result = run_without_display(command, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("neurocar: error: no display (DISPLAY and WAYLAND_DISPLAY are not set)")
    assert "SDL_VIDEODRIVER=dummy" in result.stderr and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # no recording, no new track file


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs SDL's x11 driver to fail")
def test_a_display_that_cannot_open_is_the_same_error(tmp_path):
    result = run_without_display(["watch"], tmp_path, {"SDL_VIDEODRIVER": "x11", "DISPLAY": ":987"})
    assert result.returncode == 2
    assert result.stderr.startswith("neurocar: error: no display (") and result.stderr.count("\n") == 1


def test_a_screenshot_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, run_cli):
    import pygame

    def full_disk(surface, path):
        raise pygame.error("No space left on device")

    monkeypatch.setattr(pygame.image, "save", full_disk)
    message = one_line_error(run_cli("watch", "--frames", "2", "--screenshot", tmp_path / "shot.png"))
    assert message == f"--screenshot {tmp_path / 'shot.png'}: cannot write (No space left on device)"
    assert list(tmp_path.iterdir()) == []


def test_edit_does_not_import_torch(tmp_path):
    code = textwrap.dedent(
        """
        import os, sys
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        from neurocar.cli import main
        code = main(["edit", "my_track.yaml", "--frames", "2"])
        print(code, "torch" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 False"
