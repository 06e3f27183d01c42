"""Fuzzing every loader: broken variants of real files (and bad options) must end with exit 0, or with exactly one
`neurocar: error:` line and exit 2, within a few seconds, without a Python warning, and with every file that was
there before left unchanged.

The cases come from seeded generators (`fuzz_cases.py`); `--fuzz-count N` or `NEUROCAR_FUZZ_COUNT` sets how many
(default 250, in-process through `neurocar.cli.main`); a sample also runs as real processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import fuzz_cases
import pytest
import torch

from neurocar.cli import main
from neurocar.config import load_config
from neurocar.learn.model_file import save_model
from neurocar.learn.policy import build_network, load_vector, network_vector

CASE_SECONDS = 20  # generous: the machine running the tests may be busy; a hang is what this catches
# Share of the cases per loader, roughly as many as each has ways to break.
WEIGHTS = {"config": 3, "set": 2, "track": 3, "model": 3, "recording": 2, "checkpoint": 2, "replay": 2, "cli": 2}
SUBPROCESS_SHARE = 80  # one case in this many also runs as a real process


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per case: `loader-N` for N up to the loader's share of --fuzz-count."""
    if "case_id" not in metafunc.fixturenames:
        return
    count = metafunc.config.getoption("--fuzz-count")
    total = sum(WEIGHTS.values())
    ids = [
        f"{loader}-{index}"
        for loader, weight in WEIGHTS.items()
        for index in range(max(1, round(count * weight / total)))
    ]
    if "in_process" in metafunc.fixturenames:
        metafunc.parametrize("case_id", ids)
    else:
        metafunc.parametrize("case_id", [case for position, case in enumerate(ids) if position % SUBPROCESS_SHARE == 0])


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real files the cases break: a model file and a small evolution run with its checkpoint."""
    folder = tmp_path_factory.mktemp("fuzz-bases")
    config = load_config()
    network = build_network(3, (6,), "sigmoid")
    load_vector(network, torch.randn(len(network_vector(network)), generator=torch.Generator().manual_seed(0)))
    save_model(folder / "model.pt", network, config, {"method": "neuroevolution", "seed": 0})
    run = folder / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            ["train", "evolve", "--track", "oval", "--generations", "1", "--population", "4", "--run-dir", str(run),
             "--set", "episode.max_seconds=2"]
        )  # fmt: skip
    assert code == 0
    return {"model": folder / "model.pt", "run": run}


def build_case(case_id: str, bases: dict[str, Path]) -> fuzz_cases.Case:
    loader, index = case_id.rsplit("-", 1)
    rng = random.Random(f"{loader}:{index}")
    if loader == "config":
        return fuzz_cases.config_case(rng, case_id)
    if loader == "set":
        return fuzz_cases.set_case(rng, case_id)
    if loader == "track":
        return fuzz_cases.track_case(rng, case_id)
    if loader == "model":
        return fuzz_cases.model_case(rng, case_id, bases["model"])
    if loader == "recording":
        return fuzz_cases.recording_case(rng, case_id)
    if loader == "checkpoint":
        return fuzz_cases.checkpoint_case(rng, case_id, bases["run"])
    if loader == "replay":
        return fuzz_cases.replay_case(rng, case_id)
    return fuzz_cases.cli_case(rng, case_id, bases["model"])


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every regular file under `folder` (special files are named, not read)."""
    hashes = {}
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_symlink() or not path.is_file() or not os.access(path, os.R_OK):
            hashes[relative] = "special"
        elif path.stat().st_mode & 0o777 == 0:
            hashes[relative] = "unreadable"
        elif path.suffix != ".fifo":
            try:
                hashes[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                hashes[relative] = "special"
    return hashes


class CaseTimeout(BaseException):
    """A case ran past its time limit (a hang)."""


def check_outcome(case: fuzz_cases.Case, code: int, err: str) -> None:
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("neurocar: error: ")]
    others = [line for line in lines if not line.startswith(("neurocar: error: ", "neurocar: warning: "))]
    assert code in (0, 2, case.verdict_code), f"{case.name} {case.arguments!r}: exit {code}\n{err}"
    assert not others, f"{case.name} {case.arguments!r}: unexpected output\n{err}"
    if code == 2:
        assert len(errors) == 1, f"{case.name} {case.arguments!r}: expected one error line\n{err}"
    else:
        assert not errors, f"{case.name} {case.arguments!r}: exit 0 with an error\n{err}"
    assert "\x1b" not in err and "\r" not in err


def unchanged_files(case: fuzz_cases.Case, code: int, before: dict[str, str], after: dict[str, str]) -> None:
    for relative, digest in before.items():
        if code == 0 and relative.startswith("run/"):
            continue  # a resumed run carries on in its folder
        assert after.get(relative) == digest, f"{case.name} {case.arguments!r}: {relative} changed"


@pytest.fixture
def in_process() -> bool:
    """Marks the in-process variant of the fuzz test."""
    return True


def test_broken_input_in_process(case_id, in_process, bases, tmp_path, monkeypatch) -> None:
    case = build_case(case_id, bases)
    fuzz_cases.create(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    before = file_hashes(tmp_path)

    def timed_out(signum, frame):
        raise CaseTimeout(f"{case.name} {case.arguments!r}: still running after {CASE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, timed_out)
    out, err = io.StringIO(), io.StringIO()
    try:
        signal.alarm(CASE_SECONDS)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(case.arguments)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not [str(warning.message) for warning in caught], f"{case.name} {case.arguments!r}: warnings {caught}"
    check_outcome(case, code, err.getvalue())
    unchanged_files(case, code, before, file_hashes(tmp_path))


def test_broken_input_as_a_process(case_id, bases, tmp_path) -> None:
    case = build_case(case_id, bases)
    fuzz_cases.create(case, tmp_path)
    before = file_hashes(tmp_path)
    environment = {**os.environ, "PYTHONWARNINGS": "default"}
    result = subprocess.run(
        [sys.executable, "-m", "neurocar", *case.arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CASE_SECONDS * 3,
        env=environment,
        stdin=subprocess.DEVNULL,
        errors="replace",
    )
    check_outcome(case, result.returncode, result.stderr)
    unchanged_files(case, result.returncode, before, file_hashes(tmp_path))
