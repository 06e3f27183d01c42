"""Behaviour cloning: data preparation (drivers, split, mirror, weights), the training loop, and the CLI command."""

from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from recording_cases import BROKEN_SESSIONS, RECORDINGS

from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import load_model, save_model
from neurocar.learn.policy import build_network
from neurocar.learn.recording import Session
from neurocar.learn.supervised import (
    class_weights,
    confusion_matrix,
    initialize_network,
    mirror_frames,
    mirror_permutation,
    prepare_data,
    train_supervised,
    validation_mask,
)
from neurocar.sim.car import STEER_LEFT, STEER_RIGHT, STRAIGHT


def make_session(
    config: Config, observations: np.ndarray, actions: np.ndarray, drivers: list[str], path="s"
) -> Session:
    """An in-memory session with the given frames."""
    count = len(actions)
    return Session(
        path=path,
        track_name="Classic",
        sensors=config.sensors,
        dt_s=config.physics.dt_s,
        meta={},
        steps=np.arange(1, count + 1),
        time_s=np.arange(1, count + 1) * 0.05,
        observations=np.asarray(observations, dtype=np.float64),
        actions=np.asarray(actions, dtype=np.int64),
        poses=np.zeros((count, 3)),
        progress_m=np.zeros(count),
        laps=np.zeros(count, dtype=np.int64),
        drivers=np.asarray(drivers),
    )


def steering_session(config: Config, count: int, seed: int, path: str = "s") -> Session:
    """Frames with a learnable rule: steer away from the nearer side wall, straight when both are far."""
    rng = np.random.default_rng(seed)
    observations = rng.uniform(0, 1, (count, 3))
    right_ray, left_ray = observations[:, 0], observations[:, 2]
    actions = np.where(left_ray - right_ray > 0.2, STEER_LEFT, np.where(right_ray - left_ray > 0.2, STEER_RIGHT, 1))
    return make_session(config, observations, actions, ["person"] * count, path)


def test_mirror_swaps_opposite_sensors_and_left_with_right() -> None:
    permutation = mirror_permutation((-45.0, 0.0, 45.0))
    assert permutation.tolist() == [2, 1, 0]
    observations = np.array([[0.1, 0.5, 0.9], [0.3, 0.2, 0.7]])
    mirrored, actions = mirror_frames(observations, np.array([STEER_LEFT, STRAIGHT]), permutation)
    assert mirrored.tolist() == [[0.9, 0.5, 0.1], [0.7, 0.2, 0.3]]
    assert actions.tolist() == [STEER_RIGHT, STRAIGHT]
    assert mirror_permutation((30.0, -60.0, 60.0, -30.0)).tolist() == [3, 2, 1, 0]
    with pytest.raises(NeuroCarError, match=r"--mirror: the sensor angles \[-45.0, 0.0, 30.0\] are not symmetric"):
        mirror_permutation((-45.0, 0.0, 30.0))


def test_validation_holds_out_whole_sessions_or_contiguous_blocks() -> None:
    session_ids = np.repeat(np.arange(5), 10)
    held_out, by_session = validation_mask(session_ids, 0.2, torch.Generator().manual_seed(3))
    assert by_session and len(set(session_ids[held_out].tolist())) == 1 and held_out.sum() == 10
    single, by_session = validation_mask(np.zeros(100, dtype=np.int64), 0.2, torch.Generator().manual_seed(3))
    assert not by_session and single.sum() == 20
    # Two blocks of ten neighbouring frames each, not scattered frames.
    starts = np.nonzero(np.diff(single.astype(int)) == 1)[0] + 1
    assert all(start % 10 == 0 for start in starts.tolist())
    again, _ = validation_mask(np.zeros(100, dtype=np.int64), 0.2, torch.Generator().manual_seed(3))
    assert np.array_equal(single, again)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_uneven_sessions_never_hold_out_most_of_the_data(seed: int) -> None:
    # One long and one short session: holding out either whole would leave too little or far too much.
    session_ids = np.repeat([0, 1], [10_000, 3_000])
    held_out, by_session = validation_mask(session_ids, 0.2, torch.Generator().manual_seed(seed))
    assert 0.1 * len(session_ids) <= held_out.sum() <= 0.4 * len(session_ids)
    assert by_session == (held_out.sum() == 3_000)


