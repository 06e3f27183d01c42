"""`neurocar sweep`: seeds parsed as ranges and lists, runs in worker processes each in its own resumable run folder,
rows and a summary (or JSON), Ctrl-C saying which runs finished, and the Ray executor's wiring against a stand-in
of the few ray calls it makes."""

from __future__ import annotations

import json
import sys
import types

import pytest

from neurocar.commands import sweep as sweep_command
from neurocar.commands.executors import RAY_MISSING, RayExecutor
from neurocar.commands.sweep import SweepRow, SweepTask, parse_seeds, run_seed
from neurocar.errors import NeuroCarError
from neurocar.learn.checkpoint import load_checkpoint

TINY = [
    "train",
    "evolve",
    "--track",
    "oval",
    "--population",
    "6",
    "--generations",
    "2",
    "--set",
    "episode.max_seconds=2",
]


def test_seeds_are_ranges_and_lists():
    assert parse_seeds("0-9") == list(range(10))
    assert parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds("5-6,1,5") == [5, 6, 1]
    for bad in ("", "a", "3-1", "1-", "-1"):
        with pytest.raises(NeuroCarError, match="--seeds"):
            parse_seeds(bad)


def test_a_sweep_runs_every_seed_in_worker_processes_each_in_its_own_run_folder(run_cli, tmp_path):
    folder = tmp_path / "sweep"
    result = run_cli("sweep", "--seeds", "0,1", "--workers", "2", "--json", "--run-dir", folder, "--", *TINY)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    rows = sorted(report["runs"], key=lambda row: row["seed"])
    assert [row["seed"] for row in rows] == [0, 1]
    assert report["summary"]["runs"] == 2 and report["summary"]["finished"] == 2
    for row in rows:
        assert row["outcome"] == "generations" and row["generations"] == 2
        run_folder = folder / f"seed-{row['seed']}"
        assert row["run_folder"] == str(run_folder)
        # Each run is exactly `train evolve ... --seed S`, resumable from its folder.
        evolution = load_checkpoint(run_folder)
        assert evolution.seed == row["seed"] and evolution.generation == 2
        assert row["best_fitness"] == pytest.approx(max(r["best_fitness"] for r in evolution.history))
    same = run_cli("train", "evolve", *TINY[2:], "--seed", "1", "--run-dir", tmp_path / "single")
    assert same.code == 0
    assert (tmp_path / "single" / "log.csv").read_bytes() == (folder / "seed-1" / "log.csv").read_bytes()


def test_the_table_and_summary(monkeypatch, run_cli, tmp_path):
    rows = {
        0: SweepRow(0, "target", 2, 2, 700.0, 1, 1.0, str(tmp_path / "s" / "seed-0")),
        1: SweepRow(1, "target", 5, 5, 690.0, 1, 2.0, str(tmp_path / "s" / "seed-1")),
        2: SweepRow(2, "generations", None, 40, 300.0, 0, 3.0, str(tmp_path / "s" / "seed-2")),
    }
    monkeypatch.setattr(sweep_command, "make_executor", lambda *args: FakeExecutor(rows))
    result = run_cli("sweep", "--seeds", "0-2", "--run-dir", tmp_path / "s", "--", *TINY, "--target-laps", "1")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].split() == [
        "seed",
        "outcome",
        "first",
        "lap",
        "gens",
        "best",
        "fitness",
        "seconds",
        "run",
        "folder",
    ]
    assert lines[2].split()[:6] == ["0", "target", "2", "2", "700.0", "1.0"]
    assert lines[4].split()[:4] == ["2", "generations", "-", "40"]
    assert lines[-1] == "reached the target: 2/3; generation median 5, worst 40"


def test_evaluate_drives_each_runs_best_model_on_other_tracks(run_cli, tmp_path):
    folder = tmp_path / "sweep"
    result = run_cli(
        "sweep", "--seeds", "0,1", "--workers", "1", "--json", "--run-dir", folder,
        "--evaluate", "oval", "--evaluate", "shipped", "--", *TINY,
    )  # fmt: skip
    assert result.code == 0, result.err
    report = json.loads(result.out)
    for row in report["runs"]:
        # The same counts as `neurocar evaluate` gives for the run's best model.
        for evaluation, tracks in zip(row["evaluations"], ["oval", "shipped"], strict=True):
            evaluated = run_cli("evaluate", "--model", folder / f"seed-{row['seed']}" / "best.pt", "--track", tracks,
                                "--json")  # fmt: skip
            summary = json.loads(evaluated.out)["summary"]
            assert evaluation == {"tracks": tracks, "lapped": summary["lapped"], "total": summary["total"]}
    shipped = report["summary"]["evaluations"][1]
    assert shipped["tracks"] == "shipped" and shipped["runs"] == 2 and shipped["total"] == 13
    assert shipped["fewest_lapped"] == min(row["evaluations"][1]["lapped"] for row in report["runs"])
    table = run_cli("sweep", "--seeds", "2", "--run-dir", tmp_path / "table", "--evaluate", "oval", "--", *TINY)
    assert table.code == 0 and "lapped oval" in table.out.splitlines()[1]
    assert "oval: " in table.out and "runs lapped all 1 tracks" in table.out
    missing = run_cli("sweep", "--seeds", "0", "--run-dir", tmp_path / "m", "--evaluate", "nowhere", "--", *TINY)
    assert missing.code == 2 and "nowhere: track file not found" in missing.err
    assert not (tmp_path / "m").exists()


