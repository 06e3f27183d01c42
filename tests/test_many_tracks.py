"""Training and evaluating on many tracks: track folders, generated tracks (fresh each generation or a fixed set),
exact resume with generated tracks, the generalisation report of `neurocar evaluate`, and cars evolved only on
generated tracks lapping shipped tracks they have never seen."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from neurocar.learn.checkpoint import load_checkpoint
from neurocar.learn.evaluation import evaluate_network
from neurocar.learn.model_file import load_model
from neurocar.learn.neuroevolution import Neuroevolution, RandomTracks, RunOutcome, run_evolution
from neurocar.learn.policy import network_vector
from neurocar.paths import SHIPPED_DRIVER, TRACKS_DIR
from neurocar.sim.track import load_track

SHORT = ["--population", "10", "--seed", "2", "--set", "episode.max_seconds=6"]


def test_generated_tracks_are_fresh_each_generation_unless_fixed():
    fresh = RandomTracks(count=5)
    first, second = fresh.specs(1, 0), fresh.specs(1, 1)
    assert len({seed for seed, _difficulty in first + second}) == 10
    # Every generation drives each difficulty once, starting from a different one.
    assert sorted(difficulty for _seed, difficulty in first) == [1, 2, 3, 4, 5]
    assert [difficulty for _seed, difficulty in second] == [2, 3, 4, 5, 1]
    assert fresh.specs(1, 0) == first
    assert fresh.specs(2, 0) != first
    fixed = RandomTracks(count=3, max_difficulty=2, fixed=True)
    assert fixed.specs(1, 0) == fixed.specs(1, 7)
    assert [difficulty for _seed, difficulty in fixed.specs(1, 4)] == [1, 2, 1]


def test_worlds_are_built_again_only_when_the_tracks_change(config):
    short = config.replace("episode", max_seconds=2.0).replace("evolution", population=6, elite=1)
    fresh = Neuroevolution(short, [], seed=0, random_tracks=RandomTracks(count=1, max_difficulty=1))
    fresh.start_drive()
    before = fresh.world
    fresh.step_generation()
    fresh.start_drive()
    after = fresh.world
    assert before is not after
    assert before.track.source_text != after.track.source_text
    fixed = Neuroevolution(short, [], seed=0, random_tracks=RandomTracks(count=1, max_difficulty=1, fixed=True))
    fixed.start_drive()
    before = fixed.world
    fixed.step_generation()
    fixed.start_drive()
    assert fixed.world is before


def test_resume_with_generated_tracks_is_exact(tmp_path, run_cli):
    options = [*SHORT, "--track", "oval", "--random-tracks", "2"]
    straight = tmp_path / "straight"
    result = run_cli("train", "evolve", *options, "--generations", "4", "--run-dir", straight)
    assert result.code == 0, result.err
    assert "evolving 10 cars on Oval, 2 generated tracks (fresh each generation, difficulty 1-5)" in result.out
    folder = tmp_path / "run"
    assert run_cli("train", "evolve", *options, "--generations", "2", "--run-dir", folder).code == 0
    resumed = run_cli("train", "evolve", "--resume", folder, "--generations", "4")
    assert resumed.code == 0, resumed.err
    assert (folder / "log.csv").read_bytes() == (straight / "log.csv").read_bytes()
    evolution = load_checkpoint(folder)
    assert evolution.random_tracks == RandomTracks(count=2)
    training = load_model(folder / "best.pt").training
    assert training["random_tracks"] == {"count": 2, "max_difficulty": 5, "fixed": False}
    assert training["track_names"] == ["Oval"]
    refused = run_cli("train", "evolve", "--resume", folder, "--generations", "6", "--random-tracks", "3")
    assert refused.code == 2 and "drop --random-tracks" in refused.err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--random-tracks", "0"], "--random-tracks 0: must be at least 1"),
        (["--fixed-random-tracks"], "--fixed-random-tracks and --random-difficulty need --random-tracks K"),
        (["--random-difficulty", "2"], "--fixed-random-tracks and --random-difficulty need --random-tracks K"),
        (["--random-difficulty", "5"], "--fixed-random-tracks and --random-difficulty need --random-tracks K"),
        (["--random-tracks", "2", "--random-difficulty", "6"], "--random-difficulty 6: must be from 1 to 5"),
        (
            ["--random-tracks", "2", "--set", "physics.car_width_m=12"],
            "cannot generate a difficulty-4 track for this car: its roads are at most 12 m wide and the car needs 13 m",
        ),
    ],
)
def test_generated_track_options_are_checked_before_the_run(run_cli, tmp_path, arguments, message):
    result = run_cli("train", "evolve", *arguments, "--run-dir", tmp_path / "run")
    assert result.code == 2
    assert result.err.startswith(f"neurocar: error: {message}")
    assert not (tmp_path / "run").exists()


@pytest.fixture
def track_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("oval.yaml", "stadium.yaml"):
        shutil.copy(TRACKS_DIR / name, folder / name)
    (folder / "notes.txt").write_text("not a track\n", encoding="utf-8")
    return folder


def test_a_track_folder_trains_on_every_track_in_it(run_cli, track_folder, tmp_path):
    folder = tmp_path / "r"
    result = run_cli("train", "evolve", *SHORT, "--track", track_folder, "--generations", "1", "--run-dir", folder)
    assert result.code == 0, result.err
    assert "evolving 10 cars on Oval, Stadium (seed 2)" in result.out
    assert load_model(folder / "best.pt").training["track_names"] == ["Oval", "Stadium"]


def test_a_broken_or_empty_track_folder_is_a_one_line_error(run_cli, track_folder, tmp_path):
    (track_folder / "zz_broken.yaml").write_text("name: Broken\ndifficulty: 2\nwidth_m: 12\n", encoding="utf-8")
    broken = run_cli("train", "evolve", "--track", track_folder, "--run-dir", tmp_path / "r")
    assert broken.code == 2
    assert broken.err == f"neurocar: error: {track_folder / 'zz_broken.yaml'}: missing key 'centerline'\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("evaluate", "--model", "x.pt", "--track", empty)
    assert result.code == 2
    assert "x.pt" in result.err  # the model is checked first

    result = run_cli("evaluate", "--model", SHIPPED_DRIVER, "--track", empty)
    assert result.err == f"neurocar: error: --track {empty}: the folder holds no track files (*.yaml)\n"


@pytest.fixture(scope="module")
def general_driver(config):
    """A driver evolved on generated tracks only (3 per generation, difficulty 1-3), never on a shipped one."""
    evolution = Neuroevolution(
        config.replace("evolution", population=40),
        [],
        seed=4,
        target_laps=1,
        random_tracks=RandomTracks(count=3, max_difficulty=3),
        generations=40,
    )
    return run_evolution(evolution), evolution


def test_cars_evolved_on_generated_tracks_lap_shipped_tracks_they_never_saw(config, general_driver):
    outcome, evolution = general_driver
    assert outcome is RunOutcome.TARGET_REACHED
    network = evolution.best_network()
    unseen = ["oval.yaml", "stadium.yaml", "classic.yaml", "parkland.yaml", "kidney.yaml", "lakeside.yaml"]
    lapped = 0
    for name in unseen:
        track = load_track(
            TRACKS_DIR / name,
            config.physics.min_turn_radius_m,
            config.physics.collision_radius_m,
            config.physics.car_width_m,
        )
        lapped += evaluate_network(network, config, track, laps=1).laps_completed
    assert lapped >= 5


def test_evaluate_reports_one_row_per_track_and_a_summary(run_cli, track_folder):

    table = run_cli("evaluate", "--model", SHIPPED_DRIVER, "--track", track_folder, "--track", "hairpins")
    assert table.code == 0, table.err
    rows = table.out.splitlines()
    assert [row.split()[0] for row in rows[2:5]] == ["Oval", "Stadium", "Hairpins"]
    lapped = sum(" 1/1 " in row for row in rows[2:5])
    assert rows[-1].startswith(f"lapped {lapped}/3 track(s) (1 lap(s) each); mean progress ")
    report = json.loads(run_cli("evaluate", "--model", SHIPPED_DRIVER, "--track", track_folder, "--json").out)
    assert [track["track"] for track in report["tracks"]] == ["Oval", "Stadium"]
    assert report["summary"]["total"] == 2
    assert report["summary"]["lapped"] == sum(track["laps_completed"] == 1 for track in report["tracks"])
    mean = sum(track["progress_percent"] for track in report["tracks"]) / 2
    assert report["summary"]["mean_progress_percent"] == pytest.approx(mean, abs=0.01)


def test_on_fresh_tracks_the_kept_model_is_the_latest_champion(config):
    short = config.replace("episode", max_seconds=4.0).replace("evolution", population=8, elite=1)
    fresh = Neuroevolution(short, [], seed=3, random_tracks=RandomTracks(count=1, max_difficulty=2))
    for _ in range(3):
        before = fresh.population.copy()
        champion = before[fresh.step_generation().best_index].copy()
        assert fresh.best_generation == fresh.generation
        assert np.array_equal(fresh.best_vector, champion)
    # The best fitness ever seen still drives the search (stagnation), even though the kept model moved on.
    assert fresh.best_fitness == max(float(row["best_fitness"]) for row in fresh.history)


def test_the_shipped_driver_laps_every_shipped_track(config):
    model = load_model(SHIPPED_DRIVER)
    assert model.training["random_tracks"]["count"] > 0  # it learned on generated tracks only
    assert model.training["tracks"] == []
    for path in sorted(TRACKS_DIR.glob("*.yaml")):
        track = load_track(
            path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
        )
        result = evaluate_network(model.network, config, track, laps=1)
        assert result.laps_completed == 1, track.name


def test_with_target_laps_finished_cars_stop_and_the_others_drive_on(config, oval, classic):
    """A car that has driven the target laps on a track stops there while the others drive on; the run's target
    is reached when one car has driven them on every track."""
    driver = load_model(SHIPPED_DRIVER)
    evolution = Neuroevolution.from_model(
        config.replace("evolution", population=6, elite=1, mutation_sigma=0.3),  # mutants close to the driver
        [oval, classic],
        0,
        1,
        network_vector(driver.network),
    )
    first_finish = [None, None]
    last_step = [0, 0]
    finished_kept_driving = False
    finished_before = np.zeros(12, dtype=bool)
    result = None
    evolution.start_drive()
    world = evolution.world
    while result is None:
        was_driving = world.state.driving.copy()
        result = evolution.step()
        state = world.state
        finished_kept_driving |= bool(np.any(finished_before & state.driving))
        finished_before = state.laps >= 1
        for index in range(2):
            on_track = world.track_index == index
            if first_finish[index] is None and finished_before[on_track].any():
                first_finish[index] = world.steps
            if was_driving[on_track].any():
                last_step[index] = world.steps  # the step at which this track's last car stopped, in the end
    assert None not in first_finish
    assert not finished_kept_driving
    # The mutants that did not finish kept driving after the first car finished, on at least one track.
    assert any(last > first for last, first in zip(last_step, first_finish, strict=True))
    # The driver itself (row 0, kept as it is) lapped both tracks, so the target is reached.
    assert result.laps[0] == 1 and evolution.reached_target(result)


def test_target_laps_get_the_time_they_need_on_long_tracks(run_cli, tmp_path):
    """Three laps of Wide Sweepers (753 m) take 150 s at cruise speed, more than the 120 s episode: the drive is
    lengthened, so a driver that can lap reaches the target."""
    folder = tmp_path / "run"
    result = run_cli(
        "train", "evolve", "--init", SHIPPED_DRIVER, "--track", "wide_sweepers",
        "--target-laps", "3", "--generations", "2", "--population", "6", "--run-dir", folder,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "reached 3 lap(s) in generation 1" in result.out


def test_without_generated_tracks_the_generator_limits_do_not_apply(run_cli, tmp_path):
    """A car too wide for the narrow generated tracks still trains on a wide track of its own."""
    wide_car = ["--set", "physics.car_width_m=12", "--set", "episode.max_seconds=3"]
    folder = tmp_path / "run"
    result = run_cli(
        "train", "evolve", "--track", "wide_sweepers", *wide_car, "--population", "4", "--generations", "1",
        "--run-dir", folder,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert (folder / "best.pt").exists()


def test_on_fresh_tracks_the_target_needs_one_champion_lapping_new_tracks_generation_after_generation(config):
    """The streak counts one network: a new first network starts it again, a missed lap ends it."""
    evolution = Neuroevolution(config, [], seed=0, target_laps=1, random_tracks=RandomTracks(count=1))
    champion, challenger = np.zeros(45, dtype=np.float32), np.ones(45, dtype=np.float32)
    for expected in (1, 2, 3):
        evolution._record_held_out(champion.copy(), lapped=True)
        assert evolution.held_out_generations == expected
    evolution._record_held_out(challenger, lapped=True)
    assert evolution.held_out_generations == 1  # another network: its own count
    evolution._record_held_out(challenger, lapped=False)
    assert evolution.held_out_generations == 0 and evolution.held_out_vector is None


def test_every_car_that_drove_the_target_laps_scores_the_same_distance(config, oval):
    """Where a finished car stops past the line is chance: its progress counts as exactly the target laps."""
    driver = load_model(SHIPPED_DRIVER)
    evolution = Neuroevolution.from_model(
        config.replace("evolution", population=6, elite=1, mutation_sigma=0.05), [oval], 0, 1,
        network_vector(driver.network),
    )  # fmt: skip
    result = evolution.step_generation()
    lapped = result.laps >= 1
    assert lapped.sum() >= 2
    assert np.all(result.terms["progress"][lapped] == oval.length_m)
    assert np.all(evolution.world.state.progress_m[lapped] > oval.length_m)  # they did drive past the line
