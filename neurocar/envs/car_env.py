"""`NeuroCarEnv`: one car on a track, as a Gymnasium environment.

| observation | `Box(0, 1, (R,), float32)`: one reading per sensor ray, wall distance / range (1 = nothing in range) |
|-------------|------------------------------------------------------------------------------------------------------|
| action      | `Discrete(3)`: 0 steer left, 1 straight, 2 steer right                                               |
| reward      | change of the weighted fitness terms in the step: the rewards of an episode add up to its fitness    |
| terminated  | the car crashed                                                                                      |
| truncated   | the car stalled (no new progress for `episode.stall_seconds`), ran out of time, or drove `laps` laps |
| info        | laps, progress_m (since the start), start_m, fitness, terms (each term), crashed, stalled, track    |

Options: `track` (a file, a shipped name, a folder whose tracks are drawn per reset, or "generated" for a new
generated track per reset of `difficulty`), `config` (a `Config` or a YAML file; default the shipped config), `laps`
(end the episode after that many laps; the time limit grows to allow them), `random_start` (start each episode at a
random place along the track, drawn from the generator `reset(seed=)` seeds) and `render_mode` ("human" draws in a
window with the simulator's own renderer, "rgb_array" returns frames). The episode's time limit is
`episode.max_seconds` of the config.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces

from neurocar.config import Config
from neurocar.envs.track_source import TrackOption, TrackSource, config_option
from neurocar.sim.episodes import Episodes
from neurocar.sim.track import Track
from neurocar.sim.world import World

RENDER_MODES = ("human", "rgb_array")


def episode_seconds(config: Config, track: Track, laps: int | None) -> float:
    """The time limit of an episode [s]: the config's, or longer when `laps` laps need more."""
    if laps is None:
        return config.episode.max_seconds
    from neurocar.learn.evaluation import time_for_laps

    return max(config.episode.max_seconds, time_for_laps(track, config.physics, laps))


def check_options(laps: int | None, render_mode: str | None) -> None:
    """Reject a lap target below 1 and an unknown render mode."""
    if laps is not None and (isinstance(laps, bool) or not isinstance(laps, int) or laps < 1):
        raise ValueError(f"laps must be a whole number of at least 1, got {laps!r}")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be one of {', '.join(RENDER_MODES)}, got {render_mode!r}")


class NeuroCarEnv(gymnasium.Env):
    """One car driving episodes on a NeuroCar track (see the module docstring for the spaces and options)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": list(RENDER_MODES), "render_fps": 20}

    def __init__(
        self,
        track: TrackOption = None,
        config: Config | str | None = None,
        laps: int | None = None,
        random_start: bool = False,
        render_mode: str | None = None,
        difficulty: int = 3,
    ) -> None:
        check_options(laps, render_mode)
        self.config = config_option(config)
        self.source = TrackSource(track, self.config, difficulty)
        self.laps = laps
        self.random_start = random_start
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": max(1, round(1.0 / self.config.physics.dt_s))}
        sensor_count = len(self.config.sensors.angles_deg)
        self.observation_space = spaces.Box(0.0, 1.0, (sensor_count,), np.float32)
        self.action_space = spaces.Discrete(3)
        self.track: Track | None = None
        self.world: World | None = None
        self.episodes: Episodes | None = None
        self._worlds: dict[int, World] = {}
        self._renderer: Any = None

    def _world_for(self, track: Track) -> World:
        """The one-car world of a track, built once per listed track (a generated track gets a new one)."""
        key = id(track)
        world = self._worlds.get(key)
        if world is None:
            episode = dataclasses.replace(
                self.config.episode, max_seconds=episode_seconds(self.config, track, self.laps)
            )
            world = World(track, self.config.physics, self.config.sensors, episode, 1)
            if not self.source.generated:
                self._worlds[key] = world
        return world

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode (on a newly drawn track if there are several); `options={"start_m": x}` starts it x
        metres along the track."""
        super().reset(seed=seed)
        self.track = self.source.draw(self.np_random)
        self.world = self._world_for(self.track)
        self.episodes = Episodes(self.world, self.config.fitness, self.laps)
        start = 0.0
        if options and "start_m" in options:
            start = float(options["start_m"])
        elif self.random_start:
            start = float(self.np_random.uniform(0.0, self.track.length_m))
        observations = self.episodes.reset(start)
        if self.render_mode == "human":
            self.render()
        return observations[0].astype(np.float32), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Drive one step with `action` (0 left, 1 straight, 2 right)."""
        if self.episodes is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (left), 1 (straight) or 2 (right), got {action!r}")
        result = self.episodes.step(np.array([int(action)], dtype=np.int64))
        if self.render_mode == "human":
            self.render()
        return (
            result.observations[0].astype(np.float32),
            float(result.rewards[0]),
            bool(result.terminated[0]),
            bool(result.truncated[0]),
            self._info(),
        )

    def _info(self) -> dict[str, Any]:
        assert self.episodes is not None and self.track is not None
        return {**self.episodes.info(0), "track": self.track.name}

    def render(self) -> np.ndarray | None:
        """Draw the car on its track: in a window ("human") or as an (H, W, 3) uint8 frame ("rgb_array")."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() was called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        if self.world is None:
            raise gymnasium.error.ResetNeeded("call reset() before render()")
        if self._renderer is None:
            from neurocar.envs.rendering import EnvRenderer

            self._renderer = EnvRenderer(self.config, self.render_mode, self.metadata["render_fps"])
        return self._renderer.draw(self.world)

    def close(self) -> None:
        """Close the window, if one was opened."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
