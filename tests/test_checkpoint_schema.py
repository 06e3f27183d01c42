"""Checkpoints go through their declaration before a resume touches the run folder: every field, the config and
the stored track texts, each problem one line naming the field."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from pathlib import Path

import pytest
import torch

from neurocar.cli import main


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generation of four cars on the oval, with its checkpoint."""
    run = tmp_path_factory.mktemp("checkpoint") / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            ["train", "evolve", "--track", "oval", "--generations", "1", "--population", "4", "--run-dir", str(run),
             "--set", "episode.max_seconds=2"]
        )  # fmt: skip
    assert code == 0
    return run


def text_flip(payload):
    text = payload["tracks"][0]["text"]
    position = text.index("centerline:") + len("centerline:") + 3
    payload["tracks"][0]["text"] = text[:position] + "{" + text[position + 1 :]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda payload: payload.update(target_laps="3"), "target_laps: expected a whole number, got '3'"),
        (lambda payload: payload.update(target_laps=0), "target_laps must be at least 1, got 0"),
        (lambda payload: payload.update(seed=-1), "seed must be at least 0, got -1"),
        (
            lambda payload: payload.update(seed=2**64),
            "seed must be at most 9223372036854775807, got 18446744073709551616",
        ),
        (lambda payload: payload.update(generations=-1), "generations must be at least 0, got -1"),
        (
            lambda payload: payload["state"].update(mutation_scale=float("nan")),
            "state.mutation_scale: expected a finite number, got nan",
        ),
        (
            lambda payload: payload["state"]["population"].fill_(float("inf")),
            "state.population: contains NaN or infinity",
        ),
        (
            lambda payload: payload["state"].update(best_fitness=10**400),
            "state.best_fitness: expected a finite number or -inf, got a number with more than 60 digits",
        ),
        (
            lambda payload: payload["state"].update(best_fitness="x"),
            "state.best_fitness: expected a finite number or -inf, got 'x'",
        ),
        (
            lambda payload: payload["state"]["best_row"].update(best_fitness="high"),
            "state.best_row.'best_fitness': expected a number, got 'high'",
        ),
        (
            lambda payload: payload["random_tracks"].update(count=10**9),
            "random_tracks.count must be at most 1000, got 1000000000",
        ),
        (lambda payload: payload["tracks"][0].update(text=7), "tracks[0].text: expected text, got 7"),
        (
            lambda payload: payload["state"]["generator_state"].update(inc="-5"),
            "state.generator_state.inc: expected a 128-bit number as decimal text, got '-5'",
        ),
        (
            lambda payload: payload["state"]["generator_state"].update(state=str(2**128)),
            f"state.generator_state.state: expected a 128-bit number as decimal text, got '{2**128}'",
        ),
        (
            lambda payload: payload["state"]["generator_state"].update(bit_generator="MT19937"),
            "state.generator_state.bit_generator must be one of PCG64, got 'MT19937'",
        ),
        (
            lambda payload: payload.update(version=1),
            "checkpoint from an older NeuroCar, whose random generator this one no longer has, so the run cannot "
            "continue exactly; start a new run (its best.pt still loads, e.g. with --init)",
        ),
        (lambda payload: payload["config"]["physics"].update(dt_s=0), None),
        (text_flip, None),
    ],
)
def test_a_damaged_checkpoint_is_one_line_and_the_run_is_untouched(small_run, tmp_path, run_cli, damage, message):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    payload = torch.load(run / "checkpoint.pt", weights_only=True)
    damage(payload)
    torch.save(payload, run / "checkpoint.pt")
    before = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in run.iterdir()}
    result = run_cli("train", "evolve", "--resume", run, "--generations", "2")
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    if message is not None:
        assert result.err == f"neurocar: error: {run / 'checkpoint.pt'}: {message}\n"
    assert before == {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in run.iterdir()}


def test_a_corrupted_track_text_names_the_track_and_the_line(small_run, tmp_path, run_cli):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    payload = torch.load(run / "checkpoint.pt", weights_only=True)
    text_flip(payload)
    torch.save(payload, run / "checkpoint.pt")
    result = run_cli("train", "evolve", "--resume", run, "--generations", "2")
    path = payload["tracks"][0]["path"]
    assert result.err.startswith(
        f"neurocar: error: {run / 'checkpoint.pt'}: tracks[0] ({path!r}): not valid YAML at line "
    )


def test_a_config_bound_inside_a_checkpoint(small_run, tmp_path, run_cli):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    payload = torch.load(run / "checkpoint.pt", weights_only=True)
    payload["config"]["physics"]["dt_s"] = 0
    torch.save(payload, run / "checkpoint.pt")
    result = run_cli("train", "evolve", "--resume", run, "--generations", "2")
    assert result.err.endswith(": physics.dt_s must be at least 0.001 s, got 0\n")
    assert f"{run / 'checkpoint.pt'}: config (from " in result.err


def test_an_intact_checkpoint_resumes(small_run, tmp_path, run_cli):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    result = run_cli("train", "evolve", "--resume", run, "--generations", "2")
    assert result.code == 0, result.err
    assert torch.load(run / "checkpoint.pt", weights_only=True)["state"]["generation"] == 2
