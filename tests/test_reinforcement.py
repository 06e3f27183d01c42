"""Reinforcement learning end to end: PPO learns a lap that `neurocar evaluate` confirms, runs are reproducible and
resume bit for bit, Ctrl-C keeps everything, and models move between the three teachers."""

from __future__ import annotations

import json

import torch

from neurocar.learn.evaluation import evaluate_network
from neurocar.learn.model_file import load_model
from neurocar.learn.reinforcement import Reinforcement, run_reinforcement
from neurocar.learn.reinforcement_checkpoint import load_checkpoint
from neurocar.learn.runs import Reporter, RunOutcome
from neurocar.paths import SHIPPED_DRIVER

# Small rollouts keep these runs fast.
SMALL = ["--track", "oval", "--cars", "8", "--seed", "4", "--set", "reinforcement.rollout_steps=16"]


def state_dict_of(path):
    return torch.load(path, weights_only=True)["state_dict"]


def assert_same_model(first, second):
    one, other = state_dict_of(first), state_dict_of(second)
    assert one.keys() == other.keys()
    for name in one:
        assert torch.equal(one[name], other[name]), name


def test_ppo_learns_a_lap_that_evaluate_confirms(tmp_path, run_cli, config, classic):
    result = run_cli(
        "train", "rl", "--target-laps", "1", "--seed", "3", "--updates", "20", "--run-dir", tmp_path / "run"
    )
    assert result.code == 0, result.err
    assert "the greedy policy drove 1 lap(s) after update" in result.out
    model = load_model(tmp_path / "run" / "best.pt")
    assert model.training["method"] == "reinforcement" and model.training["seed"] == 3
    assert model.training["track_names"] == ["Classic"]
    assert evaluate_network(model.network, config, classic, 1).laps_completed == 1
    evaluated = run_cli("evaluate", "--model", tmp_path / "run" / "best.pt", "--json")
    assert json.loads(evaluated.out)["summary"]["lapped"] == 1
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert rows[0].startswith("update,car_steps,episodes,mean_episode_fitness")
    assert int(rows[-1].split(",")[10]) == 1  # the last update's greedy laps
    assert (tmp_path / "run" / "fitness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_run_and_resume_continues_exactly(tmp_path, run_cli):
    whole = run_cli("train", "rl", *SMALL, "--updates", "4", "--run-dir", tmp_path / "whole")
    again = run_cli("train", "rl", *SMALL, "--updates", "4", "--run-dir", tmp_path / "again")
    assert whole.code == again.code == 0
    assert (tmp_path / "whole" / "log.csv").read_text() == (tmp_path / "again" / "log.csv").read_text()
    first = run_cli("train", "rl", *SMALL, "--updates", "2", "--run-dir", tmp_path / "split")
    assert first.code == 0
    resumed = run_cli("train", "rl", "--resume", tmp_path / "split", "--updates", "4")
    assert resumed.code == 0, resumed.err
    assert "resuming after update 2" in resumed.out
    assert (tmp_path / "split" / "log.csv").read_text() == (tmp_path / "whole" / "log.csv").read_text()
    assert_same_model(tmp_path / "split" / "best.pt", tmp_path / "whole" / "best.pt")
    one = load_checkpoint(tmp_path / "split")
    other = load_checkpoint(tmp_path / "whole")
    assert torch.equal(one.generator.get_state(), other.generator.get_state())
    assert (one.world.state.positions == other.world.state.positions).all()


class StopAt(Reporter):
    """Presses Ctrl-C when an update finishes."""

    def __init__(self, update: int) -> None:
        self.update = update

    def on_result(self, learner, result):
        if result.update == self.update:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_last_whole_update_and_resumes_to_the_same_run(tmp_path, run_cli, monkeypatch):
    from neurocar.commands import reinforcement as command

    original = command.reporters_for
    monkeypatch.setattr(command, "reporters_for", lambda *arguments: [StopAt(3), *original(*arguments)])
    stopped = run_cli("train", "rl", *SMALL, "--updates", "5", "--run-dir", tmp_path / "stopped")
    assert stopped.code == 130
    assert "interrupted: best model saved to" in stopped.out and "neurocar train rl --resume" in stopped.out
    learner = load_checkpoint(tmp_path / "stopped")
    assert learner.update == 3 and learner.total == 5  # update 3 was whole when Ctrl-C came
    assert load_model(tmp_path / "stopped" / "best.pt").training["method"] == "reinforcement"
    monkeypatch.setattr(command, "reporters_for", original)
    assert run_cli("train", "rl", "--resume", tmp_path / "stopped").code == 0
    assert run_cli("train", "rl", *SMALL, "--updates", "5", "--run-dir", tmp_path / "whole").code == 0
    assert (tmp_path / "stopped" / "log.csv").read_text() == (tmp_path / "whole" / "log.csv").read_text()


def test_ctrl_c_in_a_rollout_drops_that_update_and_resumes_to_the_same_run(tmp_path, run_cli, monkeypatch):
    original_step = Reinforcement.step

    def interrupted_step(learner):
        if learner.update == 2 and learner.rollout_step == 5:
            raise KeyboardInterrupt  # Ctrl-C part-way through the third update's rollout
        return original_step(learner)

    monkeypatch.setattr(Reinforcement, "step", interrupted_step)
    stopped = run_cli("train", "rl", *SMALL, "--updates", "4", "--run-dir", tmp_path / "stopped")
    assert stopped.code == 130
    learner = load_checkpoint(tmp_path / "stopped")
    assert learner.update == 2 and learner.rollout_step == 0  # the cut rollout is not in the checkpoint
    monkeypatch.setattr(Reinforcement, "step", original_step)
    assert run_cli("train", "rl", "--resume", tmp_path / "stopped").code == 0
    assert run_cli("train", "rl", *SMALL, "--updates", "4", "--run-dir", tmp_path / "whole").code == 0
    assert (tmp_path / "stopped" / "log.csv").read_text() == (tmp_path / "whole" / "log.csv").read_text()
    assert_same_model(tmp_path / "stopped" / "best.pt", tmp_path / "whole" / "best.pt")


def test_one_step_or_one_update_at_a_time_is_the_same_run(config, oval):
    small = config.replace("reinforcement", cars=4, rollout_steps=8)
    by_step = Reinforcement(small, [oval], 3, updates=2)
    results = []
    while by_step.outcome is None:
        result = by_step.step()
        assert (result is None) == (by_step.rollout_step != 0)
        if result is not None:
            results.append(result)
    assert [result.update for result in results] == [1, 2] and by_step.outcome is RunOutcome.FINISHED
    by_update = Reinforcement(small, [oval], 3, updates=2)
    assert run_reinforcement(by_update) is RunOutcome.FINISHED
    assert by_step.history == by_update.history and by_step.car_steps == by_update.car_steps == 2 * 8 * 4
    stopped = Reinforcement(small, [oval], 3, updates=2)
    stopped.step()
    stopped.stop(RunOutcome.CLOSED)
    assert stopped.outcome is RunOutcome.CLOSED and stopped.state_dict()["car_steps"] == 0


def test_models_move_between_the_teachers(tmp_path, run_cli, config, oval):
    # RL from an evolved (here: the shipped) model: the actor starts as that driver, so it laps at once.
    from_evolved = run_cli(
        "train", "rl", "--init", SHIPPED_DRIVER, "--track", "oval", "--target-laps", "1", "--updates", "3",
        "--out", tmp_path / "rl.pt", "--run-dir", tmp_path / "rl",
    )  # fmt: skip
    assert from_evolved.code == 0, from_evolved.err
    assert "after update 1 " in from_evolved.out
    assert load_model(tmp_path / "rl.pt").training["init"] is True
    # Evolution from an RL model, and supervised fine-tuning is covered by the same model file format.
    evolved = run_cli(
        "train", "evolve", "--init", tmp_path / "rl.pt", "--track", "oval", "--population", "6",
        "--generations", "1", "--run-dir", tmp_path / "evolve",
    )  # fmt: skip
    assert evolved.code == 0, evolved.err
    assert load_model(tmp_path / "evolve" / "best.pt").training["method"] == "neuroevolution"


def test_resume_refuses_other_settings_and_other_runs(tmp_path, run_cli):
    assert run_cli("train", "rl", *SMALL, "--updates", "1", "--run-dir", tmp_path / "run").code == 0
    refused = run_cli("train", "rl", "--resume", tmp_path / "run", "--seed", "1")
    assert refused.code == 2
    assert refused.err.startswith("neurocar: error: --resume continues a run with its own settings; drop --seed")
    done = run_cli("train", "rl", "--resume", tmp_path / "run")
    assert "the run already has 1 updates; ask for more with --updates N" in done.err
    evolve = run_cli("train", "evolve", "--track", "oval", "--population", "4", "--generations", "1",
                     "--set", "episode.max_seconds=2", "--run-dir", tmp_path / "evolve")  # fmt: skip
    assert evolve.code == 0
    other = run_cli("train", "rl", "--resume", tmp_path / "evolve")
    assert "not a NeuroCar reinforcement-learning checkpoint (an evolution run" in other.err
    again = run_cli("train", "rl", *SMALL, "--run-dir", tmp_path / "run")
    assert "use `neurocar train rl --resume" in again.err


def test_the_learner_seeds_everything(config, oval):
    small = config.replace("reinforcement", cars=4, rollout_steps=8)
    first, second, other = (Reinforcement(small, [oval], seed, updates=2) for seed in (5, 5, 6))
    for learner in (first, second, other):
        run_reinforcement(learner)
    assert first.history == second.history and first.history != other.history
    assert torch.equal(torch.nn.utils.parameters_to_vector(first.actor.parameters()),
                       torch.nn.utils.parameters_to_vector(second.actor.parameters()))  # fmt: skip