class FakeExecutor:
    """Hands back prepared rows instead of running, and raises Ctrl-C after `stop_after` of them."""

    def __init__(self, rows, stop_after=None):
        self.rows = rows
        self.stop_after = stop_after
        self.cancelled = False

    def run(self, function, tasks):
        for index, task in enumerate(tasks):
            if self.stop_after is not None and index == self.stop_after:
                raise KeyboardInterrupt
            yield index, self.rows[task.seed]

    def cancel(self):
        self.cancelled = True


def test_ctrl_c_stops_the_sweep_and_says_which_runs_finished(monkeypatch, run_cli, tmp_path):
    rows = {0: SweepRow(0, "target", 3, 3, 700.0, 1, 1.0, "s/seed-0")}
    executor = FakeExecutor(rows, stop_after=1)
    monkeypatch.setattr(sweep_command, "make_executor", lambda *args: executor)
    result = run_cli("sweep", "--seeds", "0-3", "--run-dir", tmp_path / "s", "--", *TINY)
    assert result.code == 130
    assert executor.cancelled
    assert "interrupted: finished seeds [0]; stopped none; not started 3" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("training", "message"),
    [
        (
            ["train", "evolve", "--seed", "3"],
            "sweep: drop --seed from the training (the sweep gives each run its seed)",
        ),
        (["train", "evolve", "--resume", "x"], "sweep: drop --resume from the training"),
        (
            ["evaluate", "--model", "m.pt"],
            "give the training after --, e.g. neurocar sweep --seeds 0-9 -- train evolve",
        ),
        (["train", "evolve", "--population", "1"], "--population 1: must be at least 2"),
    ],
)
def test_bad_sweeps_are_one_line_errors_before_any_run(run_cli, tmp_path, training, message):
    result = run_cli("sweep", "--seeds", "0-1", "--run-dir", tmp_path / "s", "--", *training)
    assert result.code == 2
    assert result.err.startswith(f"neurocar: error: {message}") and result.err.count("\n") == 1
    assert not (tmp_path / "s").exists()


class StandInRay(types.ModuleType):
    """The few ray calls the executor makes, run in this process, recording how they were called."""

    def __init__(self):
        super().__init__("ray")
        self.calls = []
        self.initialized = False

    def is_initialized(self):
        return self.initialized

    def init(self, address=None, **options):
        self.calls.append(("init", address))
        self.initialized = True

    def remote(self, num_cpus):
        self.calls.append(("remote", num_cpus))

        def wrap(function):
            ray = self

            class Remote:
                def remote(self, task):
                    ray.calls.append(("submit", task.seed))
                    return Reference(function(task))

            return Remote()

        return wrap

    def wait(self, references, num_returns):
        self.calls.append(("wait", len(references)))
        return references[:num_returns], references[num_returns:]

    def get(self, reference):
        return reference.value

    def cancel(self, reference):
        self.calls.append(("cancel", reference.value.seed))


class Reference:
    def __init__(self, value):
        self.value = value


def test_the_ray_executor_sends_each_seed_as_a_remote_call(monkeypatch, tmp_path):
    ray = StandInRay()
    monkeypatch.setitem(sys.modules, "ray", ray)
    executor = RayExecutor("ray://head:10001")
    tasks = [SweepTask(tuple(TINY), seed, str(tmp_path / f"seed-{seed}")) for seed in (4, 5)]
    results = dict(executor.run(run_seed, tasks))
    assert sorted(results) == [0, 1]
    assert [results[0].seed, results[1].seed] == [4, 5]
    assert all(row.outcome == "generations" for row in results.values())
    assert ray.calls[:4] == [("init", "ray://head:10001"), ("remote", 1.0), ("submit", 4), ("submit", 5)]
    assert ("wait", 2) in ray.calls and ("wait", 1) in ray.calls
    assert load_checkpoint(tmp_path / "seed-5").seed == 5


def test_without_ray_the_ray_executor_names_the_extra(monkeypatch, run_cli, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(NeuroCarError, match="neurocar"):
        RayExecutor()
    result = run_cli("sweep", "--seeds", "0", "--executor", "ray", "--run-dir", tmp_path / "s", "--", *TINY)
    assert result.code == 2
    assert result.err == f"neurocar: error: {RAY_MISSING}\n"
    assert not (tmp_path / "s").exists()
