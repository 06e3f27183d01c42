"""Reinforcement learning: PPO teaches the same 3-6-3 policy network to drive from reward alone.

The policy network is the actor: its three outputs are the logits of a categorical distribution over the actions,
sampled while learning; every other command drives it greedily (argmax). A separate small critic estimates how
much fitness is still to come from each observation. One update:

1. all cars of one batched world drive `rollout_steps` steps, sampling actions; an ended episode (crash, stall,
   time) starts again at once, at a random place along the track;
2. generalised advantage estimation turns rewards and the critic's values into advantages and returns;
3. a few epochs of minibatch Adam steps on the clipped PPO loss, the critic's squared error and an entropy bonus;
4. the greedy policy drives one evaluation lap on every track, exactly as `neurocar evaluate` does.

The reward is the change in the car's weighted fitness terms (`neurocar.sim.episodes`), scaled by `reward_scale`.
`Reinforcement` is the run state, advanced by its caller like `neurocar.learn.neuroevolution.Neuroevolution`:
`step()` drives one simulation step of the rollout (the step that completes the rollout also learns from it and
evaluates, and returns the `UpdateResult`), `step_update()` one whole update; when the run is over, `outcome` says why
(a `RunOutcome`). It holds everything needed to resume exactly (networks, optimizer, generator, the world
mid-episode, the run's total updates). `run_reinforcement` is the headless loop and tells `Reporter` hooks instead of
printing. One seeded `torch.Generator` draws everything random: initial weights, actions, minibatch order and start
places.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocar.config import Config
from neurocar.learn.evaluation import evaluate_in_world, evaluation_world
from neurocar.learn.policy import build_network, load_vector, network_vector
from neurocar.learn.runs import Reporter, RunOutcome
from neurocar.learn.supervised import initialize_network
from neurocar.sim.episodes import Episodes
from neurocar.sim.track import Track
from neurocar.sim.world import LapEvent, World

UNLIMITED_UPDATES = sys.maxsize  # a window learns until it is closed

LOG_COLUMNS = [
    "update",
    "car_steps",
    "episodes",
    "mean_episode_fitness",
    "best_episode_fitness",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "greedy_laps",
    "greedy_progress_percent",
    "greedy_fitness",
]


@dataclass
class UpdateResult:
    """What one update did: the rollout's finished episodes, the losses, and the greedy evaluation."""

    update: int
    car_steps: int
    episodes: int
    mean_episode_fitness: float
    best_episode_fitness: float
    policy_loss: float
    value_loss: float
    entropy: float
    approx_kl: float
    clip_fraction: float
    greedy_laps: int
    greedy_progress_percent: float
    greedy_fitness: float
    seconds: float

    @property
    def car_steps_per_second(self) -> float:
        """Simulation and learning speed of this update (car-steps per wall-clock second)."""
        return self.car_steps / self.seconds if self.seconds > 0 else 0.0

    def log_row(self) -> dict[str, Any]:
        """The CSV log row: only values that are identical for identical runs (no timings)."""
        return {
            name: value if isinstance(value, int) else repr(float(value))
            for name, value in dataclasses.asdict(self).items()
            if name in LOG_COLUMNS
        }

    def console_line(self, total: int) -> str:
        """The console's line for this update (`total`: the run's updates)."""
        fitness = "-" if math.isnan(self.mean_episode_fitness) else f"{self.mean_episode_fitness:7.1f}"
        return (
            f"update {self.update:>4}/{total}  steps {self.car_steps:>9,}  episode fitness {fitness:>7}  "
            f"greedy laps {self.greedy_laps} progress {self.greedy_progress_percent:5.1f}%  "
            f"entropy {self.entropy:.2f}  kl {self.approx_kl:.4f}  {self.car_steps_per_second:>7,.0f} steps/s"
        )


@dataclass
class Rollout:
    """The rollout being collected: one row per simulation step taken so far, one column per car."""

    observations: torch.Tensor
    actions: torch.Tensor
    log_probabilities: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    ended: torch.Tensor
    finished_fitness: list[float]
    started: float
    snapshot: dict[str, Any]  # what changes while it is collected, as it was before its first step
    steps_taken: int = 0


def build_critic(input_size: int, hidden_sizes: tuple[int, ...]) -> nn.Sequential:
    """The critic: observations to one value, tanh hidden layers."""
    layers: list[nn.Module] = []
    width = input_size
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), nn.Tanh()]
        width = size
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def greedy_score(laps: int, progress_percent: float) -> tuple[int, float]:
    """How greedy evaluations compare: more laps first, then more progress."""
    return (laps, progress_percent)


