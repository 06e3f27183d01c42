"""The Gymnasium environments: the checker passes, seeds reproduce, and an episode is exactly a drive of `World`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402
from gymnasium.vector import AutoresetMode  # noqa: E402

import neurocar.envs  # noqa: E402
from neurocar.envs import NeuroCarEnv, NeuroCarVectorEnv  # noqa: E402
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
    config = config.replace("episode", max_seconds=40.0)  # past the first lap
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


@pytest.fixture(scope="module")
def three_tracks(tmp_path_factory):
    """A folder of three shipped tracks."""
    folder = tmp_path_factory.mktemp("tracks")
    for name in ("oval", "classic", "hairpins"):
        shutil.copy(TRACKS_DIR / f"{name}.yaml", folder / f"{name}.yaml")
    return folder


def test_a_folder_or_generated_tracks_draw_a_track_per_reset(three_tracks):
    generated = NeuroCarEnv(track="generated", difficulty=2)
    assert len({generated.reset(seed=seed)[1]["track"] for seed in range(2)}) == 2
    env = NeuroCarEnv(track=three_tracks)
    assert {env.reset(seed=seed)[1]["track"] for seed in range(12)} == {"Oval", "Classic", "Hairpins"}


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


# --- the vector environment --------------------------------------------------------------------------------------


def test_make_vec_builds_one_batched_world():
    envs = gymnasium.make_vec("neurocar.envs:NeuroCar-v0", num_envs=6, track="classic")
    assert isinstance(envs, NeuroCarVectorEnv) and envs.num_envs == 6
    observations, infos = envs.reset(seed=0)
    assert observations.shape == (6, 3) and observations.dtype == np.float32
    assert envs.world.car_count == 6 and infos["_laps"].all()
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert isinstance(gymnasium.make_vec(neurocar.envs.VECTOR_ENVIRONMENT_ID, num_envs=2), NeuroCarVectorEnv)


def test_each_car_of_the_vector_env_drives_like_the_one_car_env(classic):
    count, steps = 4, 200
    actions = np.random.default_rng(7).integers(0, 3, size=(steps, count))
    envs = NeuroCarVectorEnv(num_envs=count, track=classic)
    observations, _ = envs.reset(seed=0)
    vector_trace = [observations]
    rewards, ended = [], []
    for step in range(steps):
        observations, reward, terminated, truncated, _ = envs.step(actions[step])
        vector_trace.append(observations)
        rewards.append(reward)
        ended.append(terminated | truncated)
    for car in range(count):
        env = NeuroCarEnv(track=classic)
        observation, _ = env.reset(seed=0)
        np.testing.assert_array_equal(observation, vector_trace[0][car])
        for step in range(steps):
            observation, reward, terminated, truncated, _ = env.step(int(actions[step, car]))
            np.testing.assert_array_equal(observation, vector_trace[step + 1][car])
            assert reward == rewards[step][car] and (terminated or truncated) == ended[step][car]
            if terminated or truncated:
                break
        else:
            pytest.fail("random driving should end an episode within 200 steps")


def _drive_until_episodes_end(envs, seed: int, steps: int):
    actions = np.random.default_rng(seed)
    envs.reset(seed=seed)
    history = []
    for _ in range(steps):
        history.append(envs.step(actions.integers(0, 3, size=envs.num_envs)))
    return history


def test_next_step_autoreset_sums_rewards_to_each_episodes_fitness():
    envs = NeuroCarVectorEnv(num_envs=8, track="hairpins", random_start=True)
    history = _drive_until_episodes_end(envs, seed=1, steps=300)
    sums = np.zeros(8)
    episodes = 0
    restarting = np.zeros(8, dtype=bool)
    for _observations, rewards, terminated, truncated, infos in history:
        # A car that ended one step earlier was restarted: no reward, no ending, a fresh episode.
        assert (rewards[restarting] == 0).all() and not (terminated | truncated)[restarting].any()
        assert (infos["progress_m"][restarting] == 0).all() and (infos["laps"][restarting] == 0).all()
        sums += rewards
        ended = terminated | truncated
        for car in np.nonzero(ended)[0]:
            assert sums[car] == pytest.approx(infos["fitness"][car], abs=1e-9)
            assert terminated[car] == infos["crashed"][car]
            sums[car] = 0.0
            episodes += 1
        restarting = ended
    assert episodes >= 8


def test_same_step_autoreset_returns_the_final_observation_in_the_info():
    envs = NeuroCarVectorEnv(num_envs=8, track="hairpins", autoreset_mode="SameStep")
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    start = NeuroCarEnv(track="hairpins").reset(seed=0)[0]
    seen = 0
    for observations, _rewards, terminated, truncated, infos in _drive_until_episodes_end(envs, seed=2, steps=200):
        ended = terminated | truncated
        if not ended.any():
            assert "final_obs" not in infos
            continue
        np.testing.assert_array_equal(infos["_final_obs"], ended)
        for car in np.nonzero(ended)[0]:
            assert infos["final_obs"][car].shape == (3,) and infos["final_info"]["_fitness"][car]
            assert infos["progress_m"][car] == 0.0  # the observation is already the new episode's
            np.testing.assert_array_equal(observations[car], start)
        assert all(infos["final_obs"][car] is None for car in np.nonzero(~ended)[0])
        seen += int(ended.sum())
    assert seen >= 8


def test_vector_seeds_reproduce_and_folders_share_the_cars(three_tracks):
    first = _drive_until_episodes_end(NeuroCarVectorEnv(num_envs=4, random_start=True), seed=5, steps=50)
    second = _drive_until_episodes_end(NeuroCarVectorEnv(num_envs=4, random_start=True), seed=5, steps=50)
    for one, other in zip(first, second, strict=True):
        np.testing.assert_array_equal(one[0], other[0])
        np.testing.assert_array_equal(one[1], other[1])
    envs = NeuroCarVectorEnv(num_envs=6, track=three_tracks)
    envs.reset(seed=0)
    assert [track.name for track in envs.world.tracks] == ["Classic", "Hairpins", "Oval"]
    assert envs.world.population == 2
    with pytest.raises(ValueError, match="multiple of the number of tracks"):
        NeuroCarVectorEnv(num_envs=4, track=three_tracks)
    with pytest.raises(ValueError, match="integer actions"):
        envs.step(np.ones(3, dtype=np.int64))


def test_human_rendering_draws_in_a_window_and_the_vector_env_renders_its_cars():
    env = NeuroCarEnv(track="oval", render_mode="human")
    env.reset(seed=0)
    env.step(1)
    assert pygame_surface_size() == (640, 480)
    env.close()
    envs = NeuroCarVectorEnv(num_envs=3, track="oval", render_mode="rgb_array", random_start=True)
    envs.reset(seed=0)
    frame = envs.render()
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    envs.close()


def pygame_surface_size():
    import pygame

    return pygame.display.get_surface().get_size()


def test_without_gymnasium_the_import_says_how_to_get_it(tmp_path):
    code = """
        import sys
        sys.modules["gymnasium"] = None  # as if it were not installed
        try:
            import neurocar.envs
        except ImportError as error:
            print(error)
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == (
        "the NeuroCar Gymnasium environments need the gymnasium package: pip install 'neurocar[gym]'"
    )
