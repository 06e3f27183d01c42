"""The Gymnasium environments: the checker passes, seeds reproduce, and an episode is exactly a drive of `World`."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

import neurocar.envs  # noqa: E402
from neurocar.envs import NeuroCarEnv  # noqa: E402
from neurocar.errors import NeuroCarError  # noqa: E402
from neurocar.learn.model_file import config_for_model, load_model  # noqa: E402
from neurocar.learn.policy import PopulationPolicy, network_vector  # noqa: E402
from neurocar.paths import SHIPPED_DRIVER, TRACKS_DIR  # noqa: E402
from neurocar.sim.fitness import fitness_terms, total_fitness  # noqa: E402
from neurocar.sim.world import World  # noqa: E402


@pytest.fixture(scope="module")
def driver(config):
    """The shipped general driver and a greedy one-car policy of it."""
    model = load_model(SHIPPED_DRIVER)
    policy = PopulationPolicy(model.network)
    policy.set_parameters(network_vector(model.network).reshape(1, -1))
    return config_for_model(model, config, []), policy


def test_check_env_passes_on_a_fixed_and_a_random_start():
    check_env(NeuroCarEnv(track="hairpins"), skip_render_check=True)
    made = gymnasium.make("neurocar.envs:NeuroCar-v0", track="classic", random_start=True, render_mode="rgb_array")
    check_env(made.unwrapped)


def test_the_registered_ids_make_the_environments():
    env = gymnasium.make("neurocar.envs:NeuroCar-v0", track="hairpins")
    assert isinstance(env.unwrapped, NeuroCarEnv) and env.unwrapped.track is None
    observation, info = env.reset(seed=0)
    assert observation.shape == (3,) and info["track"] == "Hairpins"
    assert gymnasium.make(neurocar.envs.ENVIRONMENT_ID, track="oval").unwrapped.source.tracks[0].name == "Oval"


def test_spaces_follow_the_sensors(config):
    env = NeuroCarEnv(track="oval", config=config.replace("sensors", angles_deg=(-60.0, -20.0, 0.0, 20.0, 60.0)))
    assert env.observation_space.shape == (5,) and env.action_space.n == 3
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)


def _random_rollout(env, seed: int, steps: int = 300) -> list[tuple]:
    actions = np.random.default_rng(seed)
    trace = []
    observation, info = env.reset(seed=seed)
    trace.append((observation.tobytes(), info["start_m"]))
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(int(actions.integers(3)))
        trace.append((observation.tobytes(), reward, terminated, truncated))
        if terminated or truncated:
            observation, info = env.reset()
            trace.append((observation.tobytes(), info["start_m"]))
    return trace


def test_the_same_seed_gives_the_same_episodes_and_another_seed_other_starts():
    first = _random_rollout(NeuroCarEnv(track="classic", random_start=True), seed=3)
    second = _random_rollout(NeuroCarEnv(track="classic", random_start=True), seed=3)
    other = _random_rollout(NeuroCarEnv(track="classic", random_start=True), seed=4)
    assert first == second
    assert first[0][1] != other[0][1]  # the start places differ
    assert sum(len(item) == 2 for item in first) >= 2  # random driving ended at least one episode


def test_an_episode_is_exactly_a_drive_of_the_world(driver, classic):
    config, policy = driver
    env = NeuroCarEnv(track=classic, config=config)
    observation, info = env.reset(seed=0)
    env_observations, total_reward, done = [observation], 0.0, False
    while not done:
        action = int(policy.actions(observation[None].astype(np.float64))[0])
        observation, reward, terminated, truncated, info = env.step(action)
        env_observations.append(observation)
        total_reward += reward
        done = terminated or truncated

    world = World(classic, config.physics, config.sensors, config.episode, 1)
    world_observations = [world.reset().copy()]
    while not world.done:
        world_observations.append(world.step(policy.actions(world.observations)).copy())
    state = world.state
    fitness = total_fitness(fitness_terms(state.progress_m, state.laps, state.crashed, state.time_s), config.fitness)

    assert len(env_observations) == len(world_observations)
    for from_env, from_world in zip(env_observations, world_observations, strict=True):
        np.testing.assert_array_equal(from_env, from_world[0].astype(np.float32))
    assert total_reward == pytest.approx(float(fitness[0]), abs=1e-9)
    assert info["fitness"] == pytest.approx(float(fitness[0]), abs=1e-12)
    assert info["laps"] == int(state.laps[0]) and info["progress_m"] == pytest.approx(float(state.progress_m[0]))
    assert terminated == bool(state.crashed[0]) and truncated == (not state.crashed[0])


def test_a_lap_target_truncates_the_episode(driver):
    config, policy = driver
    env = NeuroCarEnv(track="classic", config=config, laps=1)
    observation, info = env.reset(seed=0)
    rewards = []
    for _ in range(10_000):
        observation, reward, terminated, truncated, info = env.step(
            int(policy.actions(observation[None].astype(np.float64))[0])
        )
        rewards.append(reward)
        if terminated or truncated:
            break
    assert truncated and not terminated and info["laps"] == 1
    assert sum(rewards) == pytest.approx(info["terms"]["progress"] + config.fitness.lap)


def test_a_crash_terminates_with_the_crash_penalty(config):
    env = NeuroCarEnv(track="hairpins")
    env.reset(seed=0)
    for _ in range(10_000):
        _observation, _reward, terminated, truncated, info = env.step(0)  # always left: into a wall
        if terminated or truncated:
            break
    assert terminated and not truncated and info["crashed"]
    assert info["terms"]["crash"] == 1.0 and info["fitness"] == pytest.approx(
        info["terms"]["progress"] + config.fitness.crash
    )


def test_a_folder_or_generated_tracks_draw_a_track_per_reset(tmp_path, config):
    names = {NeuroCarEnv(track="generated", difficulty=2).reset(seed=seed)[1]["track"] for seed in range(3)}
    assert len(names) == 3
    env = NeuroCarEnv(track=TRACKS_DIR)
    drawn = {env.reset(seed=seed)[1]["track"] for seed in range(12)}
    assert len(drawn) >= 3


def test_bad_options_are_refused():
    with pytest.raises(NeuroCarError, match="nowhere"):
        NeuroCarEnv(track="nowhere")
    with pytest.raises(ValueError, match="laps"):
        NeuroCarEnv(laps=0)
    with pytest.raises(ValueError, match="render_mode"):
        NeuroCarEnv(render_mode="ascii")
    env = NeuroCarEnv(track="oval")
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(3)


def test_rgb_array_frames_show_the_car_moving():
    env = NeuroCarEnv(track="oval", render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    for _ in range(20):
        env.step(1)
    later = env.render()
    assert first.shape == (480, 640, 3) and first.dtype == np.uint8
    assert (first != later).any()


def test_pygame_is_imported_only_when_rendering(tmp_path):
    code = """
        import sys
        import neurocar.envs
        env = neurocar.envs.NeuroCarEnv(track="oval")
        env.reset(seed=0)
        env.step(1)
        before = "pygame" in sys.modules
        env = neurocar.envs.NeuroCarEnv(track="oval", render_mode="rgb_array")
        env.reset(seed=0)
        env.render()
        print(before, "pygame" in sys.modules)
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**__import__("os").environ, "SDL_VIDEODRIVER": "dummy"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
