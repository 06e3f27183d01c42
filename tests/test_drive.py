"""`neurocar drive`: the real drive loop under the dummy video driver, recording, and learning from the recording.

The autopilot drives two laps of the default track through the window's loop with `--record`; a network trained
on that recording must then drive three laps in `neurocar evaluate` (and, trained with `--mirror`, the same track
driven the other way round). Key presses are injected as pygame events.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest
import yaml
from checkout import PROJECT_ROOT

from neurocar.cli import main
from neurocar.config import Config
from neurocar.learn.model_file import load_model
from neurocar.learn.recording import FRAMES_FILE, SessionWriter, find_sessions, load_session
from neurocar.paths import TRACKS_DIR
from neurocar.sim.car import STEER_LEFT, STEER_RIGHT, STRAIGHT
from neurocar.sim.track import Track
from neurocar.ui import pacing
from neurocar.ui.drive_app import DriveApp, keys_to_action, last_checkpoint_progress
from neurocar.ui.drive_panel import draw_sensors
from neurocar.ui.theme import TextCache


def laps_frames(track: Track, config: Config, laps: int) -> int:
    """Frames (one step each in fast mode) for `laps` laps on the centre line, plus a little slack."""
    return math.ceil(laps * track.length_m / (config.physics.cruise_speed_mps * config.physics.dt_s)) + 10


@pytest.fixture(scope="module")
def autopilot_recording(tmp_path_factory, classic: Track, config: Config) -> Path:
    """Two laps of the default track driven by the autopilot through `neurocar drive`, recorded."""
    folder = tmp_path_factory.mktemp("recordings")
    frames = laps_frames(classic, config, 2)
    assert main(["drive", "--autopilot", "--record", str(folder), "--frames", str(frames)]) == 0
    return folder


@pytest.fixture(scope="module")
def cloned_models(autopilot_recording: Path, tmp_path_factory) -> dict[str, Path]:
    """Models trained on the autopilot's recording, without and with --mirror."""
    folder = tmp_path_factory.mktemp("models")
    models = {}
    for name, extra in (("plain", []), ("mirror", ["--mirror"])):
        out = folder / f"{name}.pt"
        arguments = ["train", "supervised", "--data", str(autopilot_recording), "--seed", "0"]
        assert main([*arguments, "--run-dir", str(folder / name), "--out", str(out), *extra]) == 0
        models[name] = out
    return models


