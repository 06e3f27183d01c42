"""The replay of an evaluation drive: the same drive as `evaluate_network` (one car, one track, the same time
limit), with every action recorded, so `neurocar evaluate --replay-out` can be watched afterwards."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from neurocar.config import Config
from neurocar.learn.evaluation import time_for_laps
from neurocar.learn.policy import PopulationPolicy, network_rows
from neurocar.sim.replay import Replay, ReplayRecorder
from neurocar.sim.track import Track
from neurocar.sim.world import World

if TYPE_CHECKING:
    from torch import nn


def evaluation_replay(network: nn.Sequential, label: str, config: Config, track: Track, laps: int) -> Replay:
    """Drive one car with `network` until `laps` laps, a crash, a stall or the time limit, and return the replay
    (the car is parked on the line once it has driven the laps)."""
    episode = dataclasses.replace(config.episode, max_seconds=time_for_laps(track, config.physics, laps))
    world = World(track, config.physics, config.sensors, episode, population=1)
    recorder = ReplayRecorder("evaluate", track, config.physics, config.sensors, episode, [label], ["model"], laps)
    policy = PopulationPolicy(network)
    policy.set_parameters(network_rows(network))
    observations = world.reset()
    while not world.done:
        actions = policy.actions(observations)
        observations = world.step(actions)
        recorder.step(actions)
        if int(world.state.laps[0]) >= laps and world.state.driving[0]:
            world.stop(np.array([0]))
            recorder.stop([0])
    return recorder.replay(world)
