"""Model files: plain `weights_only` dictionaries with their contract, saved atomically, checked when loaded."""

from __future__ import annotations

import pytest
import torch

from neurocar import files
from neurocar.errors import NeuroCarError
from neurocar.learn.model_file import config_for_model, load_model, model_payload, save_model
from neurocar.learn.policy import build_network, load_vector, network_vector


def network_for(config, seed=0):
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    generator = torch.Generator().manual_seed(seed)
    return load_vector(network, torch.randn(len(network_vector(network)), generator=generator))


def test_model_file_is_a_plain_dictionary_with_its_contract(tmp_path, config):
    path = tmp_path / "model.pt"
    network = network_for(config)
    save_model(path, network, config, {"method": "neuroevolution", "seed": 7, "tracks": ["tracks/oval.yaml"]})
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "neurocar-model" and payload["version"] == 1
    contract = payload["contract"]
    assert contract["input_size"] == 3 and contract["hidden_sizes"] == [6] and contract["output_size"] == 3
    assert contract["activation"] == "sigmoid" and contract["actions"] == ["left", "straight", "right"]
    assert contract["sensors"] == {"angles_deg": [-45.0, 0.0, 45.0], "range_m": 40.0}
    assert contract["physics"]["cruise_speed_mps"] == config.physics.cruise_speed_mps
    assert payload["training"]["seed"] == 7
    model = load_model(path)
    assert torch.equal(model.vector, network_vector(network))
    assert model.sensors == config.sensors and model.physics == config.physics
    assert model.hidden_sizes == (6,) and model.activation == "sigmoid" and model.training["method"] == "neuroevolution"


def test_failed_save_keeps_the_old_file(tmp_path, config, monkeypatch):
    path = tmp_path / "model.pt"
    save_model(path, network_for(config), config, {})
    before = path.read_bytes()

    def broken_sync(descriptor):
        raise OSError(28, "No space left on device")  # the new file's bytes were written but never reach the disk

    monkeypatch.setattr(files.os, "fsync", broken_sync)
    with pytest.raises(NeuroCarError, match="No space left on device"):
        save_model(path, network_for(config, seed=1), config, {})
    assert path.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.pt"]  # no temporary file left behind


def save_payload(path, payload):
    torch.save(payload, path)
    return path


def test_weights_that_do_not_fit_the_contract_are_refused(tmp_path, config):
    payload = model_payload(network_for(config.replace("policy", hidden_sizes=(8,))), config, {})
    path = save_payload(tmp_path / "model.pt", payload)
    with pytest.raises(NeuroCarError) as error:
        load_model(path)
    assert str(error.value).startswith(f"{path}: weights do not fit the contract (3-6-3 needs ")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda payload: payload.update(version=99), "model file version 99 is not supported"),
        (lambda payload: payload.pop("contract"), "model file is missing its contract or weights"),
        (
            lambda payload: payload["contract"].update(activation="swish"),
            "contract.activation must be one of sigmoid, tanh, relu, got 'swish'",
        ),
        (
            lambda payload: payload["contract"].update(output_size=4),
            "model has 4 outputs; NeuroCar cars have 3 actions",
        ),
        (
            lambda payload: payload["contract"]["sensors"].update(angles_deg=[0.0]),
            "model contract says 3 inputs but lists 1 sensor angles",
        ),
        (
            lambda payload: payload["state_dict"]["0.bias"].fill_(float("nan")),
            "model weights contain NaN or infinity",
        ),
        # A zero time step would never end a drive: the contract has the config's bounds.
        (
            lambda payload: payload["contract"]["physics"].update(dt_s=0.0),
            "contract.physics.dt_s must be at least 0.001 s, got 0",
        ),
        (
            lambda payload: payload["contract"]["physics"].update(cruise_speed_mps=1e9),
            "contract.physics.cruise_speed_mps must be at most 100 m/s, got 1e+09",
        ),
        (
            lambda payload: payload["contract"]["physics"].update(turn_rate_deg_per_s=900.0),
            "contract: physics.turn_rate_deg_per_s * physics.dt_s must be at most 15 degrees per step, got 45; "
            "lower physics.dt_s or physics.turn_rate_deg_per_s",
        ),
        (
            lambda payload: payload["contract"]["physics"].pop("dt_s"),
            "missing key 'contract.physics.dt_s'",
        ),
        (
            lambda payload: payload["contract"]["sensors"].update(range_m="far"),
            "contract.sensors.range_m: expected a number, got 'far'",
        ),
        (
            lambda payload: payload["contract"].update(hidden_sizes=[-6]),
            "contract.hidden_sizes[0] must be at least 1, got -6",
        ),
        (
            lambda payload: payload["contract"].update(hidden_sizes=[10**6]),
            "contract.hidden_sizes[0] must be at most 256, got 1000000",
        ),
        (
            lambda payload: payload["state_dict"].update({7: torch.zeros(3)}),
            "state_dict: key 7 is not text",
        ),
        (
            lambda payload: payload["state_dict"].update({"0.bias": payload["state_dict"]["0.bias"].to_sparse()}),
            "state_dict.'0.bias': expected a dense tensor, got a sparse one",
        ),
        (
            lambda payload: payload["state_dict"].update({"0.bias": torch.zeros(6, dtype=torch.complex64)}),
            "state_dict.'0.bias': expected real numbers, got torch.complex64",
        ),
        (
            lambda payload: payload["state_dict"].update({"0.bias": torch.zeros(6, dtype=torch.int64)}),
            "state_dict.'0.bias': expected real numbers, got torch.int64",
        ),
    ],
)
def test_damaged_contracts_are_refused(tmp_path, config, damage, message):
    payload = model_payload(network_for(config), config, {})
    damage(payload)
    path = save_payload(tmp_path / "model.pt", payload)
    with pytest.raises(NeuroCarError) as error:
        load_model(path)
    assert str(error.value) == f"{path}: {message}"