@dataclass
class Reinforcement:
    """The complete, resumable state of a PPO run on `tracks` (cars shared evenly among them), advanced by its
    caller: `step()` one simulation step, `step_update()` one update. `updates` is the run's total (None: the
    config's)."""

    config: Config
    tracks: list[Track]
    seed: int
    target_laps: int | None = None
    init_vector: torch.Tensor | None = None
    updates: int | None = None
    update: int = 0
    car_steps: int = 0
    best_vector: torch.Tensor | None = None
    best_score: tuple[int, float] = (-1, -math.inf)
    best_row: dict[str, Any] = field(default_factory=dict)
    best_update: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    outcome: RunOutcome | None = None

    unit = "update"
    command = "rl"
    log_columns = LOG_COLUMNS

    def __post_init__(self) -> None:
        if not self.tracks:
            raise ValueError("reinforcement learning needs at least one track")
        config, settings = self.config, self.config.reinforcement
        if self.updates is None:
            self.updates = settings.updates
        sensor_count = len(config.sensors.angles_deg)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.actor = build_network(sensor_count, config.policy.hidden_sizes, config.policy.activation)
        initialize_network(self.actor, self.generator)
        if self.init_vector is not None:
            load_vector(self.actor, self.init_vector)
        self.critic = build_critic(sensor_count, settings.critic_hidden_sizes)
        initialize_network(self.critic, self.generator)
        parameters = [*self.actor.parameters(), *self.critic.parameters()]
        self.optimizer = torch.optim.Adam(parameters, lr=settings.learning_rate, eps=1e-5)
        population = math.ceil(settings.cars / len(self.tracks))
        self.world = World(self.tracks, config.physics, config.sensors, config.episode, population)
        self.episodes = Episodes(self.world, config.fitness)
        self._evaluation: tuple[int, World] | None = None  # (laps, world) of the greedy evaluation drive
        self.rollout: Rollout | None = None
        self.world.reset()
        cars = np.arange(self.world.car_count)
        self.observations = self.episodes.start(cars, self._start_places(cars)).copy()

    # --- what the reporters and the window read ----------------------------------------------------------------

    @property
    def car_count(self) -> int:
        """Cars driving at once."""
        return self.world.car_count

    @property
    def completed(self) -> int:
        """Updates done."""
        return self.update

    @property
    def total(self) -> int:
        """The run's total updates."""
        assert self.updates is not None
        return self.updates

    @property
    def best_at(self) -> int:
        """The update whose greedy policy is the kept best (0 before any)."""
        return self.best_update

    @property
    def rollout_step(self) -> int:
        """Simulation steps taken in the current update's rollout (0 between updates)."""
        return self.rollout.steps_taken if self.rollout is not None else 0

    def heading(self) -> str:
        """The line that says what is being trained."""
        settings = self.config.reinforcement
        tracks = ", ".join(track.name for track in self.tracks)
        resumed = f", resuming after update {self.update}" if self.update else ""
        target = f", until the greedy policy drives {self.target_laps} lap(s)" if self.target_laps else ""
        return (
            f"PPO with {self.car_count} cars x {settings.rollout_steps} steps per update on {tracks} "
            f"(seed {self.seed}{target}{resumed})"
        )

    def chart_series(self) -> tuple[str, dict[str, list[float]]]:
        """The fitness chart: the greedy drive's fitness and the sampled episodes' mean, per update."""
        title = f"Fitness per update - {', '.join(track.name for track in self.tracks)}"
        return title, {
            "greedy": [float(row["greedy_fitness"]) for row in self.history],
            "sampled episodes": [float(row["mean_episode_fitness"]) for row in self.history],
        }

    def _start_places(self, cars: np.ndarray) -> np.ndarray:
        """Where new episodes start [m along each car's track]: random places, or the start line."""
        if not self.config.reinforcement.random_start:
            return np.zeros(len(cars))
        fractions = torch.rand(len(cars), generator=self.generator, dtype=torch.float64).numpy()
        return fractions * self.world.track_length_m[cars]

    # --- stepping ----------------------------------------------------------------------------------------------

    def step(self) -> UpdateResult | None:
        """One simulation step of the current update's rollout (starting it if needed): every car takes a sampled
        action. When that step completes the rollout, the update learns from it and evaluates the greedy policy,
        and its result is returned; otherwise None."""
        if self.outcome is not None:
            raise RuntimeError(f"the run has ended ({self.outcome.value})")
        if self.rollout is None:
            self.rollout = self._start_rollout()
        rollout, settings = self.rollout, self.config.reinforcement
        step = rollout.steps_taken
        current = torch.from_numpy(self.observations).to(torch.float32)
        with torch.no_grad():
            logits = self.actor(current)
            probabilities = torch.softmax(logits, dim=1)
            action = torch.multinomial(probabilities, 1, generator=self.generator).squeeze(1)
            rollout.log_probabilities[step] = torch.log_softmax(logits, dim=1).gather(1, action[:, None]).squeeze(1)
            rollout.values[step] = self.critic(current).squeeze(1)
        rollout.observations[step], rollout.actions[step] = current, action
        outcome = self.episodes.step(action.numpy())
        reward = torch.from_numpy(outcome.rewards * settings.reward_scale).to(torch.float32)
        truncated = np.nonzero(outcome.truncated)[0]
        if len(truncated):
            # Cut short (stall, time), not failed: what would have followed is the critic's estimate.
            final = torch.from_numpy(outcome.observations[truncated]).to(torch.float32)
            with torch.no_grad():
                reward[truncated] += settings.discount * self.critic(final).squeeze(1)
        rollout.rewards[step] = reward
        rollout.ended[step] = torch.from_numpy(outcome.ended.astype(np.float32))
        self.car_steps += self.car_count
        done = np.nonzero(outcome.ended)[0]
        if len(done):
            rollout.finished_fitness += self.episodes.fitness[done].tolist()
            self.episodes.start(done, self._start_places(done))
        self.observations = self.world.observations.copy()
        rollout.steps_taken += 1
        if rollout.steps_taken < settings.rollout_steps:
            return None
        return self._end_update()

    def step_update(self) -> UpdateResult:
        """Drive the rest of the current rollout, learn from it and evaluate: one whole PPO update."""
        while (result := self.step()) is None:
            pass
        return result

    def stop(self, outcome: RunOutcome) -> None:
        """End the run from outside (Ctrl-C, a closed window). A rollout in progress is not learnt from; the run's
        state (`state_dict`) stays that of the last whole update."""
        self.outcome = outcome

    def _start_rollout(self) -> Rollout:
        steps, cars = self.config.reinforcement.rollout_steps, self.car_count
        sensor_count = self.observations.shape[1]
        return Rollout(
            observations=torch.zeros(steps, cars, sensor_count),
            actions=torch.zeros(steps, cars, dtype=torch.int64),
            log_probabilities=torch.zeros(steps, cars),
            values=torch.zeros(steps, cars),
            rewards=torch.zeros(steps, cars),
            ended=torch.zeros(steps, cars),
            finished_fitness=[],
            started=time.perf_counter(),
            snapshot=self._driving_state(),
        )

    def _end_update(self) -> UpdateResult:
        """Learn from the complete rollout, evaluate the greedy policy, keep the best, decide the outcome."""
        rollout = self.rollout
        assert rollout is not None
        settings = self.config.reinforcement
        steps, cars = settings.rollout_steps, self.car_count
        sensor_count = self.observations.shape[1]
        values, rewards, ended = rollout.values, rollout.rewards, rollout.ended

        # 2. Generalised advantage estimation, backwards through the rollout.
        with torch.no_grad():
            next_value = self.critic(torch.from_numpy(self.observations).to(torch.float32)).squeeze(1)
        advantages = torch.zeros(steps, cars)
        running = torch.zeros(cars)
        for step in reversed(range(steps)):
            continuing = 1.0 - ended[step]
            following = next_value if step == steps - 1 else values[step + 1]
            delta = rewards[step] + settings.discount * following * continuing - values[step]
            running = delta + settings.discount * settings.gae_lambda * continuing * running
            advantages[step] = running
        returns = advantages + values

        # 3. Clipped policy updates, the critic's regression and the entropy bonus, over shuffled minibatches.
        batch = steps * cars
        flat_observations = rollout.observations.reshape(batch, sensor_count)
        flat_actions = rollout.actions.reshape(batch)
        flat_log_probabilities = rollout.log_probabilities.reshape(batch)
        flat_advantages = advantages.reshape(batch)
        flat_returns = returns.reshape(batch)
        minibatch = math.ceil(batch / settings.minibatches)
        totals = {"policy": 0.0, "value": 0.0, "entropy": 0.0, "kl": 0.0, "clipped": 0.0}
        passes = 0
        for _epoch in range(settings.epochs):
            order = torch.randperm(batch, generator=self.generator)
            for start in range(0, batch, minibatch):
                chosen = order[start : start + minibatch]
                logits = self.actor(flat_observations[chosen])
                all_log_probabilities = torch.log_softmax(logits, dim=1)
                new_log_probability = all_log_probabilities.gather(1, flat_actions[chosen, None]).squeeze(1)
                entropy = -(all_log_probabilities.exp() * all_log_probabilities).sum(dim=1).mean()
                log_ratio = new_log_probability - flat_log_probabilities[chosen]
                ratio = log_ratio.exp()
                advantage = flat_advantages[chosen]
                advantage = (advantage - advantage.mean()) / (advantage.std(unbiased=False) + 1e-8)
                clipped_ratio = ratio.clamp(1 - settings.clip_range, 1 + settings.clip_range)
                policy_loss = torch.maximum(-advantage * ratio, -advantage * clipped_ratio).mean()
                value_loss = (
                    0.5 * (self.critic(flat_observations[chosen]).squeeze(1) - flat_returns[chosen]).pow(2).mean()
                )
                loss = policy_loss - settings.entropy_coefficient * entropy + settings.value_coefficient * value_loss
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(
                    [*self.actor.parameters(), *self.critic.parameters()], settings.max_gradient_norm
                )
                self.optimizer.step()
                with torch.no_grad():
                    totals["policy"] += float(policy_loss)
                    totals["value"] += float(value_loss)
                    totals["entropy"] += float(entropy)
                    totals["kl"] += float(((ratio - 1) - log_ratio).mean())
                    totals["clipped"] += float(((ratio - 1).abs() > settings.clip_range).float().mean())
                passes += 1

        # 4. The greedy policy drives every track from the start line, as `neurocar evaluate` does.
        laps = self.target_laps or 1
        if self._evaluation is None or self._evaluation[0] != laps:
            self._evaluation = (laps, evaluation_world(self.config, self.tracks, laps))
        evaluations = evaluate_in_world(self.actor, self._evaluation[1], laps)
        greedy_laps = min(result.laps_completed for result in evaluations)
        greedy_progress = float(np.mean([result.progress_percent for result in evaluations]))
        greedy_fitness = float(
            np.mean(
                [
                    self.config.fitness.progress * result.progress_m
                    + self.config.fitness.lap * result.laps_completed
                    + self.config.fitness.crash * result.crashed
                    + self.config.fitness.time * result.time_s
                    for result in evaluations
                ]
            )
        )
        self.rollout = None
        self.update += 1
        finished = rollout.finished_fitness
        result = UpdateResult(
            update=self.update,
            car_steps=self.car_steps,
            episodes=len(finished),
            mean_episode_fitness=float(np.mean(finished)) if finished else math.nan,
            best_episode_fitness=float(np.max(finished)) if finished else math.nan,
            policy_loss=totals["policy"] / passes,
            value_loss=totals["value"] / passes,
            entropy=totals["entropy"] / passes,
            approx_kl=totals["kl"] / passes,
            clip_fraction=totals["clipped"] / passes,
            greedy_laps=greedy_laps,
            greedy_progress_percent=greedy_progress,
            greedy_fitness=greedy_fitness,
            seconds=time.perf_counter() - rollout.started,
        )
        score = greedy_score(greedy_laps, greedy_progress)
        if score > self.best_score:
            self.best_score = score
            self.best_vector = network_vector(self.actor)
            self.best_row = result.log_row()
            self.best_update = self.update
        self.history.append(result.log_row())
        if self.reached_target(result):
            self.outcome = RunOutcome.TARGET_REACHED
        elif self.update >= self.total:
            self.outcome = RunOutcome.FINISHED
        return result

    def reached_target(self, result: UpdateResult) -> bool:
        """True when the greedy policy drove the target laps on every track."""
        return self.target_laps is not None and result.greedy_laps >= self.target_laps

    # --- what is kept ------------------------------------------------------------------------------------------

    def best_network(self) -> nn.Sequential:
        """A copy of the policy network with the best greedy evaluation so far (the current one before any)."""
        config = self.config
        network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
        return load_vector(network, self.best_vector if self.best_vector is not None else network_vector(self.actor))

    def best_state_dict(self) -> dict[str, Any]:
        """The kept best network's state_dict."""
        return self.best_network().state_dict()

    def training_info(self) -> dict[str, Any]:
        """The `training` section of a model file saved from this run."""
        return {
            "method": "reinforcement",
            "algorithm": "ppo",
            "seed": self.seed,
            "tracks": [track.path for track in self.tracks],
            "track_names": [track.name for track in self.tracks],
            "updates": self.update,
            "best_update": self.best_update,
            "car_steps": self.car_steps,
            "target_laps": self.target_laps,
            "init": self.init_vector is not None,
            "metrics": dict(self.best_row),
            "config": self.config.to_dict(),
        }

    def _driving_state(self) -> dict[str, Any]:
        """What a rollout changes: the cars mid-episode, the generator and the car-steps (copies)."""
        state = self.world.state
        return {
            "car_steps": self.car_steps,
            "generator_state": self.generator.get_state(),
            "world": {
                "time_s": self.world.time_s,
                "steps": self.world.steps,
                "cars": {
                    item.name: torch.from_numpy(np.array(getattr(state, item.name)))
                    for item in dataclasses.fields(state)
                    if item.name != "lap_events"
                },
                "lap_events": [[event.car, event.lap, event.time_s, event.lap_time_s] for event in state.lap_events],
                "observations": torch.from_numpy(self.world.observations.copy()),
            },
            "episodes": {
                "start_progress_m": torch.from_numpy(self.episodes.start_progress_m.copy()),
                "start_laps": torch.from_numpy(self.episodes.start_laps.copy()),
                "fitness": torch.from_numpy(self.episodes.fitness.copy()),
            },
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit for bit from the start of the current update (plain types and tensors:
        loadable with weights_only). A rollout in progress is not part of it: the cars, the generator and the
        car-steps are as they were before its first step."""
        driving = self.rollout.snapshot if self.rollout is not None else self._driving_state()
        return {
            "update": self.update,
            **driving,
            "actor": {name: tensor.clone() for name, tensor in self.actor.state_dict().items()},
            "critic": {name: tensor.clone() for name, tensor in self.critic.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "best_vector": None if self.best_vector is None else self.best_vector.clone(),
            "best_score": list(self.best_score),
            "best_row": dict(self.best_row),
            "best_update": self.best_update,
            "history": [dict(row) for row in self.history],
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict`."""
        self.update = int(saved["update"])
        self.car_steps = int(saved["car_steps"])
        self.actor.load_state_dict(saved["actor"])
        self.critic.load_state_dict(saved["critic"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.generator.set_state(saved["generator_state"])
        world = saved["world"]
        self.world.time_s = float(world["time_s"])
        self.world.steps = int(world["steps"])
        state = self.world.state
        for name, tensor in world["cars"].items():
            # Written in place: the state's arrays are views of the blocks the compiled step reads.
            getattr(state, name)[...] = tensor.numpy()
        state.lap_events = [
            LapEvent(int(car), int(lap), float(at), float(took)) for car, lap, at, took in world["lap_events"]
        ]
        self.world.driving_count = int(state.driving.sum())
        self.world.observations[...] = world["observations"].numpy()
        self.observations = self.world.observations.copy()
        for name in ("start_progress_m", "start_laps", "fitness"):
            setattr(self.episodes, name, saved["episodes"][name].numpy().copy())
        self.best_vector = None if saved["best_vector"] is None else saved["best_vector"].clone()
        laps, progress = saved["best_score"]
        self.best_score = (int(laps), float(progress))
        self.best_row = dict(saved["best_row"])
        self.best_update = int(saved["best_update"])
        self.history = [dict(row) for row in saved["history"]]
        self.rollout = None
        self.outcome = None


def run_reinforcement(learner: Reinforcement, reporters: list[Reporter] | None = None) -> RunOutcome:
    """Step `learner` an update at a time until it ends, telling the reporters; returns the outcome.

    A KeyboardInterrupt is not caught here: the command that owns the terminal catches it, calls
    `learner.stop(RunOutcome.INTERRUPTED)` and tells the reporters `on_run_end`, which save (the checkpoint of the
    last whole update: an update cut short is dropped).
    """
    reporters = reporters or []
    for reporter in reporters:
        reporter.on_run_start(learner)
    while learner.outcome is None:
        result = learner.step_update()
        for reporter in reporters:
            reporter.on_result(learner, result)
    for reporter in reporters:
        reporter.on_run_end(learner, learner.outcome)
    return learner.outcome