def test_model_frames_are_left_out_and_mirroring_doubles_both_sides(config: Config) -> None:
    observations = np.tile([[0.2, 0.5, 0.8]], (20, 1))
    drivers = ["person"] * 8 + ["model"] * 8 + ["autopilot"] * 4
    actions = np.array([STEER_LEFT] * 10 + [STRAIGHT] * 10)
    data = prepare_data([make_session(config, observations, actions, drivers)], 0.25, torch.Generator(), mirror=True)
    assert data.frames_used == 12 and data.frames_by_driver == {"person": 8, "autopilot": 4}
    assert len(data.train) + len(data.validation) == 24
    assert (data.train.actions == STEER_RIGHT).sum() == (data.train.actions == STEER_LEFT).sum()
    only_model = make_session(config, observations, actions, ["model"] * 20, "tests/only-model")
    with pytest.raises(NeuroCarError, match="tests/only-model: no frames driven by person or autopilot"):
        prepare_data([only_model], 0.2, torch.Generator())


def test_class_weights_balance_the_actions() -> None:
    weights = class_weights(torch.tensor([1] * 8 + [0] * 2))
    assert weights.tolist() == pytest.approx([2.5, 0.625, 0.0])
    counts = torch.tensor([2, 8, 0], dtype=torch.float32)
    assert float((weights * counts)[0]) == pytest.approx(float((weights * counts)[1]))


def test_training_learns_a_rule_and_is_deterministic(config: Config) -> None:
    sessions = [steering_session(config, 600, seed, f"s{seed}") for seed in range(3)]
    results = []
    for _run in range(2):
        generator = torch.Generator().manual_seed(7)
        data = prepare_data(sessions, 0.34, generator)
        network = build_network(3, (6,), "sigmoid")
        initialize_network(network, generator)
        outcome = train_supervised(network, data, config.supervised, 150, generator)
        results.append((network, outcome, data))
    (network, outcome, data), (other, _, _) = results
    for first, second in zip(network.parameters(), other.parameters(), strict=True):
        assert torch.equal(first, second)
    assert outcome.best.validation_accuracy > 0.9
    assert outcome.best.validation_loss == min(result.validation_loss for result in outcome.history)
    matrix = confusion_matrix(network, data.validation)
    assert matrix.sum() == len(data.validation) and np.trace(matrix) / matrix.sum() > 0.9


def test_early_stopping_restores_the_best_epoch(config: Config) -> None:
    # Labels unrelated to the inputs: the validation loss stops improving early.
    rng = np.random.default_rng(1)
    sessions = [
        make_session(config, rng.uniform(0, 1, (200, 3)), rng.integers(0, 3, 200), ["person"] * 200, f"n{index}")
        for index in range(4)
    ]
    generator = torch.Generator().manual_seed(0)
    data = prepare_data(sessions, 0.25, generator)
    network = build_network(3, (6,), "sigmoid")
    initialize_network(network, generator)
    settings = dataclasses.replace(config.supervised, patience=5)
    outcome = train_supervised(network, data, settings, 300, generator)
    assert outcome.stopped_early and len(outcome.history) == outcome.best_epoch + 5
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(
            network(data.validation.observations), data.validation.actions, weight=class_weights(data.train.actions)
        )
    assert float(loss) == pytest.approx(outcome.best.validation_loss, rel=1e-5)


