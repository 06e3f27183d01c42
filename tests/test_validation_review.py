"""Review fixes for input validation: YAML 1.2 exponent numbers everywhere YAML is read, roads too narrow for the
car, tracks too big for the simulation, nonsense time steps, and paths printed so they work from the working
directory."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml
from checkout import PROJECT_ROOT

from neurocar.config import load_config, load_yaml, parse_override
from neurocar.errors import NeuroCarError
from neurocar.learn.recording import load_session
from neurocar.paths import DEFAULT_CONFIG, TRACKS_DIR, display_path
from neurocar.sim.track import load_track, track_from_data

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e9", 1e9),
        ("1E-3", 0.001),
        ("+1.5e+2", 150.0),
        ("1.5e2", 150.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("2.", 2.0),
        ("12", 12),
        ("0x1f", 31),
        ("1e", "1e"),
        ("e9", "e9"),
        ("fast", "fast"),
        ("[1e3, 0]", [1000.0, 0]),
    ],
)
def test_load_yaml_reads_exponent_numbers_as_floats(text, value):
    loaded = load_yaml(text)
    assert loaded == value and type(loaded) is type(value)


def test_load_yaml_keeps_inf_and_nan_and_leaves_safe_load_alone():
    assert load_yaml(".inf") == math.inf and load_yaml("-.inf") == -math.inf and math.isnan(load_yaml(".nan"))
    assert yaml.safe_load("1e9") == "1e9"  # the shared SafeLoader is not changed for other code
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2")


def test_exponent_numbers_in_set_overrides():
    assert parse_override("sensors.range_m=1e9") == ("sensors", "range_m", 1e9)
    config = load_config(overrides=["sensors.range_m=4e1", "physics.dt_s=5E-2", "physics.cruise_speed_mps=+1.5e+1"])
    assert (config.sensors.range_m, config.physics.dt_s, config.physics.cruise_speed_mps) == (40.0, 0.05, 15.0)
    # 1e9 is now a number, so it fails the range bound rather than the type check.
    with pytest.raises(NeuroCarError) as error:
        load_config(overrides=["sensors.range_m=1e9"])
    assert str(error.value) == "--set sensors.range_m=1e9: sensors.range_m must be at most 1000 m, got 1e+09"
    with pytest.raises(NeuroCarError) as error:
        load_config(overrides=["sensors.range_m=.inf"])
    assert str(error.value) == "--set sensors.range_m=.inf: sensors.range_m: expected a finite number, got inf"


def test_exponent_numbers_in_a_config_file(tmp_path, config):
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = text.replace("range_m: 40.0", "range_m: 4e1").replace("dt_s: 0.05", "dt_s: 5e-2")
    assert "4e1" in text and "5e-2" in text
    path = tmp_path / "exponents.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_config(path)
    assert loaded.sensors.range_m == 40.0 and loaded.physics.dt_s == 0.05
    assert loaded.to_dict() == config.to_dict()


def test_exponent_numbers_in_a_track_file(config):
    track = load_track(
        FIXTURES / "tracks" / "good" / "exponent_numbers.yaml",
        config.physics.min_turn_radius_m,
        config.physics.collision_radius_m,
        config.physics.car_width_m,
    )
    assert track.width_m == 12.0
    assert track.control_points.tolist() == [[0.0, 0.0], [150.0, 0.0], [150.0, 100.0], [0.0, 100.0]]


def test_exponent_numbers_in_recording_meta(tmp_path):
    session = tmp_path / "session-20261126-190000"
    shutil.copytree(FIXTURES / "recordings" / "good" / "session-20261126-190000", session)
    meta = session / "meta.yaml"
    text = meta.read_text(encoding="utf-8").replace("dt_s: 0.05", "dt_s: 5e-2").replace("range_m: 40.0", "range_m: 4e1")
    meta.write_text(text, encoding="utf-8")
    loaded = load_session(session)
    assert loaded.dt_s == 0.05 and loaded.sensors.range_m == 40.0


def test_road_narrower_than_the_collision_disc_is_rejected(config):
    with pytest.raises(NeuroCarError) as error:
        load_track(TRACKS_DIR / "classic.yaml", config.physics.min_turn_radius_m, 6.5, config.physics.car_width_m)
    assert str(error.value) == (
        f"{display_path(TRACKS_DIR / 'classic.yaml')}: width_m: the 12 m road is too narrow for the car "
        "(physics.collision_radius_m 6.5 needs at least 14 m); make width_m larger or physics.collision_radius_m "
        "smaller"
    )


def test_road_narrower_than_the_car_body_is_rejected():
    data = {"name": "Test", "difficulty": 1, "width_m": 12, "centerline": [[0, 0], [200, 0], [200, 150], [0, 150]]}
    with pytest.raises(NeuroCarError) as error:
        track_from_data(data, "t.yaml", 7.2, 1.2, 11.5)
    assert str(error.value) == (
        "t.yaml: width_m: the 12 m road is too narrow for the car (physics.car_width_m 11.5 needs at least "
        "12.5 m); make width_m larger or physics.car_width_m smaller"
    )
    # Exactly enough room is fine, and without the car's size (the defaults) no such check runs.
    assert track_from_data(data, "t.yaml", 7.2, 5.5, 11.0).width_m == 12.0
    assert track_from_data(data, "t.yaml").width_m == 12.0


def test_narrow_road_through_the_cli(run_cli_here):
    result = run_cli_here("tracks", "check", "classic", "--set", "physics.collision_radius_m=6.5")
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "neurocar: error: tracks/classic.yaml: width_m: the 12 m road is too narrow for the car "
        "(physics.collision_radius_m 6.5 needs at least 14 m); make width_m larger or physics.collision_radius_m "
        "smaller\n"
    )


def test_a_small_track_far_from_the_origin_is_fine(config):
    offset = 999_800.0
    points = [[offset + x, offset + y] for x, y in [[0, 0], [150, 0], [150, 100], [0, 100]]]
    data = {"name": "Far", "difficulty": 1, "width_m": 12, "centerline": points}
    track = track_from_data(data, "far.yaml", config.physics.min_turn_radius_m, config.physics.collision_radius_m)
    assert track.centerline.min() >= offset - 20
    with pytest.raises(NeuroCarError, match=r"^far\.yaml: centerline\[0\]: \[1000100\.0, 999800\.0\] is too far out"):
        track_from_data({**data, "centerline": [[x + 300, y] for x, y in points]}, "far.yaml")


def test_the_span_limit_is_5_km_on_a_side():
    rectangle = [[0, 0], [5000, 0], [5000, 4000], [0, 4000]]
    big = track_from_data({"name": "Big", "difficulty": 1, "width_m": 12, "centerline": rectangle}, "big.yaml")
    assert 18000 < big.length_m < 20000
    wider = [[0, 0], [5001, 0], [5001, 100], [0, 100]]
    with pytest.raises(NeuroCarError) as error:
        track_from_data({"name": "Big", "difficulty": 1, "width_m": 12, "centerline": wider}, "big.yaml")
    assert str(error.value) == "big.yaml: centerline: the track spans 5,001 x 100 m; keep it within 5,000 m on a side"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["physics.dt_s=0.0005"], "--set physics.dt_s=0.0005: physics.dt_s must be at least 0.001 s, got 0.0005"),
        (["physics.dt_s=0.6"], "--set physics.dt_s=0.6: physics.dt_s must be at most 0.5 s, got 0.6"),
        (
            ["physics.dt_s=0.2"],
            "--set physics.dt_s=0.2: physics.turn_rate_deg_per_s * physics.dt_s must be at most 15 degrees per step, "
            "got 24; lower physics.dt_s or physics.turn_rate_deg_per_s",
        ),
        (
            ["physics.turn_rate_deg_per_s=400"],
            "--set physics.turn_rate_deg_per_s=400: physics.turn_rate_deg_per_s * physics.dt_s must be at most 15 "
            "degrees per step, got 20; lower physics.dt_s or physics.turn_rate_deg_per_s",
        ),
        (
            ["physics.cruise_speed_mps=60", "physics.dt_s=0.1"],
            "--set physics.cruise_speed_mps=60: physics.cruise_speed_mps * physics.dt_s must be at most 5 m per "
            "step, got 6; lower physics.dt_s or physics.cruise_speed_mps",
        ),
        (["sensors.range_m=1001"], "--set sensors.range_m=1001: sensors.range_m must be at most 1000 m, got 1001"),
        (
            ["episode.max_seconds=3601"],
            "--set episode.max_seconds=3601: episode.max_seconds must be at most 3600 s, got 3601",
        ),
        (
            ["episode.stall_seconds=0.01"],
            "--set episode.stall_seconds=0.01: episode.stall_seconds must be at least one step "
            "(physics.dt_s 0.05 s), got 0.01",
        ),
    ],
)
def test_nonsense_steps_and_sizes_are_rejected(overrides, message):
    with pytest.raises(NeuroCarError) as error:
        load_config(overrides=overrides)
    assert str(error.value) == message


def test_step_bounds_are_inclusive():
    config = load_config(
        overrides=[
            "physics.dt_s=0.5",
            "physics.turn_rate_deg_per_s=30",
            "physics.cruise_speed_mps=10",
            "sensors.range_m=1000",
            "episode.max_seconds=3600",
            "episode.stall_seconds=0.5",
        ]
    )
    assert config.physics.dt_s == 0.5
    assert load_config(overrides=["physics.dt_s=0.001", "episode.stall_seconds=0.001"]).physics.dt_s == 0.001


def test_a_bad_step_in_the_file_blames_the_file(tmp_path):
    path = tmp_path / "slow.yaml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace("dt_s: 0.05", "dt_s: 1.0"), encoding="utf-8")
    with pytest.raises(NeuroCarError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: physics.dt_s must be at most 0.5 s, got 1"


def test_display_path_is_relative_inside_the_working_directory_else_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    assert display_path(tmp_path / "mine" / "track.yaml") == str(Path("mine") / "track.yaml")
    assert display_path(Path("mine/track.yaml")) == str(Path("mine") / "track.yaml")
    assert display_path(TRACKS_DIR / "oval.yaml") == str((TRACKS_DIR / "oval.yaml").resolve())
    monkeypatch.chdir(PROJECT_ROOT)
    assert display_path(TRACKS_DIR / "oval.yaml") == str(Path("tracks") / "oval.yaml")


def test_tracks_from_another_folder_print_paths_that_work_there(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    listing = run_cli("tracks")
    assert listing.code == 0 and listing.out.splitlines()[1].split()[:2] == ["Oval", "oval"]
    checked = run_cli("tracks", "check", "classic", "oval.yaml")
    assert checked.code == 0 and checked.err == ""
    lines = checked.out.splitlines()
    assert lines[0].startswith(f"ok: {TRACKS_DIR.resolve() / 'classic.yaml'}: Classic, ")
    assert lines[1].startswith(f"ok: {TRACKS_DIR.resolve() / 'oval.yaml'}: Oval, ")
    path = lines[0].split(": ")[1]
    assert Path(path).is_file()


@pytest.fixture
def run_cli_here(run_cli, monkeypatch):
    """`run_cli` from the project folder, so shipped tracks print as `tracks/<name>.yaml`."""
    monkeypatch.chdir(PROJECT_ROOT)
    return run_cli


def test_the_lap_limit_also_holds_for_the_smoothed_centre_line():
    # The polygon through the corners is exactly 20 km; the spline that rounds them is longer.
    square = [[0, 0], [5000, 0], [5000, 5000], [0, 5000]]
    with pytest.raises(NeuroCarError) as error:
        track_from_data({"name": "Big", "difficulty": 1, "width_m": 12, "centerline": square}, "big.yaml")
    assert str(error.value) == "big.yaml: centerline: a lap is 21,019 m long; keep it within 20,000 m"
