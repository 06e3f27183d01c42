"""Neuroevolution end to end: cars learn the oval, the best is never lost, runs are reproducible and resumable
bit for bit, Ctrl-C keeps everything, and the model a run writes drives its lap again in `neurocar evaluate`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from neurocar.cli import main
from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.model_file import load_model
from neurocar.learn.neuroevolution import Neuroevolution, RunOutcome, run_evolution
from neurocar.learn.problem import DrivingProblem

# Short drives keep these runs fast; the oval is long enough that nobody laps in 15 s.
SHORT = ["--track", "oval", "--population", "12", "--seed", "3", "--set", "episode.max_seconds=15"]


def test_cars_learn_to_lap_the_oval(config, oval):
    evolution = Neuroevolution(config.replace("evolution", population=24), [oval], 0, 1, generations=6)
    outcome = run_evolution(evolution)
    assert outcome is RunOutcome.TARGET_REACHED and evolution.outcome is outcome
    assert int(evolution.history[-1]["best_laps"]) >= 1
    assert evolution.generation <= 6


def test_best_ever_fitness_never_decreases_and_the_best_is_kept(config, classic):
    short = config.replace("episode", max_seconds=10.0).replace("evolution", population=16, elite=2)
    evolution = Neuroevolution(short, [classic], seed=1)
    for _ in range(6):
        before = evolution.population.copy()
        result = evolution.step_generation()
        # Elitism: the generation's best drives again, unchanged, as row 0 of the next one.
        assert np.array_equal(evolution.population[0], before[result.best_index])
        assert result.best_ever_fitness >= result.best_fitness
    best_ever = [float(row["best_ever_fitness"]) for row in evolution.history]
    assert best_ever == sorted(best_ever)
    assert best_ever[-1] == max(float(row["best_fitness"]) for row in evolution.history) == evolution.best_fitness
    # The kept best vector really scores the best fitness when it drives again.
    check = Neuroevolution(short, [classic], seed=1)
    check.population = np.repeat(evolution.best_vector.reshape(1, -1), 16, axis=0)
    assert check.evaluate().best_fitness == pytest.approx(evolution.best_fitness)


def state_dict_of(path):
    return torch.load(path, weights_only=True)["state_dict"]


def assert_same_model(first, second):
    one, other = state_dict_of(first), state_dict_of(second)
    assert one.keys() == other.keys()
    for name in one:
        assert torch.equal(one[name], other[name]), name


def test_same_seed_same_config_identical_log(tmp_path, run_cli):
    for name in ("first", "second"):
        result = run_cli("train", "evolve", *SHORT, "--generations", "3", "--run-dir", tmp_path / name)
        assert result.code == 0, result.err
    log = (tmp_path / "first" / "log.csv").read_bytes()
    assert log == (tmp_path / "second" / "log.csv").read_bytes()
    assert len(log.splitlines()) == 4  # header and one row per generation
    assert_same_model(tmp_path / "first" / "best.pt", tmp_path / "second" / "best.pt")
    different = run_cli("train", "evolve", *SHORT, "--generations", "3", "--seed", "4", "--run-dir", tmp_path / "other")
    assert different.code == 0
    assert (tmp_path / "other" / "log.csv").read_bytes() != log


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    """A 6-generation run without interruption, the reference for the resume tests."""
    folder = tmp_path_factory.mktemp("straight") / "run"
    assert main(["train", "evolve", *SHORT, "--generations", "6", "--run-dir", str(folder)]) == 0
    return folder


def test_resume_is_exact(tmp_path, run_cli, straight_run):
    folder = tmp_path / "run"
    assert run_cli("train", "evolve", *SHORT, "--generations", "3", "--run-dir", folder).code == 0
    resumed = run_cli("train", "evolve", "--resume", folder, "--generations", "6")
    assert resumed.code == 0, resumed.err
    assert "resuming after generation 3" in resumed.out
    assert (folder / "log.csv").read_bytes() == (straight_run / "log.csv").read_bytes()
    assert_same_model(folder / "best.pt", straight_run / "best.pt")
    # Nothing left to do, or settings that would change the run: one-line errors, the run untouched.
    log = (folder / "log.csv").read_bytes()
    done = run_cli("train", "evolve", "--resume", folder, "--generations", "6")
    assert done.code == 2 and done.err == (
        f"neurocar: error: --resume {folder}: the run already has 6 generations; ask for more with --generations N"
        " (N > 6)\n"
    )
    changed = run_cli("train", "evolve", "--resume", folder, "--generations", "8", "--seed", "0")
    assert changed.code == 2 and changed.err == (
        "neurocar: error: --resume continues a run with its own settings; drop --seed (only --generations, "
        "--target-laps and --out can change)\n"
    )
    assert (folder / "log.csv").read_bytes() == log
    evolution = load_checkpoint(folder)
    reference = load_checkpoint(straight_run)
    assert evolution.generation == reference.generation == 6
    assert np.array_equal(evolution.population, reference.population)


def interrupt_at(monkeypatch, generation, at_step):
    """Ctrl-C arrives during simulation step `at_step` of generation `generation` (numbered from 0)."""
    standard = DrivingProblem.step
    drives = {"started": 0}

    def interrupted_step(problem):
        if problem.world.steps == 0:
            drives["started"] += 1
        if drives["started"] == generation + 1 and problem.world.steps == at_step:
            raise KeyboardInterrupt
        return standard(problem)

    monkeypatch.setattr(DrivingProblem, "step", interrupted_step)
    return standard


def test_ctrl_c_saves_best_and_checkpoint_then_resumes_exactly(tmp_path, run_cli, monkeypatch, straight_run):
    standard = interrupt_at(monkeypatch, 1, 25)
    folder = tmp_path / "run"
    result = run_cli("train", "evolve", *SHORT, "--generations", "6", "--run-dir", folder)
    assert result.code == 130
    assert "Traceback" not in result.err
    where = [line for line in result.out.splitlines() if line.startswith("interrupted:")]
    assert len(where) == 1 and str(folder / "best.pt") in where[0] and f"--resume {folder}" in where[0]
    model = load_model(folder / "best.pt")
    assert model.training["generations"] == 1
    evolution = load_checkpoint(folder)
    assert evolution.generation == 1  # the generation that was cut short is not in the checkpoint
    assert len((folder / "log.csv").read_text().splitlines()) == 2

    monkeypatch.setattr(DrivingProblem, "step", standard)
    assert run_cli("train", "evolve", "--resume", folder, "--generations", "6").code == 0
    assert (folder / "log.csv").read_bytes() == (straight_run / "log.csv").read_bytes()
    assert_same_model(folder / "best.pt", straight_run / "best.pt")


def test_the_written_model_drives_its_lap_in_evaluate(tmp_path, run_cli, oval):
    out = tmp_path / "oval.pt"
    trained = run_cli(
        "train", "evolve", "--track", "oval", "--population", "20", "--generations", "8", "--target-laps", "1",
        "--seed", "0", "--out", out, "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert trained.code == 0, trained.err
    assert "reached 1 lap(s)" in trained.out
    assert_same_model(out, tmp_path / "run" / "best.pt")
    result = run_cli("evaluate", "--model", out, "--track", "oval", "--json")
    assert result.code == 0, result.err
    (track,) = json.loads(result.out)["tracks"]
    assert track["laps_completed"] == 1 and track["crashed"] is False
    assert len(track["lap_times_s"]) == 1
    assert track["progress_m"] == pytest.approx(oval.length_m, abs=1e-3)


def test_ctrl_c_in_the_first_generation_can_still_resume(tmp_path, run_cli, monkeypatch, straight_run):
    standard = interrupt_at(monkeypatch, 0, 5)
    folder = tmp_path / "run"
    result = run_cli("train", "evolve", *SHORT, "--generations", "6", "--run-dir", folder)
    assert result.code == 130
    assert (
        f"interrupted: no generation finished yet, so there is no model, resume with: neurocar train evolve "
        f"--resume {folder}" in result.out
    )
    assert not (folder / "best.pt").exists()
    monkeypatch.setattr(DrivingProblem, "step", standard)
    assert run_cli("train", "evolve", "--resume", folder, "--generations", "2").code == 0
    straight_rows = (straight_run / "log.csv").read_text().splitlines()
    assert (folder / "log.csv").read_text().splitlines() == straight_rows[:3]


def test_resume_without_generations_uses_the_runs_own_total(run_cli, tmp_path) -> None:
    folder = tmp_path / "run"
    first = run_cli(
        "train", "evolve", "--track", "oval", "--generations", "3", "--population", "6", "--seed", "1",
        "--run-dir", folder,
    )  # fmt: skip
    assert first.code == 0, first.err
    assert load_checkpoint(folder).generations == 3
    again = run_cli("train", "evolve", "--resume", folder)
    assert again.code == 2
    assert "the run already has 3 generations" in again.err


def test_out_never_replaces_a_file_that_is_not_a_model(run_cli, tmp_path) -> None:
    precious = tmp_path / "notes.pt"
    precious.write_text("my notes", encoding="utf-8")
    result = run_cli(
        "train", "evolve", "--track", "oval", "--generations", "1", "--population", "4", "--out", precious,
        "--run-dir", tmp_path / "run",
    )  # fmt: skip
    assert result.code == 2
    assert result.err.strip().endswith("exists and is not a NeuroCar model; choose another file name (or delete it)")
    assert precious.read_text(encoding="utf-8") == "my notes"
    assert not (tmp_path / "run").exists()


def test_a_run_steps_one_simulation_step_or_one_generation_at_a_time(config, oval):
    short = config.replace("episode", max_seconds=3.0).replace("evolution", population=8, elite=2)
    by_step = Neuroevolution(short, [oval], 5, generations=2)
    steps = 0
    results = []
    while by_step.outcome is None:
        result = by_step.step()
        steps += 1
        if result is not None:
            results.append(result)
            assert by_step.generation == result.generation
    assert [result.generation for result in results] == [1, 2]
    assert steps > 2 * 10  # many simulation steps per generation, each its own call
    assert by_step.outcome is RunOutcome.FINISHED
    with pytest.raises(RuntimeError, match="the run has ended"):
        by_step.step()
    by_generation = Neuroevolution(short, [oval], 5, generations=2)
    assert run_evolution(by_generation) is RunOutcome.FINISHED
    assert by_generation.history == by_step.history
    assert np.array_equal(by_generation.population, by_step.population)
    # The history holds numbers; only the CSV log formats them.
    assert all(isinstance(value, (int, float)) for value in by_step.history[0].values())


def test_the_problem_scores_a_population_on_its_own(config, oval, classic):
    short = config.replace("episode", max_seconds=3.0)
    problem = DrivingProblem(short)
    population = np.zeros(
        (4, problem.parameter_count), dtype=np.float32
    )  # four identical networks (always the same action)
    evaluation = problem.evaluate(population, [oval, classic])
    assert problem.world.car_count == 8 and evaluation.fitness.shape == (4,)
    assert len(set(evaluation.fitness.tolist())) == 1  # identical networks, identical scores
    one = DrivingProblem(short).evaluate(population[:1], [oval])
    other = DrivingProblem(short).evaluate(population[:1], [classic])
    assert evaluation.terms["progress"][0] == pytest.approx((one.terms["progress"][0] + other.terms["progress"][0]) / 2)


def test_stopping_a_run_is_a_value_not_an_exception(config, oval):
    evolution = Neuroevolution(config.replace("evolution", population=4, elite=1), [oval], 0, generations=5)
    for _ in range(10):
        assert evolution.step() is None
    evolution.stop(RunOutcome.CLOSED)
    assert evolution.outcome is RunOutcome.CLOSED and evolution.generation == 0
    assert evolution.state_dict()["generation"] == 0  # the cut-short drive is not part of the saved state


def test_a_checkpoint_from_before_the_reinforcement_section_resumes(tmp_path, run_cli) -> None:
    folder = tmp_path / "run"
    first = run_cli(
        "train", "evolve", "--track", "oval", "--generations", "2", "--population", "6", "--seed", "1",
        "--run-dir", folder,
    )  # fmt: skip
    assert first.code == 0, first.err
    checkpoint = folder / "checkpoint.pt"
    payload = torch.load(checkpoint, weights_only=True)
    del payload["config"]["reinforcement"]
    torch.save(payload, checkpoint)
    resumed = run_cli("train", "evolve", "--resume", folder, "--generations", "3")
    assert resumed.code == 0, resumed.err
    assert load_checkpoint(folder).generation == 3
