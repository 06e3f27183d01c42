"""Nothing is lost: real processes stopped by real signals save loadable files, a run folder has one writer at a
time, S saves in the sim window, and recordings that fail or break never block training on the good ones."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pygame
import pytest
from checkout import PROJECT_ROOT

from neurocar.commands.common import load_tracks
from neurocar.commands.windowed import _run_files
from neurocar.config import load_config
from neurocar.errors import NeuroCarError
from neurocar.learn import recording
from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.model_file import load_model
from neurocar.learn.recording import SessionWriter, load_sessions
from neurocar.learn.run_directory import LOCK_FILE, RunLock, claim_run_directory
from neurocar.ui.sim_app import SimApp

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

GOOD_SESSION = PROJECT_ROOT / "tests" / "fixtures" / "recordings" / "good" / "session-20261126-190000"
WAIT_S = 90  # an upper bound for a loaded machine, not a timing: every wait ends as soon as its condition holds
# A run that never ends by itself: many generations, small ones.
ENDLESS_EVOLUTION = [
    "train", "evolve", "--track", "oval", "--population", "6", "--generations", "100000", "--set",
    "episode.max_seconds=3", "--run-dir", "run",
]  # fmt: skip


def start(arguments: list[str], folder: Path, **environment: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "neurocar", *arguments],
        cwd=folder,
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_rows(log: Path, rows: int, process: subprocess.Popen) -> None:
    """Wait until the run's log.csv holds `rows` data rows (the process must still be running)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if log.exists() and len(log.read_text(encoding="utf-8").strip().splitlines()) > rows:
            return
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"{log} never reached {rows} rows")


def stop(process: subprocess.Popen, number: int) -> tuple[int, str, str]:
    process.send_signal(number)
    out, err = process.communicate(timeout=WAIT_S)
    return process.returncode, out, err


@pytest.mark.parametrize(
    ("signal_name", "code"), [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)], ids=["term", "hup", "ctrl-c"]
)
def test_a_stopped_evolution_saves_and_resumes(signal_name, code, tmp_path):
    process = start(ENDLESS_EVOLUTION, tmp_path)
    wait_for_rows(tmp_path / "run" / "log.csv", 2, process)
    returncode, out, err = stop(process, getattr(signal, signal_name))
    assert returncode == code, err
    assert "best model saved to run/best.pt, resume with: neurocar train evolve --resume run" in out
    assert "Traceback" not in err
    model = load_model(tmp_path / "run" / "best.pt")
    evolution = load_checkpoint(tmp_path / "run")
    assert evolution.generation >= 1 and model.training["method"] == "neuroevolution"
    assert not (tmp_path / "run" / LOCK_FILE).exists()


def test_a_stopped_supervised_training_saves(tmp_path):
    arguments = [
        "train", "supervised", "--data", str(GOOD_SESSION), "--epochs", "100000", "--set",
        "supervised.patience=100000", "--run-dir", "run", "--out", "cloned.pt",
    ]  # fmt: skip
    process = start(arguments, tmp_path)
    wait_for_rows(tmp_path / "run" / "log.csv", 2, process)
    returncode, out, err = stop(process, signal.SIGTERM)
    assert returncode == 143, err
    assert "interrupted after" in out and "run folder run; model run/best.pt and cloned.pt" in out
    assert load_model(tmp_path / "run" / "best.pt").training["method"] == "supervised"
    assert load_model(tmp_path / "cloned.pt").training["method"] == "supervised"


def test_sigterm_in_the_sim_window_saves_like_closing_it(tmp_path):
    arguments = ["sim", "--track", "oval", "--population", "6", "--set", "episode.max_seconds=3", "--speed", "max"]
    process = start([*arguments, "--run-dir", "run"], tmp_path, SDL_VIDEODRIVER="dummy")
    wait_for_rows(tmp_path / "run" / "log.csv", 2, process)
    returncode, out, err = stop(process, signal.SIGTERM)
    assert returncode == 143, err
    assert "best model saved to run/best.pt" in out
    load_model(tmp_path / "run" / "best.pt")
    assert load_checkpoint(tmp_path / "run").generation >= 1


