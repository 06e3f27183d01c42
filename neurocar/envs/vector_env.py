"""`NeuroCarVectorEnv`: many cars in one batched world, in Gymnasium's vector API, with autoreset.

Each of the `num_envs` cars is one sub-environment of `NeuroCarEnv` (same spaces, rewards, endings and options), but
all of them are stepped together by one `World`. With several tracks (a folder) the cars are shared out evenly,
car k on track k // (num_envs / tracks), so `num_envs` must be a multiple of the track count; with "generated"
every `reset()` builds `generated_tracks` new tracks.

Autoreset follows `autoreset_mode` (declared in `metadata["autoreset_mode"]`):

| mode      | a car whose episode ended...                                                                      |
|-----------|---------------------------------------------------------------------------------------------------|
| NEXT_STEP | (the default) returns its last observation; the next `step()` ignores its action and starts a new  |
|           | episode: reset observation, reward 0, not terminated, not truncated                               |
| SAME_STEP | starts its new episode at once: the step returns the reset observation, and `info["final_obs"]`   |
|           | (an object array, None for the others) and `info["final_info"]` hold how the episode ended         |

Infos are batched the Gymnasium way: `info["laps"]` is an array over the cars and `info["_laps"]` says which cars it
is for (all of them here).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from neurocar.config import Config
from neurocar.envs.car_env import RENDER_MODES, check_options, episode_seconds
from neurocar.envs.track_source import TrackOption, TrackSource, config_option
from neurocar.sim.episodes import Episodes
from neurocar.sim.fitness import FITNESS_TERMS
from neurocar.sim.world import World


class NeuroCarVectorEnv(VectorEnv):
    """`num_envs` NeuroCar cars stepped as one batched world (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": list(RENDER_MODES),
        "render_fps": 20,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 16,
        track: TrackOption = None,
        config: Config | str | None = None,
        laps: int | None = None,
        random_start: bool = False,
        render_mode: str | None = None,
        difficulty: int = 3,
        generated_tracks: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        check_options(laps, render_mode)
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a whole number of at least 1, got {num_envs!r}")
        mode = AutoresetMode(autoreset_mode)
        if mode == AutoresetMode.DISABLED:
            raise ValueError("autoreset_mode must be NEXT_STEP or SAME_STEP: the batched world restarts cars itself")
        self.config = config_option(config)
        self.source = TrackSource(track, self.config, difficulty)
        self.generated_tracks = generated_tracks
        track_count = generated_tracks if self.source.generated else len(self.source.tracks)
        if num_envs % track_count:
            raise ValueError(f"num_envs ({num_envs}) must be a multiple of the number of tracks ({track_count})")
        self.num_envs = num_envs
        self.laps = laps
        self.random_start = random_start
        self.render_mode = render_mode
        self.autoreset_mode = mode
        self.metadata = {
            **self.metadata,
            "render_fps": max(1, round(1.0 / self.config.physics.dt_s)),
            "autoreset_mode": mode,
        }
        sensor_count = len(self.config.sensors.angles_deg)
        self.single_observation_space = spaces.Box(0.0, 1.0, (sensor_count,), np.float32)
        self.single_action_space = spaces.Discrete(3)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.world: World | None = None
        self.episodes: Episodes | None = None
        self._pending = np.zeros(num_envs, dtype=bool)  # NEXT_STEP: cars to restart at the next step
        self._renderer: Any = None

    def _build_world(self) -> World:
        tracks = self.source.draw_many(self.generated_tracks, self.np_random)
        config = self.config
        return World(
            tracks,
            config.physics,
            config.sensors,
            config.episode,
            self.num_envs // len(tracks),
            max_seconds=[episode_seconds(config, track, self.laps) for track in tracks],
        )

    def _starts(self, cars: np.ndarray) -> np.ndarray:
        """Where new episodes of these cars start [m]: the start line, or random places along their tracks."""
        assert self.world is not None
        if not self.random_start:
            return np.zeros(len(cars))
        return self.np_random.uniform(0.0, 1.0, len(cars)) * self.world.track_length_m[cars]

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every car's episode (`seed` seeds the random starts and track draws; one seed for all cars)."""
        if isinstance(seed, list):
            seed = seed[0] if seed else None
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        if self.world is None or self.source.generated:
            self.world = self._build_world()
        self.episodes = Episodes(self.world, self.config.fitness, self.laps)
        cars = np.arange(self.num_envs)
        self.world.reset()
        observations = self.episodes.start(cars, self._starts(cars))
        self._pending[:] = False
        if self.render_mode == "human":
            self.render()
        return observations.astype(np.float32), self._infos()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every car with its action (num_envs,), restarting ended episodes as `autoreset_mode` says."""
        if self.episodes is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise ValueError(f"expected {self.num_envs} integer actions, got shape {actions.shape} ({actions.dtype})")
        if actions.size and (actions.min() < 0 or actions.max() > 2):
            raise ValueError("actions must be 0 (left), 1 (straight) or 2 (right)")
        result = self.episodes.step(actions.astype(np.int64))
        observations = result.observations
        infos: dict[str, Any] = {}
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            restart = np.nonzero(self._pending)[0]
            if len(restart):
                observations = self.episodes.start(restart, self._starts(restart))
            self._pending = result.ended.copy()
            infos = self._infos()
        else:
            ended = np.nonzero(result.ended)[0]
            if len(ended):
                final_observations = np.full(self.num_envs, None, dtype=object)
                for car in ended.tolist():
                    final_observations[car] = observations[car].astype(np.float32)
                final_info = self._infos(result.ended)
                observations = self.episodes.start(ended, self._starts(ended))
                infos = self._infos()
                infos["final_obs"], infos["_final_obs"] = final_observations, result.ended.copy()
                infos["final_info"], infos["_final_info"] = final_info, result.ended.copy()
            else:
                infos = self._infos()
        if self.render_mode == "human":
            self.render()
        return (
            observations.astype(np.float32),
            result.rewards.copy(),
            result.terminated.copy(),
            result.truncated.copy(),
            infos,
        )

    def _infos(self, mask: np.ndarray | None = None) -> dict[str, Any]:
        """Batched infos of the cars in `mask` (default all): laps, progress, fitness, terms, crashed, stalled."""
        assert self.episodes is not None and self.world is not None
        mask = np.ones(self.num_envs, dtype=bool) if mask is None else mask
        terms = self.episodes.terms()
        state = self.world.state
        values = {
            "laps": np.where(mask, state.laps - self.episodes.start_laps, 0),
            "progress_m": np.where(mask, terms["progress"], 0.0),
            "fitness": np.where(mask, self.episodes.fitness, 0.0),
            "crashed": state.crashed & mask,
            "stalled": state.stalled & mask,
        }
        infos: dict[str, Any] = {}
        for key, value in values.items():
            infos[key], infos[f"_{key}"] = value, mask.copy()
        infos["terms"] = {}
        for name in FITNESS_TERMS:
            infos["terms"][name], infos["terms"][f"_{name}"] = np.where(mask, terms[name], 0.0), mask.copy()
        infos["_terms"] = mask.copy()
        return infos

    def render(self) -> np.ndarray | None:
        """Draw the cars of the first track (window or frame, as `render_mode` says)."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() was called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        if self.world is None:
            raise gymnasium.error.ResetNeeded("call reset() before render()")
        if self._renderer is None:
            from neurocar.envs.rendering import EnvRenderer

            self._renderer = EnvRenderer(self.config, self.render_mode, self.metadata["render_fps"])
        return self._renderer.draw(self.world)

    def close_extras(self, **kwargs: Any) -> None:
        """Close the window, if one was opened."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
