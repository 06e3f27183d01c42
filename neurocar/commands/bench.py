"""`neurocar bench`: how fast the headless simulation runs, in car-steps per second, and how much memory it needs.

One car-step = one car sensed, its policy evaluated, moved, collision-checked and its progress updated. Cars that
crash are put back at random places on the track so the whole population drives in every measured step; that
respawning is benchmark scaffolding, so its time is left out of the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time

import numpy as np
import torch

from neurocar.commands.common import config_from_args, load_one_track, require_at_least
from neurocar.learn.genetic import centred_population
from neurocar.learn.neuroevolution import UNLIMITED_GENERATIONS, Neuroevolution
from neurocar.learn.policy import PopulationPolicy, build_network
from neurocar.sim.generator import MAX_DIFFICULTY, generate_track
from neurocar.sim.world import World

POPULATIONS = (100, 1000, 10000)
LAP_SEARCH_GENERATIONS = 100


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far [MiB]."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / (1024.0 * 1024.0)


def measure(world: World, policy: PopulationPolicy | None, seconds: float, rng: np.random.Generator) -> dict:
    """Step the world for about `seconds`, respawning crashed cars; returns car-steps/s and the time split."""
    observations = world.reset()
    count = world.population
    world.place(np.arange(count), rng.random(count) * world.track.length_m)
    observations = world.observations
    steps = 0
    car_steps = 0
    policy_seconds = 0.0
    respawn_seconds = 0.0
    started = time.perf_counter()
    while True:
        policy_started = time.perf_counter()
        actions = rng.integers(0, 3, count) if policy is None else policy.actions(observations)
        step_started = time.perf_counter()
        policy_seconds += step_started - policy_started
        car_steps += int(world.state.driving.sum())
        observations = world.step(actions)
        steps += 1
        respawn_started = time.perf_counter()
        stopped = np.nonzero(~world.state.driving)[0]
        if len(stopped):
            world.place(stopped, rng.random(len(stopped)) * world.track.length_m)
        respawn_seconds += time.perf_counter() - respawn_started
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and steps >= 20:
            break
    measured = elapsed - respawn_seconds
    return {
        "car_steps_per_s": car_steps / measured,
        "steps": steps,
        "policy_share": policy_seconds / measured,
    }


def run(arguments: argparse.Namespace) -> int:
    """Measure and print the benchmark."""
    require_at_least("--seconds", arguments.seconds, 0)
    config = config_from_args(arguments)
    track = load_one_track(arguments.track, config)
    rng = np.random.default_rng(arguments.seed)
    generator = torch.Generator().manual_seed(arguments.seed)
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    # Measured steps never time out; crashed and stalled cars are respawned instead.
    episode = dataclasses.replace(config.episode, max_seconds=1e12)
    results: dict = {"track": track.name, "car_steps_per_s": {}, "random_actions_car_steps_per_s": {}}
    if not arguments.json:
        print(f"track {track.name} ({track.length_m:.0f} m, {len(track.wall_starts)} wall segments)")
    build_started = time.perf_counter()
    World(track, config.physics, config.sensors, config.episode, 1)
    results["world_build_s"] = time.perf_counter() - build_started
    # What --random-tracks adds to every generation, per track: generating it and building its world.
    generated_started = time.perf_counter()
    for difficulty in range(1, MAX_DIFFICULTY + 1):
        generated, _text = generate_track(arguments.seed, difficulty, config.physics)
        World(generated, config.physics, config.sensors, config.episode, 1)
    results["generated_track_s"] = (time.perf_counter() - generated_started) / MAX_DIFFICULTY
    for population in POPULATIONS:
        world = World(track, config.physics, config.sensors, episode, population)
        policy = PopulationPolicy(network)
        policy.set_parameters(centred_population(population, network, config.evolution.init_sigma, generator))
        full = measure(world, policy, arguments.seconds, rng)
        simulation = measure(world, None, arguments.seconds / 2, rng)
        results["car_steps_per_s"][str(population)] = round(full["car_steps_per_s"])
        results["random_actions_car_steps_per_s"][str(population)] = round(simulation["car_steps_per_s"])
        results[f"policy_share_{population}"] = round(full["policy_share"], 3)
        if not arguments.json:
            print(
                f"population {population:>6,}: {full['car_steps_per_s']:>12,.0f} car-steps/s with the policy "
                f"({100 * full['policy_share']:.0f}% in the policy), "
                f"{simulation['car_steps_per_s']:>12,.0f} with random actions"
            )
        del world
    results["peak_memory_mib"] = round(peak_memory_mib(), 1)

    evolution = Neuroevolution(config, [track], arguments.seed, generations=UNLIMITED_GENERATIONS)
    generation_started = time.perf_counter()
    result = evolution.step_generation()
    results["generation"] = {
        "population": config.evolution.population,
        "seconds": round(time.perf_counter() - generation_started, 4),
        "car_steps": result.car_steps,
        "car_steps_per_s": round(result.car_steps_per_second),
    }
    # A late generation is the expensive kind: keep evolving until the best car laps, and time that generation.
    while result.best_laps < 1 and evolution.generation < LAP_SEARCH_GENERATIONS:
        evolution.target_laps = 1
        result = evolution.step_generation()
    results["lap_generation"] = {
        "generation": result.generation,
        "best_laps": result.best_laps,
        "seconds": round(result.seconds, 4),
        "car_steps": result.car_steps,
        "car_steps_per_s": round(result.car_steps_per_second),
    }
    if arguments.json:
        print(json.dumps(results, indent=2))
    else:
        generation = results["generation"]
        print(
            f"one generation ({generation['population']} cars, first generation): {generation['seconds']:.3f} s, "
            f"{generation['car_steps']:,} car-steps, {generation['car_steps_per_s']:,} car-steps/s"
        )
        lap = results["lap_generation"]
        print(
            f"generation {lap['generation']}, in which the best car laps: {lap['seconds']:.3f} s, "
            f"{lap['car_steps']:,} car-steps, {lap['car_steps_per_s']:,} car-steps/s"
        )
        print(f"world build (grids for the track): {results['world_build_s']:.3f} s")
        print(f"generated track (generate and build, mean of difficulties 1-5): {results['generated_track_s']:.3f} s")
        print(f"peak memory: {results['peak_memory_mib']:.0f} MiB")
    return 0
