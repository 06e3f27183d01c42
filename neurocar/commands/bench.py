"""`neurocar bench`: how fast the headless simulation runs where people run it, and what starting it costs.

One car-step = one car moved, collision-checked, its progress updated and its sensors cast (and, in the "with the
policy" figures, its network evaluated). Every figure is given as car-steps per second and as time per world step
(one `World.step` call, every car at once). Cars that crash or stall are put back at random places on the track so
the whole population drives in every measured step; that respawning is benchmark scaffolding, so its time is left
out of the figures. Each cars figure (the table and the 10,000-car line) is the median of `MEASURE_WINDOWS` equal
windows of the measuring time (`--seconds`): a burst of other work on a shared machine spoils a window, not the
figure. The JSON keeps the slowest and the fastest window beside it.

| figure               | what is measured                                                              |
|----------------------|-------------------------------------------------------------------------------|
| cars N               | N cars on the default track, random actions (world only) and with the policy |
| on one core          | 1,000 cars with the step kept on one core (big worlds use every core)         |
| 5-track batch        | the default population on each of five generated tracks, in one world         |
| generation           | one whole generation of the default evolution, and the one in which a car laps |
| window               | the same generations driven by the `sim` window at max speed (no display)     |
| evaluate             | the shipped driver on every shipped track at once, one lap, as `evaluate` does |
| start                | import of the simulation, and its first compile on a fresh install            |
| memory               | peak resident memory, measured after stepping 10,000 cars                     |
| whole commands       | wall-clock time of whole `neurocar` commands (median of `--repeats` runs)      |
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neurocar.commands.common import config_from_args, load_one_track, load_tracks, require_at_least
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.learn.evaluation import evaluate_in_world, evaluation_world
from neurocar.learn.genetic import centred_population
from neurocar.learn.model_file import config_for_model, load_model
from neurocar.learn.neuroevolution import UNLIMITED_GENERATIONS, Neuroevolution
from neurocar.learn.policy import PopulationPolicy, layout_from_config
from neurocar.paths import SHIPPED_DRIVER, TRACKS_DIR
from neurocar.sim.generator import MAX_DIFFICULTY, generate_track
from neurocar.sim.track import Track
from neurocar.sim.world import World

CAR_COUNTS = (1, 60, 1000)
MEMORY_CARS = 10_000
LAP_SEARCH_GENERATIONS = 100
ACTION_TABLE_ROWS = 512
# Every cars figure is the median of this many equal windows of the measuring time, each of at least this many steps.
MEASURE_WINDOWS = 15
MIN_WINDOW_STEPS = 5
WINDOW_GENERATIONS = 12
# The whole commands timed (the floors of the performance goals are set on these): label, arguments, and whether
# the seed changes from run to run.
WHOLE_COMMANDS = (
    ("train evolve --target-laps 1", ["train", "evolve", "--target-laps", "1"], True),
    (
        "train evolve --random-tracks 5 --target-laps 2",
        ["train", "evolve", "--random-tracks", "5", "--target-laps", "2"],
        True,
    ),
    (
        "evaluate --model driver --track classic --laps 2",
        ["evaluate", "--model", "driver", "--track", "classic", "--laps", "2"],
        False,
    ),
    (
        "evaluate --model driver --track shipped --laps 2",
        ["evaluate", "--model", "driver", "--track", "shipped", "--laps", "2"],
        False,
    ),
)

# Run in a fresh interpreter: the import of the simulation, then the first world built, reset and stepped (the
# kernels compiled or loaded from the cache). Prints both times, and the CPU time the process used, as JSON.
_START_PROBE = """
import json, time
started = time.perf_counter()
cpu_started = time.process_time()
import numpy as np
from neurocar.config import load_config
from neurocar.paths import TRACKS_DIR
from neurocar.sim.track import load_track
from neurocar.sim.world import World
imported = time.perf_counter()
config = load_config()
physics = config.physics
limits = physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m
track = load_track(TRACKS_DIR / "oval.yaml", *limits)
loaded = time.perf_counter()
world = World(track, physics, config.sensors, config.episode, 1)
world.reset(0)
world.step(np.ones(1, dtype=np.int64))
stepped = time.perf_counter()
cpu = time.process_time() - cpu_started
print(json.dumps({"import_s": imported - started, "first_step_s": stepped - loaded, "cpu_s": cpu}))
"""
# Run in a fresh interpreter, so that nothing else measured adds to its peak: 10,000 cars with random actions
# (the simulation alone), then with the policy (as headless evolution drives, without torch), then with torch
# imported too (what evaluation and the windows load). Prints the peaks [MiB] as JSON.
_MEMORY_PROBE = """
import json, resource, sys
import numpy as np
from neurocar.config import load_config
from neurocar.paths import TRACKS_DIR
from neurocar.sim.track import load_track
from neurocar.sim.world import World


