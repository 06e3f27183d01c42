"""The strict config: the default file, `--set` overrides, frozen values, and errors that name the key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from neurocar.config import config_from_dict, load_config, parse_override
from neurocar.errors import NeuroCarError
from neurocar.paths import DEFAULT_CONFIG


def test_default_config_values(config):
    assert config.sensors.angles_deg == (-45.0, 0.0, 45.0)
    assert config.policy.hidden_sizes == (6,) and config.policy.activation == "sigmoid"
    assert config.source == "configs/default.yaml"
    assert config.physics.min_turn_radius_m == pytest.approx(15.0 / (120.0 * 3.141592653589793 / 180.0))


def test_config_is_frozen(config):
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.physics.dt_s = 0.1  # type: ignore[misc]


def test_replace_changes_one_key_only(config):
    changed = config.replace("physics", cruise_speed_mps=30.0)
    assert changed.physics.cruise_speed_mps == 30.0 and config.physics.cruise_speed_mps == 15.0
    assert changed.physics.dt_s == config.physics.dt_s and changed.sensors == config.sensors


def test_to_dict_round_trips_through_yaml(config):
    data = yaml.safe_load(yaml.safe_dump(config.to_dict()))
    assert config_from_dict(data, "copy.yaml") == dataclasses.replace(config, source="copy.yaml")


def test_overrides_are_read_as_yaml():
    config = load_config(
        overrides=[
            "physics.cruise_speed_mps=12",
            "sensors.angles_deg=[-60, -20, 0, 20, 60]",
            "policy.activation=tanh",
            "policy.hidden_sizes=[8, 4]",
        ]
    )
    assert config.physics.cruise_speed_mps == 12.0 and isinstance(config.physics.cruise_speed_mps, float)
    assert config.sensors.angles_deg == (-60.0, -20.0, 0.0, 20.0, 60.0)
    assert config.policy.activation == "tanh" and config.policy.hidden_sizes == (8, 4)


def test_later_override_wins():
    config = load_config(overrides=["evolution.population=10", "evolution.population=20"])
    assert config.evolution.population == 20


def test_parse_override():
    assert parse_override("physics.dt_s=0.1") == ("physics", "dt_s", 0.1)
    assert parse_override(" track.default = oval ") == ("track", "default", "oval")
    with pytest.raises(NeuroCarError, match=r"expected section\.key=value"):
        parse_override("physics=0.1")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("physics.dt_s=true", "physics.dt_s: expected a number, got True"),
        ("evolution.population=2.5", "evolution.population: expected a whole number, got 2.5"),
        ("sensors.angles_deg=45", "sensors.angles_deg: expected a list, got 45"),
        ("physics.dt_s=.nan", "physics.dt_s: expected a finite number, got nan"),
        ("sensors.angles_deg=[]", "sensors.angles_deg needs at least 1 value, got 0"),
        ("policy.activation=softmax", "policy.activation must be one of sigmoid, tanh, relu, got 'softmax'"),
        ("evolution.elite=60", "evolution.elite must be smaller than evolution.population"),
        ("evolution.mutation_rate=1.5", "evolution.mutation_rate must be at most 1, got 1.5"),
    ],
)
def test_bad_override_values(override, message):
    with pytest.raises(NeuroCarError) as error:
        load_config(overrides=[override])
    # The error blames the --set option that chose the value, not the file.
    assert str(error.value) == f"--set {override}: {message}"


def test_bad_value_in_the_file_blames_the_file(tmp_path):
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace("population: 60", "population: 1")
    path = tmp_path / "small.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NeuroCarError) as error:
        load_config(path, overrides=["physics.dt_s=0.1"])
    assert str(error.value) == f"{path}: evolution.population must be at least 2, got 1"


def test_top_level_must_be_sections(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- physics\n- sensors\n", encoding="utf-8")
    with pytest.raises(NeuroCarError, match="expected a mapping of sections"):
        load_config(path)


def test_unknown_section(tmp_path):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["weather"] = {"rain": True}
    with pytest.raises(NeuroCarError, match="unknown section 'weather'"):
        config_from_dict(data, "weather.yaml")