def test_config_for_model_uses_the_models_sensors_and_physics(tmp_path, config):
    trained = config.replace("sensors", angles_deg=(-60.0, -30.0, 0.0, 30.0, 60.0), range_m=30.0)
    trained = trained.replace("physics", cruise_speed_mps=12.0).replace("policy", hidden_sizes=(8,))
    path = tmp_path / "model.pt"
    save_model(path, network_for(trained), trained, {})
    model = load_model(path)
    adjusted = config_for_model(model, config, explicit_keys=[])
    assert adjusted.sensors == trained.sensors and adjusted.physics == trained.physics
    assert adjusted.policy.hidden_sizes == (8,)
    # An explicit setting equal to the model's is fine; a different one is an error naming the difference.
    assert config_for_model(model, config.replace("sensors", range_m=30.0), ["sensors.range_m"]).sensors.range_m == 30
    with pytest.raises(NeuroCarError) as error:
        config_for_model(model, config.replace("sensors", range_m=50.0), ["sensors.range_m"])
    assert str(error.value) == (
        f"{path}: does not match the requested settings: sensors.range_m is 50, the model needs 30"
        " (drop those settings to run the model with its own)"
    )
    # A whole config chosen on purpose: every difference is named.
    with pytest.raises(NeuroCarError) as error:
        config_for_model(model, config, None)
    assert str(error.value) == (
        f"{path}: does not match the requested settings: sensors.angles_deg is [-45, 0, 45], the model needs "
        "[-60, -30, 0, 30, 60]; sensors.range_m is 40, the model needs 30; physics.cruise_speed_mps is 15, "
        "the model needs 12; policy.hidden_sizes is [6], the model has [8] (drop those settings to run the model "
        "with its own)"
    )


def test_a_model_path_that_is_not_a_regular_file_is_one_line(tmp_path):
    import os

    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    with pytest.raises(NeuroCarError) as error:
        load_model(fifo)  # must not block waiting for a writer
    assert str(error.value) == f"{fifo}: is not a regular file (a pipe, socket or device); give a model file"
    loop = tmp_path / "loop.pt"
    loop.symlink_to(loop)
    with pytest.raises(NeuroCarError) as error:
        load_model(loop)
    assert str(error.value) == f"{loop}: cannot read the model file (a symlink loop)"