def peak():
    # The kernel's high-water mark of this process image (getrusage's maximum survives the exec that started it).
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / 1024.0 if sys.platform != "darwin" else value / 1048576.0


config = load_config()
physics = config.physics
limits = physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m
track = load_track(TRACKS_DIR / "classic.yaml", *limits)
count = int(sys.argv[1])
rng = np.random.default_rng(0)
world = World(track, physics, config.sensors, config.episode, count)
world.reset(0)
world.place(np.arange(count), rng.random(count) * track.length_m)
for _ in range(50):
    world.step(rng.integers(0, 3, count))
simulation = peak()
from neurocar.learn.policy import PopulationPolicy, layout_from_config
from neurocar.learn.genetic import centred_population
policy = PopulationPolicy(layout_from_config(config))
policy.set_parameters(centred_population(count, policy.layout, config.evolution.init_sigma, rng))
world.reset(0)
world.place(np.arange(count), rng.random(count) * track.length_m)
for _ in range(50):
    world.step(policy.actions(world.observations))
with_policy = peak()
import torch
result = {"world_only_mib": simulation, "with_policy_mib": with_policy, "with_torch_mib": peak()}
print(json.dumps(result))
"""


# Run in a fresh interpreter with pygame's dummy video driver (no window appears): the same generations of the
# default evolution headless and in the `sim` window at max speed, drawing as it does for a person. Prints both
# rates (car-steps per second of the generations after the first, which loads the compiled code) as JSON.
_WINDOW_PROBE = """
import json, math, os, sys
os.environ["SDL_VIDEODRIVER"] = os.environ.get("NEUROCAR_BENCH_VIDEO", "dummy")
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
from neurocar.config import load_config
from neurocar.learn.neuroevolution import Neuroevolution
from neurocar.sim.track import load_track
from neurocar.ui.sim_app import SimApp

track_path, seed, generations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = load_config()
physics = config.physics
track = load_track(track_path, physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m)


def rate(results):
    later = results[1:]
    return sum(result.car_steps for result in later) / sum(result.seconds for result in later)


evolution = Neuroevolution(config, [track], seed, generations=generations)
headless = [evolution.step_generation() for _ in range(generations)]


class Measured(SimApp):
    def step(self):
        before = self.learning.last_result
        super().step()
        if self.learning.last_result is not before:
            window.append(self.learning.last_result)


