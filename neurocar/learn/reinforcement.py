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
`Reinforcement` holds everything needed to resume exactly (networks, optimizer, generator, the world mid-episode);
`run_reinforcement` is the loop and reports through `Reporter` hooks instead of printing. One seeded
`torch.Generator` draws everything random: initial weights, actions, minibatch order and start places.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from neurocar.config import Config
from neurocar.learn.evaluation import evaluate_in_world, evaluation_world
from neurocar.learn.policy import build_network, load_vector, network_vector
from neurocar.learn.supervised import initialize_network
from neurocar.sim.episodes import Episodes
from neurocar.sim.track import Track
from neurocar.sim.world import LapEvent, World

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


class Reporter:
    """A hook into the learning loop. Override what you need; `on_step` is only called if overridden."""

    def on_run_start(self, learner: Reinforcement) -> None:
        """The run starts (or resumes)."""

    def on_step(self, learner: Reinforcement, world: World, actions: np.ndarray) -> None:
        """One simulation step of a rollout was taken (only for reporters that override this)."""

    def on_update(self, learner: Reinforcement, result: UpdateResult) -> None:
        """An update finished (rollout, learning and greedy evaluation)."""

    def on_run_end(self, learner: Reinforcement, outcome: str) -> None:
        """The run ends: 'target', 'updates', 'interrupted', 'closed' or 'aborted' (as for evolution)."""


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
    """The complete, resumable state of a PPO run on `tracks` (cars shared evenly among them)."""

    config: Config
    tracks: list[Track]
    seed: int
    target_laps: int | None = None
    init_vector: torch.Tensor | None = None
    update: int = 0
    car_steps: int = 0
    best_vector: torch.Tensor | None = None
    best_score: tuple[int, float] = (-1, -math.inf)
    best_row: dict[str, Any] = field(default_factory=dict)
    best_update: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tracks:
            raise ValueError("reinforcement learning needs at least one track")
        config, settings = self.config, self.config.reinforcement
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
        self.world.reset()
        cars = np.arange(self.world.car_count)
        self.observations = self.episodes.start(cars, self._start_places(cars)).copy()

    @property
    def car_count(self) -> int:
        """Cars driving at once."""
        return self.world.car_count

    def _start_places(self, cars: np.ndarray) -> np.ndarray:
        """Where new episodes start [m along each car's track]: random places, or the start line."""
        if not self.config.reinforcement.random_start:
            return np.zeros(len(cars))
        fractions = torch.rand(len(cars), generator=self.generator, dtype=torch.float64).numpy()
        return fractions * self.world.track_length_m[cars]

    def advance(self, reporters: list[Reporter]) -> UpdateResult:
        """One PPO update: collect a rollout, estimate advantages, learn, evaluate the greedy policy."""
        started = time.perf_counter()
        settings = self.config.reinforcement
        stepping = [reporter for reporter in reporters if type(reporter).on_step is not Reporter.on_step]
        steps, cars = settings.rollout_steps, self.car_count
        sensor_count = self.observations.shape[1]

        # 1. Rollout: every car drives `steps` steps with sampled actions; ended episodes restart at once.
        observations = torch.zeros(steps, cars, sensor_count)
        actions = torch.zeros(steps, cars, dtype=torch.int64)
        log_probabilities = torch.zeros(steps, cars)
        values = torch.zeros(steps, cars)
        rewards = torch.zeros(steps, cars)
        ended = torch.zeros(steps, cars)
        finished_fitness: list[float] = []
        for step in range(steps):
            current = torch.from_numpy(self.observations).to(torch.float32)
            with torch.no_grad():
                logits = self.actor(current)
                probabilities = torch.softmax(logits, dim=1)
                action = torch.multinomial(probabilities, 1, generator=self.generator).squeeze(1)
                log_probabilities[step] = torch.log_softmax(logits, dim=1).gather(1, action[:, None]).squeeze(1)
                values[step] = self.critic(current).squeeze(1)
            observations[step], actions[step] = current, action
            outcome = self.episodes.step(action.numpy())
            reward = torch.from_numpy(outcome.rewards * settings.reward_scale).to(torch.float32)
            truncated = np.nonzero(outcome.truncated)[0]
            if len(truncated):
                # Cut short (stall, time), not failed: what would have followed is the critic's estimate.
                final = torch.from_numpy(outcome.observations[truncated]).to(torch.float32)
                with torch.no_grad():
                    reward[truncated] += settings.discount * self.critic(final).squeeze(1)
            rewards[step] = reward
            done = np.nonzero(outcome.ended)[0]
            ended[step] = torch.from_numpy(outcome.ended.astype(np.float32))
            self.car_steps += cars
            for reporter in stepping:
                reporter.on_step(self, self.world, action.numpy())
            if len(done):
                finished_fitness += self.episodes.fitness[done].tolist()
                self.episodes.start(done, self._start_places(done))
            self.observations = self.world.observations.copy()

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
        flat_observations = observations.reshape(batch, sensor_count)
        flat_actions = actions.reshape(batch)
        flat_log_probabilities = log_probabilities.reshape(batch)
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
        self.update += 1
        result = UpdateResult(
            update=self.update,
            car_steps=self.car_steps,
            episodes=len(finished_fitness),
            mean_episode_fitness=float(np.mean(finished_fitness)) if finished_fitness else math.nan,
            best_episode_fitness=float(np.max(finished_fitness)) if finished_fitness else math.nan,
            policy_loss=totals["policy"] / passes,
            value_loss=totals["value"] / passes,
            entropy=totals["entropy"] / passes,
            approx_kl=totals["kl"] / passes,
            clip_fraction=totals["clipped"] / passes,
            greedy_laps=greedy_laps,
            greedy_progress_percent=greedy_progress,
            greedy_fitness=greedy_fitness,
            seconds=time.perf_counter() - started,
        )
        score = greedy_score(greedy_laps, greedy_progress)
        if score > self.best_score:
            self.best_score = score
            self.best_vector = network_vector(self.actor)
            self.best_row = result.log_row()
            self.best_update = self.update
        self.history.append(result.log_row())
        return result

    def reached_target(self, result: UpdateResult) -> bool:
        """True when the greedy policy drove the target laps on every track."""
        return self.target_laps is not None and result.greedy_laps >= self.target_laps

    def best_network(self) -> nn.Sequential:
        """A copy of the policy network with the best greedy evaluation so far (the current one before any)."""
        config = self.config
        network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
        return load_vector(network, self.best_vector if self.best_vector is not None else network_vector(self.actor))

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

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit for bit (plain types and tensors: loadable with weights_only)."""
        state = self.world.state
        return {
            "update": self.update,
            "car_steps": self.car_steps,
            "actor": {name: tensor.clone() for name, tensor in self.actor.state_dict().items()},
            "critic": {name: tensor.clone() for name, tensor in self.critic.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
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


def run_reinforcement(learner: Reinforcement, updates: int, reporters: list[Reporter]) -> str:
    """Learn until `updates` updates have been run in total or the greedy policy drives the target laps.

    Returns the outcome: 'target', 'updates', 'interrupted' (Ctrl-C) or the `outcome` attribute of the
    KeyboardInterrupt that stopped it (the window's 'closed'). Reporters are told in every case, so the best model
    and the last checkpoint are on disk before the caller exits; any other exception is passed on after they have
    been told ('aborted'). An update cut short by Ctrl-C is dropped: the checkpoint holds the last whole one.
    """
    for reporter in reporters:
        reporter.on_run_start(learner)
    outcome = "updates"
    try:
        while learner.update < updates:
            result = learner.advance(reporters)
            for reporter in reporters:
                reporter.on_update(learner, result)
            if learner.reached_target(result):
                outcome = "target"
                break
    except KeyboardInterrupt as stop:
        outcome = getattr(stop, "outcome", "interrupted")
    except BaseException:
        for reporter in reporters:
            reporter.on_run_end(learner, "aborted")
        raise
    for reporter in reporters:
        reporter.on_run_end(learner, outcome)
    return outcome
