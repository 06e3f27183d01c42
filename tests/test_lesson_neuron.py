"""The lesson's first neuron: the update rule's exact numbers, the 1/x and 2/x thresholds, and `neurocar lesson
neuron` headless (it prints every step and never loads pygame)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from neurocar.learn.lesson_neuron import Neuron, behaviour, random_start_weight, run_neuron, thresholds

START = 0.37725023281877074


def test_one_step_at_rate_0_1_gives_the_value_of_the_lesson():
    neuron = run_neuron(6.0, 1.5, START, 0.1, 1)
    assert neuron.history[0].output == pytest.approx(6 * START, rel=1e-15)
    assert neuron.history[1].output == pytest.approx(1.80540055876505, rel=1e-14)


def test_the_rule_subtracts_the_error_not_the_error_times_x():
    neuron = Neuron(6.0, 1.5, START, 0.1)
    error = neuron.history[0].error
    row = neuron.step()
    assert row.weight == pytest.approx(START - 0.1 * error, rel=1e-15)
    assert row.error == pytest.approx(error * (1 - 0.1 * 6.0), rel=1e-12)


@pytest.mark.parametrize("start", np.linspace(0.0, 0.5, 26))
def test_a_hundred_small_steps_bring_y_within_0_004_of_the_target(start):
    neuron = run_neuron(6.0, 1.5, float(start), 0.01, 100)
    assert len(neuron.history) == 101
    assert abs(neuron.history[-1].output - 1.5) < 0.004
    assert neuron.history[-1].weight == pytest.approx(0.25, abs=0.001)


def test_rate_0_4_diverges_and_is_reported_so():
    neuron = run_neuron(6.0, 1.5, 0.2, 0.4, 30)
    errors = [abs(row.error) for row in neuron.history]
    assert all(later > earlier for earlier, later in itertools.pairwise(errors))
    assert neuron.behaviour() == "diverges"
    assert not neuron.converged()


def test_thresholds_are_one_and_two_over_x():
    overshoot, diverge = thresholds(6.0)
    assert (overshoot, diverge) == (pytest.approx(1 / 6), pytest.approx(2 / 6))
    assert behaviour(6.0, 0.1) == "converges"
    assert behaviour(6.0, 0.2) == "oscillates"  # above 1/6: past the target every step, but shrinking
    assert behaviour(6.0, 2 / 6) == "stays"
    assert behaviour(6.0, 0.34) == "diverges"
    signs = [np.sign(row.error) for row in run_neuron(6.0, 1.5, 0.0, 0.2, 6).history]
    assert all(a == -b for a, b in itertools.pairwise(signs))  # overshoots: the error flips sign


def test_a_diverging_run_stops_before_its_numbers_overflow():
    neuron = run_neuron(6.0, 1.5, 0.3, 1.0, 5000)
    assert neuron.blown_up and len(neuron.history) < 100
    assert all(np.isfinite([row.output for row in neuron.history]))


def test_the_random_start_is_in_range_and_follows_the_seed():
    values = [random_start_weight(seed) for seed in range(20)]
    assert all(0.0 <= value < 0.5 for value in values)
    assert random_start_weight(3) == random_start_weight(3) and len(set(values)) == 20


def test_cli_prints_every_step_and_the_outcome(run_cli):
    result = run_cli("lesson", "neuron", "--x", "6", "--target", "1.5", "--w", START, "--lr", "0.1", "--steps", "3")
    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines() if line.strip()[:1].isdigit()]
    assert [int(row[0]) for row in rows] == [0, 1, 2, 3]
    assert float(rows[1][2]) == pytest.approx(1.80540055876505, rel=1e-14)
    assert "converges" in result.out


def test_cli_json_reports_divergence(run_cli):
    result = run_cli("lesson", "neuron", "--w", "0.1", "--lr", "0.4", "--steps", "20", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["behaviour"] == "diverges" and report["converged"] is False
    assert [row["step"] for row in report["history"]] == list(range(21))
    assert report["diverges_above"] == pytest.approx(2 / 6)


def test_cli_default_start_comes_from_the_seed(run_cli):
    first = json.loads(run_cli("lesson", "neuron", "--seed", "5", "--steps", "0", "--json").out)
    assert first["start_weight"] == random_start_weight(5)
    converged = json.loads(run_cli("lesson", "neuron", "--seed", "5", "--json").out)
    assert abs(converged["final"]["output"] - 1.5) < 0.004


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--lr", "0"], "neurocar: error: --lr 0: the learning rate must be above 0\n"),
        (["--x", "0"], "neurocar: error: --x 0: the input must not be 0 (y = W * 0 never changes)\n"),
        (["--steps", "-1"], "neurocar: error: --steps -1: must be at least 0\n"),
        (["--w", "nan"], "neurocar: error: --w nan: give a finite number\n"),
    ],
)
def test_cli_refuses_bad_numbers_in_one_line(run_cli, arguments, message):
    result = run_cli("lesson", "neuron", *arguments)
    assert result.code == 2 and result.err == message


def test_headless_neuron_never_loads_pygame(tmp_path):
    code = (
        "import sys\nfrom neurocar.cli import main\n"
        "code = main(['lesson', 'neuron', '--steps', '2'])\n"
        "print('pygame' in sys.modules, code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False 0"