window = []
Measured(config, track, seed, generations=generations, speed=math.inf).run()
same = [result.car_steps for result in window] == [result.car_steps for result in headless]
print(json.dumps({"headless": rate(headless), "window": rate(window), "same_drive": same}))
"""


def load_compiled_code(config: Config, track: Track) -> None:
    """Load (or, on a fresh install, compile) every kernel a drive uses before anything is timed: one step of a
    one-car world and one compiled policy forward."""
    world = World(track, config.physics, config.sensors, config.episode, 1, target_laps=1)
    world.reset()
    world.step(np.ones(1, dtype=np.int64))
    policy = population_policy(config, 1, np.random.default_rng(0))
    policy.actions(world.observations)


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far [MiB]."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / (1024.0 * 1024.0)


def measure(world: World, policy: PopulationPolicy | None, seconds: float, rng: np.random.Generator) -> dict:
    """Step the world for about `seconds`, respawning stopped cars, in `MEASURE_WINDOWS` windows of equal length.

    Each figure is the median over the windows (car-steps/s, time per step, the policy's share), so a burst of
    other work on the machine spoils one window rather than the figure; the slowest and fastest windows' rates are
    kept beside it.
    """
    world.reset()
    count = world.car_count
    actions_table = rng.integers(0, 3, (ACTION_TABLE_ROWS, count))
    world.place(np.arange(count), rng.random(count) * world.track_length_m)
    world.step(actions_table[0])  # untimed: loads the kernel this world size uses
    world.place(np.arange(count), rng.random(count) * world.track_length_m)
    if policy is not None:
        policy.actions(world.observations)
    observations = world.observations
    steps = 0
    rates, step_seconds, policy_shares = [], [], []
    clock = time.perf_counter
    window_seconds = seconds / MEASURE_WINDOWS
    for _ in range(MEASURE_WINDOWS):
        window_steps = 0
        car_steps = 0
        stepping = 0.0
        policy_seconds = 0.0
        finish = clock() + window_seconds
        while True:
            started = clock()
            actions = actions_table[steps % ACTION_TABLE_ROWS] if policy is None else policy.actions(observations)
            decided = clock()
            car_steps += world.driving_count
            observations = world.step(actions)
            ended = clock()
            policy_seconds += decided - started
            stepping += ended - started
            steps += 1
            window_steps += 1
            if world.driving_count < count:
                stopped = np.flatnonzero(~world.state.driving)
                world.place(stopped, rng.random(len(stopped)) * world.track_length_m[stopped])
                observations = world.observations
            if window_steps >= MIN_WINDOW_STEPS and ended >= finish:
                break
        rates.append(car_steps / stepping)
        step_seconds.append(stepping / window_steps)
        policy_shares.append(policy_seconds / stepping)
    return {
        "car_steps_per_s": round(float(np.median(rates))),
        "step_us": round(1e6 * float(np.median(step_seconds)), 2),
        "steps": steps,
        "windows": MEASURE_WINDOWS,
        "slowest_window_car_steps_per_s": round(min(rates)),
        "fastest_window_car_steps_per_s": round(max(rates)),
        "policy_share": round(float(np.median(policy_shares)), 3),
    }


def population_policy(config: Config, count: int, generator: np.random.Generator) -> PopulationPolicy:
    """A population policy of `count` random networks of the configured shape."""
    policy = PopulationPolicy(layout_from_config(config))
    policy.set_parameters(centred_population(count, policy.layout, config.evolution.init_sigma, generator))
    return policy


def cars_figures(world: World, config: Config, seconds: float, rng: np.random.Generator, generator) -> dict:
    """World-only and whole-loop figures for one world."""
    simulation = measure(world, None, seconds, rng)
    whole = measure(world, population_policy(config, world.car_count, generator), seconds, rng)
    return {"world": simulation, "with_policy": whole}


def probe(code: str, *arguments: str, environment: dict | None = None) -> dict:
    """Run `code` in a fresh interpreter and return the JSON it prints."""
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, env=environment, timeout=600
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise NeuroCarError(f"bench: a measurement in a fresh interpreter failed: {last}")
    return json.loads(result.stdout)


def start_figures() -> dict:
    """Import time and first-step time in fresh interpreters: with an empty compile cache (a fresh install) and
    again with the cache it left (every later run)."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix="neurocar-bench-cache-") as cache:
        environment = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for name in ("first_run", "cached"):
            started = time.perf_counter()
            figures[name] = {
                key: round(value, 3) for key, value in probe(_START_PROBE, environment=environment).items()
            }
            figures[name]["process_s"] = round(time.perf_counter() - started, 3)
    return figures


def window_figures(track: Track, seed: int) -> dict:
    """The `sim` window at max speed against the same generations headless, in a fresh interpreter."""
    figures = probe(_WINDOW_PROBE, str(Path(track.path).resolve()), str(seed), str(WINDOW_GENERATIONS))
    figures["share"] = figures["window"] / figures["headless"]
    return {key: round(value, 3) if isinstance(value, float) else value for key, value in figures.items()}


def command_figures(repeats: int, seed: int) -> dict:
    """Wall-clock seconds of whole commands in fresh processes (median of `repeats` runs, seeds seed, seed + 1,
    ...), run in a scratch folder."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix="neurocar-bench-runs-") as folder:
        for label, arguments, seeded in WHOLE_COMMANDS:
            seconds = []
            for repeat in range(repeats):
                extra = [
                    "--seed",
                    str(seed + repeat),
                    "--run-dir",
                    os.path.join(folder, f"run-{len(figures)}-{repeat}"),
                ]
                command = [sys.executable, "-m", "neurocar", *arguments, *(extra if seeded else [])]
                started = time.perf_counter()
                result = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=600)
                seconds.append(time.perf_counter() - started)
                if result.returncode != 0:
                    last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                    raise NeuroCarError(f"bench: neurocar {label} failed: {last}")
            figures[label] = {"median_s": round(float(np.median(seconds)), 3), "runs_s": [round(s, 3) for s in seconds]}
    return figures


def evaluate_figures(config: Config) -> dict:
    """The shipped driver on every shipped track at once, one lap each, as `neurocar evaluate` drives them."""
    model = load_model(SHIPPED_DRIVER)
    model_config = config_for_model(model, config, ())
    tracks = load_tracks([str(TRACKS_DIR)], model_config)
    started = time.perf_counter()
    world = evaluation_world(model_config, tracks, laps=1)
    built = time.perf_counter()
    results = evaluate_in_world(model.network, world, laps=1)
    seconds = time.perf_counter() - built
    dt = model_config.physics.dt_s
    steps = round(max(result.time_s for result in results) / dt)
    car_steps = round(sum(result.time_s for result in results) / dt)
    return {
        "tracks": len(tracks),
        "lapped": sum(result.laps_completed >= 1 for result in results),
        "world_build_s": round(built - started, 3),
        "seconds": round(seconds, 3),
        "steps": steps,
        "car_steps": car_steps,
        "car_steps_per_s": round(car_steps / seconds),
        "step_us": round(1e6 * seconds / max(1, steps), 2),
    }


def generation_figures(config: Config, track: Track, seed: int) -> dict:
    """One first generation of the default evolution, then the generation in which the best car first laps."""
    evolution = Neuroevolution(config, [track], seed, generations=UNLIMITED_GENERATIONS)
    started = time.perf_counter()
    result = evolution.step_generation()
    first = {
        "population": config.evolution.population,
        "seconds": round(time.perf_counter() - started, 4),
        "car_steps": result.car_steps,
        "car_steps_per_s": round(result.car_steps_per_second),
    }
    # A late generation is the expensive kind: keep evolving until the best car laps, and time that generation.
    evolution.target_laps = 1
    while result.best_laps < 1 and evolution.generation < LAP_SEARCH_GENERATIONS:
        result = evolution.step_generation()
    lap = {
        "generation": result.generation,
        "best_laps": result.best_laps,
        "seconds": round(result.seconds, 4),
        "car_steps": result.car_steps,
        "car_steps_per_s": round(result.car_steps_per_second),
    }
    return {"first": first, "lap": lap}


def check_seconds(value: float) -> None:
    """Reject a measuring time that is not a positive, finite number of seconds."""
    if not (math.isfinite(value) and value > 0):
        raise NeuroCarError(f"--seconds {value}: must be a positive, finite number of seconds")


def run(arguments: argparse.Namespace) -> int:
    """Measure and print the benchmark."""
    check_seconds(arguments.seconds)
    require_at_least("--repeats", arguments.repeats, 0)
    config = config_from_args(arguments)
    track = load_one_track(arguments.track, config)
    seconds = arguments.seconds
    rng = np.random.default_rng(arguments.seed)
    generator = np.random.default_rng(arguments.seed)
    say = (lambda text: None) if arguments.json else print
    # Measured steps never time out; crashed and stalled cars are respawned instead.
    episode = dataclasses.replace(config.episode, max_seconds=1e12)
    results: dict = {"track": track.name, "track_length_m": round(track.length_m, 1), "cars": {}}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results["cpus"], results["load_average"] = os.cpu_count(), round(load, 2)
    say(
        f"track {track.name} ({track.length_m:.0f} m, {len(track.wall_starts)} wall segments); "
        f"{os.cpu_count()} CPUs, load average {load:.1f} (wall-clock figures: other work on the machine lowers them)"
    )

    results["start"] = start_figures()
    first, cached = results["start"]["first_run"], results["start"]["cached"]
    say(
        f"start: import {cached['import_s']:.2f} s; first step {first['first_step_s']:.2f} s on a fresh install "
        f"(compiling; the whole process {first['process_s']:.2f} s, {first['cpu_s']:.2f} s of CPU), "
        f"{cached['first_step_s']:.2f} s after (from the compile cache; process {cached['process_s']:.2f} s, "
        f"{cached['cpu_s']:.2f} s of CPU)"
    )

    load_compiled_code(config, track)  # what every command loads first: the figures below are of stepping alone
    build_started = time.perf_counter()
    World(track, config.physics, config.sensors, config.episode, 1)
    results["world_build_s"] = round(time.perf_counter() - build_started, 4)
    # What --random-tracks adds to every generation, per track: generating it and building its world.
    generated_started = time.perf_counter()
    generated = []
    for difficulty in range(1, MAX_DIFFICULTY + 1):
        generated.append(generate_track(arguments.seed + difficulty, difficulty, config.physics)[0])
        World(generated[-1], config.physics, config.sensors, config.episode, 1)
    results["generated_track_s"] = round((time.perf_counter() - generated_started) / MAX_DIFFICULTY, 4)

    say(
        f"stepping figures (car-steps/s, us/step, policy share) are each the median of {MEASURE_WINDOWS} equal "
        f"windows of each measurement ({seconds:g} s, half that for 10,000 cars; --json adds the slowest and fastest)"
    )
    say(f"{'':24}{'world only':>28}    {'with the policy':>34}")
    for count in CAR_COUNTS:
        world = World(track, config.physics, config.sensors, episode, count)
        figures = cars_figures(world, config, seconds, rng, generator)
        results["cars"][str(count)] = figures
        say(line(f"{count:,} car(s)", figures))

    one_core = World(track, config.physics, config.sensors, episode, CAR_COUNTS[-1])
    one_core.parallel_min_cars = math.inf
    results["one_core"] = cars_figures(one_core, config, seconds, rng, generator)
    say(line(f"{CAR_COUNTS[-1]:,} on one core", results["one_core"]))

    population = config.evolution.population
    batch = World(generated, config.physics, config.sensors, episode, population)
    results["five_tracks"] = cars_figures(batch, config, seconds, rng, generator)
    say(line(f"5 tracks x {population}", results["five_tracks"]))

    memory_world = World(track, config.physics, config.sensors, episode, MEMORY_CARS)
    results["cars"][str(MEMORY_CARS)] = {"world": measure(memory_world, None, seconds / 2, rng)}
    del memory_world
    memory = {key: round(value, 1) for key, value in probe(_MEMORY_PROBE, str(MEMORY_CARS)).items()}
    results["memory_10000_cars"] = memory
    results["peak_memory_mib"] = memory["with_torch_mib"]
    results["bench_peak_memory_mib"] = round(peak_memory_mib(), 1)
    ten_thousand = results["cars"][str(MEMORY_CARS)]["world"]
    say(
        f"{MEMORY_CARS:,} cars: {ten_thousand['car_steps_per_s']:>12,} car-steps/s, "
        f"{ten_thousand['step_us']:,.0f} us/step (world only); peak memory of a fresh process stepping them: "
        f"{memory['world_only_mib']:.0f} MiB (simulation alone), {memory['with_policy_mib']:.0f} MiB with the policy "
        f"(as headless evolution drives), {memory['with_torch_mib']:.0f} MiB with torch imported too"
    )

    results["generation"] = generation_figures(config, track, arguments.seed)
    generation = results["generation"]["first"]
    say(
        f"one generation ({generation['population']} cars, first generation): {generation['seconds']:.3f} s, "
        f"{generation['car_steps']:,} car-steps, {generation['car_steps_per_s']:,} car-steps/s"
    )
    lap = results["generation"]["lap"]
    say(
        f"generation {lap['generation']}, in which the best car laps: {lap['seconds']:.3f} s, "
        f"{lap['car_steps']:,} car-steps, {lap['car_steps_per_s']:,} car-steps/s"
    )

    results["window"] = window_figures(track, arguments.seed)
    window = results["window"]
    say(
        f"the sim window at max speed ({population} cars, generations 2-{WINDOW_GENERATIONS}, no display): "
        f"{window['window']:,.0f} car-steps/s, {100 * window['share']:.0f}% of the same generations headless "
        f"({window['headless']:,.0f} car-steps/s)" + ("" if window["same_drive"] else "; THE DRIVES DIFFERED")
    )

    results["evaluate"] = evaluate_figures(config)
    evaluation = results["evaluate"]
    say(
        f"evaluate the shipped driver on all {evaluation['tracks']} shipped tracks at once (1 lap, "
        f"{evaluation['lapped']} lapped): grids {evaluation['world_build_s']:.2f} s, then driving "
        f"{evaluation['seconds']:.2f} s, {evaluation['steps']:,} steps, "
        f"{evaluation['car_steps_per_s']:,} car-steps/s, {evaluation['step_us']:.1f} us/step"
    )
    say(f"world build (grids for the track): {results['world_build_s']:.3f} s")
    say(f"generated track (generate and build, mean of difficulties 1-5): {results['generated_track_s']:.3f} s")
    if arguments.repeats:
        results["commands"] = command_figures(arguments.repeats, arguments.seed)
        for label, figures in results["commands"].items():
            runs = ", ".join(f"{value:.2f}" for value in figures["runs_s"])
            say(f"neurocar {label}: {figures['median_s']:.2f} s (median of {runs})")
        evaluate = [
            figures["median_s"] for label, figures in results["commands"].items() if label.startswith("evaluate")
        ]
        results["evaluate_shipped_over_classic"] = round(evaluate[1] / evaluate[0], 3)
        say(f"evaluate on every shipped track / on classic alone: {results['evaluate_shipped_over_classic']:.2f}")
    if arguments.json:
        print(json.dumps(results, indent=2))
    return 0


def line(label: str, figures: dict) -> str:
    """One row of the cars table: world only, then with the policy."""
    world, whole = figures["world"], figures["with_policy"]
    return (
        f"{label:<24}{world['car_steps_per_s']:>12,} car-steps/s {world['step_us']:>9,.1f} us/step    "
        f"{whole['car_steps_per_s']:>12,} car-steps/s {whole['step_us']:>9,.1f} us/step "
        f"({100 * whole['policy_share']:.0f}% policy)"
    )