def test_train_supervised_command_writes_the_run_and_the_model(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "train", "supervised", "--data", RECORDINGS / "good", "--epochs", "5", "--seed", "2",
        "--run-dir", tmp_path / "run", "--out", tmp_path / "model.pt",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "confusion matrix (validation frames):" in result.out
    assert "training actions: left" in result.out
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open(encoding="utf-8")))
    assert [row["epoch"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert set(rows[0]) == {"epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy"}
    assert (tmp_path / "run" / "loss.png").read_bytes().startswith(b"\x89PNG")
    model = load_model(tmp_path / "model.pt")
    training = model.training
    assert training["method"] == "supervised" and training["seed"] == 2
    assert training["data_sessions"] == ["tests/fixtures/recordings/good/session-20261126-190000"]
    assert training["frames"]["total"] == 4 and training["frames"]["by_driver"] == {"person": 4, "autopilot": 0}
    assert set(training["metrics"]) == {"train_loss", "train_accuracy", "validation_loss", "validation_accuracy"}
    assert load_model(tmp_path / "run" / "best.pt").training == training


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        *BROKEN_SESSIONS,
        (
            "other_sensors",
            "tests/fixtures/recordings/other_sensors: recorded with sensors angles_deg [-60, -30, 0, 30, 60], "
            "range_m 40, but the policy (config sensors) uses angles_deg [-45, 0, 45], range_m 40; train on "
            "recordings made with the same sensors (or leave this session out)",
        ),
        (
            "no_sessions",
            "--data tests/fixtures/recordings/no_sessions: no recording sessions in this folder (record one with: "
            "neurocar drive --record tests/fixtures/recordings/no_sessions)",
        ),
    ],
)
def test_bad_recordings_end_with_one_line_and_exit_2(run_cli, tmp_path: Path, folder: str, message: str) -> None:
    result = run_cli("train", "supervised", "--data", RECORDINGS / folder, "--run-dir", tmp_path / "run")
    assert result.code == 2
    assert result.err == f"neurocar: error: {message}\n"
    assert not (tmp_path / "run").exists()