def evaluate_json(run_cli, model: Path, track: str | Path, laps: int) -> dict:
    result = run_cli("evaluate", "--model", model, "--track", track, "--laps", str(laps), "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["tracks"][0]


def test_autopilot_drive_records_two_laps(autopilot_recording: Path, classic: Track) -> None:
    (session_folder,) = find_sessions([autopilot_recording])
    session = load_session(session_folder)
    assert session.meta["driver"] == "autopilot" and session.track_name == "Classic"
    assert set(session.drivers.tolist()) == {"autopilot"}
    assert session.steps.tolist() == list(range(1, session.frame_count + 1))
    # Two laps (the autopilot cuts corners a little, so it may be a few metres into the third).
    assert 2 * classic.length_m - 20 < session.progress_m[-1] < 2 * classic.length_m + 20
    assert session.laps.max() >= 1 and session.laps[session.progress_m < classic.length_m].max() == 0
    assert {STEER_LEFT, STRAIGHT, STEER_RIGHT} <= set(session.actions.tolist())


def test_cloned_model_drives_three_laps(run_cli, cloned_models: dict[str, Path]) -> None:
    result = evaluate_json(run_cli, cloned_models["plain"], "classic", 3)
    assert result["laps_completed"] == 3 and not result["crashed"]
    assert load_model(cloned_models["plain"]).training["method"] == "supervised"


def test_mirrored_model_also_drives_the_track_the_other_way_round(run_cli, cloned_models, tmp_path: Path) -> None:
    data = yaml.safe_load((TRACKS_DIR / "classic.yaml").read_text(encoding="utf-8"))
    data["centerline"] = data["centerline"][::-1]
    data["name"] = "Classic reversed"
    reversed_track = tmp_path / "classic_reversed.yaml"
    reversed_track.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = evaluate_json(run_cli, cloned_models["mirror"], reversed_track, 3)
    assert result["laps_completed"] == 3 and not result["crashed"]
    assert evaluate_json(run_cli, cloned_models["mirror"], "classic", 3)["laps_completed"] == 3


def test_evolution_seeded_with_a_cloned_model_laps_in_the_first_generation(run_cli, cloned_models, tmp_path) -> None:
    result = run_cli(
        "train", "evolve", "--init", cloned_models["plain"], "--target-laps", "1", "--population", "8",
        "--generations", "3", "--seed", "0", "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "reached 1 lap(s) in generation 1" in result.out


def key_event(kind: int, code: int) -> pygame.event.Event:
    return pygame.event.Event(kind, key=code, mod=0, unicode="", scancode=0)


def run_with_script(app: DriveApp, script: dict[int, list[pygame.event.Event]]) -> None:
    """Run the app, posting `script[frame]` before that frame."""

    def before(current: DriveApp) -> None:
        for event in script.get(current.shell.frame_count, []):
            pygame.event.post(event)

    app.shell.before_frame = lambda: before(app)
    assert app.run() == 0


def test_person_driving_with_injected_keys_is_recorded(
    tmp_path: Path, classic: Track, config: Config, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # However slow the machine, a frame never counts for more than 1/60 s of simulated time, so holding a key for
    # 12 frames always means the same few steps.
    monkeypatch.setattr(pacing, "MAX_FRAME_SECONDS", 1 / 60)
    writer = SessionWriter(tmp_path, classic, config, "person", "tester")
    app = DriveApp(config, classic, writer=writer, max_frames=200)
    run_with_script(
        app,
        {
            2: [key_event(pygame.KEYDOWN, pygame.K_LEFT)],
            # Held for 12 frames each (0.2 s at 60 frames/s): a few steps, well short of the wall.
            14: [key_event(pygame.KEYUP, pygame.K_LEFT), key_event(pygame.KEYDOWN, pygame.K_RIGHT)],
            26: [key_event(pygame.KEYUP, pygame.K_RIGHT)],
            90: [key_event(pygame.KEYDOWN, pygame.K_ESCAPE)],
        },
    )
    session = load_session(writer.folder)
    assert session.meta["driver_name"] == "tester"
    assert set(session.drivers.tolist()) == {"person"}
    actions = session.actions.tolist()
    # Straight, then left while Left was held, then right, then straight again: in that order.
    assert STEER_LEFT in actions and STEER_RIGHT in actions
    segments = [action for index, action in enumerate(actions) if index == 0 or action != actions[index - 1]]
    assert segments in ([STRAIGHT, STEER_LEFT, STEER_RIGHT, STRAIGHT], [STEER_LEFT, STEER_RIGHT, STRAIGHT])
    assert app.shell.frame_count in (90, 91)  # Esc, posted before frame 90, ended it there (not the 200-frame limit)
    summary = capsys.readouterr().out
    assert f"recorded {session.frame_count} frames to" in summary
    assert f"drove {session.frame_count} frames ({session.frame_count * 0.05:.1f} s), 0 laps;" in summary


def test_backspace_removes_the_last_three_seconds(tmp_path: Path, classic: Track, config: Config, capsys) -> None:
    writer = SessionWriter(tmp_path, classic, config, "autopilot")
    app = DriveApp(config, classic, writer=writer, autopilot=True)
    for _step in range(100):
        app.step()
    pygame.display.init()
    try:
        pygame.event.clear()
        pygame.event.post(key_event(pygame.KEYDOWN, pygame.K_BACKSPACE))
        app.shell.handle_events()
    finally:
        pygame.display.quit()
    assert app.removed_frames == 60 and writer.frame_count == 40
    for _step in range(10):
        app.step()
    writer.close()
    app.print_summary()
    assert "recorded 50 frames (60 removed with Backspace)" in capsys.readouterr().out
    session = load_session(writer.folder)
    assert session.steps.tolist() == [*range(1, 41), *range(101, 111)]


def test_r_puts_a_crashed_car_back_at_the_last_checkpoint(tmp_path: Path, classic: Track, config: Config) -> None:
    writer = SessionWriter(tmp_path, classic, config, "person")
    app = DriveApp(config, classic, writer=writer)
    for _step in range(80):  # straight on until past the first checkpoint
        app.step()
    app.held[STEER_LEFT] = True
    while app.world.state.driving[0]:
        app.step()
    crashed_at = float(app.world.state.progress_m[0])
    recorded = writer.frame_count
    app.shell.press(pygame.K_r)
    state = app.world.state
    assert state.driving[0] and not state.crashed[0]
    assert float(state.progress_m[0]) == pytest.approx(last_checkpoint_progress(classic, crashed_at))
    assert 0 < float(state.progress_m[0]) <= crashed_at
    app.held[STEER_LEFT] = False
    for _step in range(5):
        app.step()
    writer.close()
    assert load_session(writer.folder).frame_count == recorded + 5
    assert last_checkpoint_progress(classic, -3.0) == 0.0
    gates = classic.checkpoint_arcs_m
    assert last_checkpoint_progress(classic, classic.length_m + gates[2] + 1) == pytest.approx(
        classic.length_m + gates[2]
    )


def test_the_person_takes_over_from_the_model_and_gives_control_back(
    tmp_path: Path, classic: Track, config: Config, cloned_models
) -> None:
    writer = SessionWriter(tmp_path, classic, config, "model")
    app = DriveApp(config, classic, writer=writer, model=load_model(cloned_models["plain"]))
    for _step in range(10):
        app.step()
    app.held[STEER_RIGHT] = True
    for _step in range(2):
        app.step()
    app.held[STEER_RIGHT] = False
    for _step in range(30):
        app.step()
    writer.close()
    session = load_session(writer.folder)
    drivers = session.drivers.tolist()
    hold_steps = round(1.0 / config.physics.dt_s)
    assert drivers == ["model"] * 10 + ["person"] * (2 + hold_steps) + ["model"] * (30 - hold_steps)
    assert session.actions[10:12].tolist() == [STEER_RIGHT, STEER_RIGHT]
    assert set(session.actions[12 : 12 + hold_steps].tolist()) == {STRAIGHT}


def test_keys_to_action() -> None:
    assert keys_to_action(False, False) == STRAIGHT
    assert keys_to_action(True, False) == STEER_LEFT
    assert keys_to_action(False, True) == STEER_RIGHT
    assert keys_to_action(True, True) == STRAIGHT


def test_a_killed_recording_still_loads(tmp_path: Path) -> None:
    environment = dict(os.environ, SDL_VIDEODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    command = [
        sys.executable,
        "-m",
        "neurocar",
        "drive",
        "--autopilot",
        "--record",
        str(tmp_path),
        "--frames",
        "1000000",
    ]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        rows = 0
        while rows < 50 and time.monotonic() < deadline and process.poll() is None:
            frames = list(tmp_path.glob(f"session-*/{FRAMES_FILE}"))
            rows = len(frames[0].read_text(encoding="utf-8").splitlines()) - 1 if frames else 0
            time.sleep(0.05)  # polling the file the other process writes
        assert rows >= 50, "the drive process did not record in time"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    (session_folder,) = find_sessions([tmp_path])
    session = load_session(session_folder)
    assert session.frame_count >= rows - 1
    assert session.steps.tolist() == list(range(1, session.frame_count + 1))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--track", "nowhere.yaml"],
            "nowhere.yaml: track file not found (see `neurocar tracks` for the shipped ones)",
        ),
        (
            ["--model", "missing.pt"],
            "--model missing.pt: model file not found (the shipped general driver is --model driver)",
        ),
        (["--frames", "0"], "--frames 0: must be at least 1"),
        (["--screenshot", "shot.jpg"], "--screenshot shot.jpg: give a file name ending in .png"),
        (["--autopilot", "--driver", "Ada"], "--driver names the person driving; drop it with --autopilot or --model"),
    ],
)
def test_bad_drive_input_fails_before_the_window(run_cli, arguments: list[str], message: str) -> None:
    result = run_cli("drive", *arguments)
    assert result.code == 2
    assert result.err == f"neurocar: error: {message}\n"
    assert not pygame.display.get_init()


def test_record_folder_that_is_a_file_fails_before_the_window(run_cli, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("", encoding="utf-8")
    result = run_cli("drive", "--record", taken)
    assert result.code == 2
    assert result.err == f"neurocar: error: --record {taken}: is a file, not a folder\n"
    assert not pygame.display.get_init()
    result = run_cli("drive", "--autopilot", "--model", "x.pt")
    assert result.code == 2 and "--autopilot and --model both drive the car: choose one" in result.err


def test_the_sensor_panel_names_the_rays_from_left_to_right(classic: Track, config: Config) -> None:
    pygame.font.init()
    texts = TextCache()
    rendered: list[str] = []
    original = texts.render
    texts.render = lambda text, *arguments: rendered.append(text) or original(text, *arguments)
    readings = np.array([0.25, 0.5, 0.75])  # config rays: -45 (right), 0, +45 (left)
    draw_sensors(
        pygame.Surface((360, 200)), pygame.Rect(0, 0, 360, 140), texts, 1.0, config.sensors.angles_deg, readings
    )
    names = [text for text in rendered if text in ("left 45°", "ahead", "right 45°")]
    assert names == ["left 45°", "ahead", "right 45°"]
    values = [text for text in rendered if text[:1].isdigit()]
    assert values == ["0.75", "0.50", "0.25"]