def test_a_run_folder_has_one_writer(tmp_path):
    first = start(ENDLESS_EVOLUTION, tmp_path)
    try:
        wait_for_rows(tmp_path / "run" / "log.csv", 1, first)
        assert (tmp_path / "run" / LOCK_FILE).read_text(encoding="ascii").strip() == str(first.pid)
        for arguments in (["train", "evolve", "--resume", "run", "--generations", "100000"], ENDLESS_EVOLUTION):
            second = subprocess.run(
                [sys.executable, "-m", "neurocar", *arguments], cwd=tmp_path, capture_output=True, text=True
            )
            assert second.returncode == 2
            assert second.stderr == (
                f"neurocar: error: run: another neurocar run is writing this folder (process {first.pid}); "
                "wait for it to finish or stop it, or choose another folder\n"
            )
        supervised = subprocess.run(
            [sys.executable, "-m", "neurocar", "train", "supervised", "--data", str(GOOD_SESSION), "--run-dir", "run"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert supervised.returncode == 2 and "another neurocar run is writing this folder" in supervised.stderr
    finally:
        first.kill()  # SIGKILL: no clean-up, the lock file stays behind
        first.communicate()
    assert (tmp_path / "run" / LOCK_FILE).exists()
    # The dead process holds no lock, so its folder can be resumed.
    evolution = load_checkpoint(tmp_path / "run")
    done = evolution.generation
    resumed = subprocess.run(
        [sys.executable, "-m", "neurocar", "train", "evolve", "--resume", "run", "--generations", str(done + 1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(tmp_path / "run").generation == done + 1
    assert not (tmp_path / "run" / LOCK_FILE).exists()


def test_a_lock_refuses_a_second_holder_and_is_released(tmp_path):
    with RunLock(tmp_path), pytest.raises(NeuroCarError, match="another neurocar run is writing this folder"):
        RunLock(tmp_path)
    assert list(tmp_path.iterdir()) == []
    with RunLock(tmp_path):
        pass


def test_claiming_a_folder_that_holds_files_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "log.csv").write_text("old", encoding="utf-8")
    with pytest.raises(NeuroCarError, match="already holds files"):
        claim_run_directory(tmp_path / "run", "evolve")
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["log.csv"]
    folder, lock = claim_run_directory(tmp_path / "new", "evolve")
    with lock:
        assert (folder / LOCK_FILE).exists()


@pytest.mark.parametrize("with_run_dir", [True, False], ids=["run-dir", "models"])
def test_s_saves_in_the_sim_window(with_run_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.chdir(tmp_path)
    config = load_config(None, ["evolution.population=4", "evolution.elite=1", "episode.max_seconds=2"])
    track = load_tracks(["oval"], config)[0]
    run_files = None
    if with_run_dir:
        folder, lock = claim_run_directory(tmp_path / "run", "sim")
        run_files = _run_files(folder, lock)
    app = SimApp(config, track, seed=5, run_files=run_files, speed=math.inf, max_frames=100_000)
    saved: list[Path | None] = []

    def press_s_then_quit(current: SimApp) -> None:
        if current.evolution.generation >= 1 and not saved:
            saved.append(current.save_best_by_key())
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.save_best_by_key = lambda: (app.shell.press(pygame.K_s), app.last_saved)[1]
    app.shell.before_frame = lambda: press_s_then_quit(app)
    app.run()
    (path,) = saved
    assert path is not None and path.exists()
    assert load_model(path).training["method"] == "neuroevolution"
    if with_run_dir:
        assert path == tmp_path / "run" / "best.pt"
        assert load_checkpoint(tmp_path / "run").generation >= 1
    else:
        assert path.parent == Path("models")


def test_a_recording_that_cannot_start_leaves_nothing(tmp_path, monkeypatch, config, oval):
    def full_disk(path, text):
        raise NeuroCarError(f"{path}: cannot write (No space left on device)")

    monkeypatch.setattr(recording, "atomic_write_text", full_disk)
    with pytest.raises(NeuroCarError, match="No space left on device"):
        SessionWriter(tmp_path / "recordings", oval, config, "person")
    assert list((tmp_path / "recordings").iterdir()) == []


def test_damaged_sessions_are_named_and_skipped(tmp_path, capsys):
    import shutil

    folder = tmp_path / "recordings"
    shutil.copytree(GOOD_SESSION, folder / GOOD_SESSION.name)
    (folder / "session-20261127-090000").mkdir()  # a recording that crashed before anything was written
    damaged = folder / "session-20261127-100000"
    shutil.copytree(GOOD_SESSION, damaged)
    (damaged / "frames.csv").write_text("not,a,header\n", encoding="utf-8")
    sessions = load_sessions([folder])
    assert [Path(session.path).name for session in sessions] == [GOOD_SESSION.name]
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 2
    assert all(line.startswith("neurocar: warning: ") and line.endswith("; skipped") for line in warnings)
    assert "session-20261127-090000" in warnings[0] and "session-20261127-100000" in warnings[1]


def test_a_folder_without_a_usable_session_is_still_an_error(tmp_path, run_cli):
    (tmp_path / "recordings" / "session-20261127-090000").mkdir(parents=True)
    result = run_cli("train", "supervised", "--data", tmp_path / "recordings", "--run-dir", tmp_path / "run")
    assert result.code == 2
    error_lines = [line for line in result.err.splitlines() if line.startswith("neurocar: error: ")]
    assert len(error_lines) == 1 and "no usable recording session (1 skipped" in error_lines[0]
    assert not (tmp_path / "run").exists()


def test_a_session_named_on_its_own_must_load(tmp_path, run_cli):
    (tmp_path / "session-20261127-090000").mkdir()
    result = run_cli("train", "supervised", "--data", tmp_path / "session-20261127-090000")
    assert result.code == 2 and "empty session folder" in result.err


def test_sigterm_while_driving_keeps_the_recording(tmp_path):
    arguments = ["drive", "--autopilot", "--track", "oval", "--record", "recordings", "--speed", "4"]
    process = start(arguments, tmp_path, SDL_VIDEODRIVER="dummy")
    deadline = time.monotonic() + WAIT_S
    frames: list[Path] = []
    while time.monotonic() < deadline and not frames:
        assert process.poll() is None, process.communicate()
        frames = [path for path in tmp_path.glob("recordings/*/frames.csv") if path.stat().st_size > 200]
        time.sleep(0.05)
    assert frames, "the recording never started"
    returncode, out, err = stop(process, signal.SIGTERM)
    assert returncode == 143, err
    (session,) = load_sessions([tmp_path / "recordings"])
    assert session.frame_count >= 2
    assert f"recorded {session.frame_count} frames to recordings/session-" in out