def test_a_damaged_last_line_warns_and_trains_on_the_rest(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "train", "supervised", "--data", RECORDINGS / "damaged_last_line", "--epochs", "2",
        "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 0
    assert result.err == (
        "neurocar: warning: tests/fixtures/recordings/damaged_last_line/frames.csv line 6: damaged last line "
        "ignored (expected 12 columns, found 4)\n"
    )
    assert "4 of 4 frames" in result.out


def test_init_with_another_architecture_or_sensors_is_refused(run_cli, tmp_path: Path, config: Config) -> None:
    small = config.replace("policy", hidden_sizes=(4,))
    save_model(tmp_path / "small.pt", build_network(3, (4,), "sigmoid"), small, {"method": "test"})
    result = run_cli(
        "train", "supervised", "--data", RECORDINGS / "good", "--init", tmp_path / "small.pt",
        "--set", "policy.hidden_sizes=[6]", "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 2
    assert result.err == (
        f"neurocar: error: {tmp_path / 'small.pt'}: does not match the requested settings: policy.hidden_sizes is "
        "[6], the model has [4] (drop those settings to run the model with its own)\n"
    )
    wide = config.replace("sensors", angles_deg=(-60.0, -30.0, 0.0, 30.0, 60.0))
    save_model(tmp_path / "wide.pt", build_network(5, (6,), "sigmoid"), wide, {"method": "test"})
    result = run_cli(
        "train", "supervised", "--data", RECORDINGS / "good", "--init", tmp_path / "wide.pt",
        "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 2
    assert result.err == (
        "neurocar: error: tests/fixtures/recordings/good/session-20261126-190000: recorded with sensors angles_deg "
        f"[-45, 0, 45], range_m 40, but the model {tmp_path / 'wide.pt'} uses angles_deg [-60, -30, 0, 30, 60], "
        "range_m 40; train on recordings made with the same sensors (or leave this session out)\n"
    )
    assert not (tmp_path / "run").exists()


def test_init_fine_tunes_the_given_model(run_cli, tmp_path: Path, config: Config) -> None:
    network = build_network(3, (6,), "sigmoid")
    initialize_network(network, torch.Generator().manual_seed(5))
    save_model(tmp_path / "start.pt", network, config, {"method": "test"})
    result = run_cli(
        "train", "supervised", "--data", RECORDINGS / "good", "--init", tmp_path / "start.pt", "--epochs", "1",
        "--run-dir", tmp_path / "run", "--out", tmp_path / "tuned.pt",
    )  # fmt: skip
    assert result.code == 0, result.err
    tuned = load_model(tmp_path / "tuned.pt")
    assert tuned.training["init"] == str(tmp_path / "start.pt")
    start = torch.nn.utils.parameters_to_vector(network.parameters()).detach()
    moved = torch.nn.utils.parameters_to_vector(tuned.network.parameters()).detach() - start
    # One epoch of Adam moves every weight by about the learning rate, not from a fresh start.
    assert 0 < float(moved.abs().max()) <= 2 * config.supervised.learning_rate


def test_training_imports_pygame_only_to_draw_the_loss_chart() -> None:
    code = (
        "import sys\n"
        "import neurocar.chart\n"
        "from neurocar.cli import main\n"
        "before = []\n"
        "original = neurocar.chart.load_pygame\n"
        "def load_pygame():\n"
        "    before.append('pygame' in sys.modules)\n"
        "    return original()\n"
        "neurocar.chart.load_pygame = load_pygame\n"
        f"code = main(['train', 'supervised', '--data', {str(RECORDINGS / 'good')!r}, '--epochs', '1',"
        " '--run-dir', sys.argv[1]])\n"
        "assert code == 0 and before and before[0] is False, (code, before)\n"
        "assert not sys.modules['pygame'].display.get_init()\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-c", code, str(Path(folder) / "run")], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert (Path(folder) / "run" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evolve_init_with_another_architecture_is_refused(run_cli, tmp_path: Path, config: Config) -> None:
    small = config.replace("policy", hidden_sizes=(4,))
    save_model(tmp_path / "small.pt", build_network(3, (4,), "sigmoid"), small, {"method": "test"})
    result = run_cli(
        "train", "evolve", "--init", tmp_path / "small.pt", "--set", "policy.hidden_sizes=[6]",
        "--generations", "1", "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 2
    assert result.err == (
        f"neurocar: error: {tmp_path / 'small.pt'}: does not match the requested settings: policy.hidden_sizes is "
        "[6], the model has [4] (drop those settings to run the model with its own)\n"
    )
    assert not (tmp_path / "run").exists()


def test_a_learning_rate_that_blows_up_stops_and_keeps_the_last_finite_best(config: Config) -> None:
    sessions = [steering_session(config, 300, seed, f"s{seed}") for seed in range(2)]
    generator = torch.Generator().manual_seed(3)
    data = prepare_data(sessions, 0.5, generator)
    network = build_network(3, (6,), "sigmoid")
    initialize_network(network, generator)
    settings = dataclasses.replace(config.supervised, learning_rate=1e37)
    outcome = train_supervised(network, data, settings, 50, generator)
    assert outcome.diverged_epoch >= 1 and len(outcome.history) == outcome.diverged_epoch - 1
    assert all(bool(torch.isfinite(parameter).all()) for parameter in network.parameters())


def test_the_command_refuses_to_save_a_diverged_model(run_cli, tmp_path: Path, monkeypatch) -> None:
    from neurocar.commands import supervised as command

    original = command.train_supervised

    def too_fast(network, data, settings, epochs, generator, on_epoch=None):
        # What a learning rate that blows up does, made certain: after epoch 2 a weight is no longer finite.
        def poison(result):
            if on_epoch is not None:
                on_epoch(result)
            if result.epoch == 2:
                with torch.no_grad():
                    next(network.parameters()).fill_(float("nan"))

        return original(network, data, settings, epochs, generator, poison)

    monkeypatch.setattr(command, "train_supervised", too_fast)
    out = tmp_path / "model.pt"
    result = run_cli("train", "supervised", "--data", RECORDINGS / "good", "--run-dir", tmp_path / "run", "--out", out)
    assert result.code == 2 and result.err.count("\n") == 1
    assert "neurocar: error: training diverged in epoch 3 " in result.err
    assert "kept the best model, from epoch " in result.err
    assert "lower supervised.learning_rate (now 0.05)" in result.err
    for path in (out, tmp_path / "run" / "best.pt"):
        assert path.exists()  # the finite best from before the divergence is kept, never a NaN one
        if path.exists():
            assert all(bool(torch.isfinite(tensor).all()) for tensor in torch.load(path)["state_dict"].values())
