"""Model files (`*.pt`): the network's state_dict plus the contract it needs to drive.

A model file is a plain dictionary readable with `torch.load(path, weights_only=True)`:

| key         | value                                                                                 |
|-------------|---------------------------------------------------------------------------------------|
| format      | "neurocar-model"                                                                      |
| version     | 1                                                                                     |
| neurocar_version | the NeuroCar release that wrote the file (older files may lack it)               |
| state_dict  | the `nn.Sequential`'s weights                                                         |
| contract    | input_size, hidden_sizes, activation, output_size, actions, sensors (angles_deg,      |
|             | range_m), physics (the whole physics section)                                         |
| training    | method, seed, tracks, generations or epochs, metrics, config, and method-specific data |

Loading checks the file, the contract and that the weights fit the contract; a problem is a `NeuroCarError`.
Saving is atomic: a failed or interrupted save never leaves a damaged file in place of a good one.
"""

from __future__ import annotations

import dataclasses
import io
import math
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurocar import __version__
from neurocar.config import (
    ACTIVATIONS,
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_SIZE,
    MAX_SENSORS,
    Config,
    PhysicsConfig,
    SensorConfig,
    check_physics,
)
from neurocar.errors import NeuroCarError
from neurocar.files import check_writable
from neurocar.learn.policy import ACTION_COUNT, build_network, network_vector
from neurocar.learn.torch_file import save_torch_file
from neurocar.paths import display_path
from neurocar.schema import (
    Choice,
    Fields,
    ListOf,
    SchemaError,
    Text,
    Whole,
    build,
    dataclass_rules,
    excerpt,
    printable,
    read_file_bytes,
    shorten,
)
from neurocar.sim.car import ACTION_NAMES

if TYPE_CHECKING:
    import torch
    from torch import nn

MODEL_FORMAT = "neurocar-model"
MODEL_VERSION = 1
MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024
# The contract inside a model file: the same bounds as the config's sections, so a model can only ask for a world
# the program survives (a zero time step would never end a drive).
CONTRACT = Fields(
    {
        "input_size": Whole(1, MAX_SENSORS),
        "hidden_sizes": ListOf(Whole(1, MAX_HIDDEN_SIZE), max_items=MAX_HIDDEN_LAYERS),
        "activation": Choice(ACTIVATIONS),
        "output_size": Whole(1, MAX_SENSORS),
        "actions": ListOf(Text(100), max_items=MAX_SENSORS),
        "sensors": Fields(dataclass_rules(SensorConfig)),
        "physics": Fields(dataclass_rules(PhysicsConfig)),
    },
    optional={"actions": tuple(ACTION_NAMES)},
)


@dataclass(frozen=True)
class Model:
    """A loaded model: the network, the sensors and physics it was trained with, and how it was trained."""

    network: nn.Sequential
    sensors: SensorConfig
    physics: PhysicsConfig
    hidden_sizes: tuple[int, ...]
    activation: str
    training: dict[str, Any]
    path: str

    @property
    def vector(self) -> torch.Tensor:
        """The network's parameters as a flat vector."""
        return network_vector(self.network)


def model_payload(network: nn.Module | dict[str, Any], config: Config, training: dict[str, Any]) -> dict[str, Any]:
    """The dictionary saved in a model file for a network trained under `config`: the network itself or its
    state_dict (torch tensors, or numpy arrays from a run that did without torch)."""
    contract = {
        "input_size": len(config.sensors.angles_deg),
        "hidden_sizes": list(config.policy.hidden_sizes),
        "activation": config.policy.activation,
        "output_size": ACTION_COUNT,
        "actions": list(ACTION_NAMES),
        "sensors": {"angles_deg": list(config.sensors.angles_deg), "range_m": config.sensors.range_m},
        "physics": dataclasses.asdict(config.physics),
    }
    CONTRACT.check(contract, "contract")  # what is written is what loading accepts
    state = network.state_dict() if hasattr(network, "state_dict") else network
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "neurocar_version": __version__,
        "state_dict": {name: _copied(value) for name, value in state.items()},
        "contract": contract,
        "training": training,
    }


def _copied(value: Any) -> Any:
    """A copy of one weight array (a torch tensor stays one)."""
    return value.detach().clone() if hasattr(value, "detach") else np.array(value, dtype=np.float32)


def save_model(path: str | Path, network: nn.Module | dict[str, Any], config: Config, training: dict[str, Any]) -> None:
    """Save a model file atomically (`network`: the network or its state_dict, see `model_payload`)."""
    save_torch_file(model_payload(network, config, training), path)


def check_model_destination(path: str | Path) -> None:
    """`check_writable` for a model file: also refuse to replace an existing file that is not a NeuroCar model."""
    check_writable(path)
    target = Path(path)
    if target.exists() and not is_model_file(target):
        # Replacing an older model is what --out asks for; replacing anything else would lose someone's data.
        raise NeuroCarError(
            f"{display_path(target)}: exists and is not a NeuroCar model; choose another file name (or delete it)"
        )


def is_model_file(path: Path) -> bool:
    """True if `path` holds a NeuroCar model file (readable header; the weights are not checked)."""
    try:
        data = read_file_bytes(path, str(path), "model file", MAX_MODEL_FILE_BYTES)
        payload = load_payload(data)
    except Exception:  # any failure to read means "not a model"
        return False
    return isinstance(payload, dict) and payload.get("format") == MODEL_FORMAT


def load_payload(data: bytes) -> Any:
    """`torch.load` of a file's bytes with `weights_only` (no code runs); torch's own warnings about what it found
    (sparse tensors to validate) are not for the user: the file is checked after loading."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _contract_error(name: str, message: str) -> NeuroCarError:
    return NeuroCarError(f"{name}: {message}")


def load_model(path: str | Path) -> Model:
    """Load a model file, check its contract against its weights, and rebuild the network."""
    model_path = Path(path)
    name = display_path(model_path)
    data = read_file_bytes(
        model_path,
        name,
        "model file",
        MAX_MODEL_FILE_BYTES,
        missing="model file not found",
        folder="is a folder, not a model file (a run folder holds best.pt)",
    )
    try:
        payload = load_payload(data)
    except Exception:  # torch raises many types for damaged files; every one means "not a model"
        raise NeuroCarError(f"{name}: not a NeuroCar model file (damaged, empty or another format)") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise NeuroCarError(f"{name}: not a NeuroCar model file (no '{MODEL_FORMAT}' header)")
    if payload.get("version") != MODEL_VERSION:
        raise NeuroCarError(f"{name}: model file version {excerpt(payload.get('version'))} is not supported")
    contract = payload.get("contract")
    state = payload.get("state_dict")
    if not isinstance(contract, dict) or not isinstance(state, dict):
        raise NeuroCarError(f"{name}: model file is missing its contract or weights")
    try:
        checked = CONTRACT.check(contract, "contract")
        sensors = build(SensorConfig, contract["sensors"], "contract.sensors")
        physics = build(PhysicsConfig, contract["physics"], "contract.physics")
    except SchemaError as error:
        raise _contract_error(name, str(error)) from None
    for passed, message in check_physics(physics):
        if not passed:
            raise _contract_error(name, f"contract: {message}")
    input_size, hidden_sizes = checked["input_size"], checked["hidden_sizes"]
    activation, output_size = checked["activation"], checked["output_size"]
    if output_size != ACTION_COUNT:
        raise _contract_error(name, f"model has {output_size} outputs; NeuroCar cars have {ACTION_COUNT} actions")
    if input_size != len(sensors.angles_deg):
        raise _contract_error(
            name, f"model contract says {input_size} inputs but lists {len(sensors.angles_deg)} sensor angles"
        )
    network = build_network(input_size, hidden_sizes, activation)
    _check_state(name, state, network, f"{input_size}-{'-'.join(map(str, hidden_sizes))}-{output_size}")
    network.load_state_dict(state)
    return Model(network, sensors, physics, hidden_sizes, activation, _training(payload.get("training")), name)


def _check_state(name: str, state: dict[Any, Any], network: nn.Sequential, shape: str) -> None:
    """The weights must be exactly the network's: text keys, dense real tensors of its shapes, all finite."""
    import torch

    for key, value in state.items():
        if not isinstance(key, str):
            raise _contract_error(name, f"state_dict: key {excerpt(key)} is not text")
        if not isinstance(value, torch.Tensor):
            raise _contract_error(name, f"state_dict.{excerpt(key)}: expected a tensor, got {type(value).__name__}")
        if value.layout != torch.strided:
            raise _contract_error(name, f"state_dict.{excerpt(key)}: expected a dense tensor, got a sparse one")
        if not value.is_floating_point():
            raise _contract_error(name, f"state_dict.{excerpt(key)}: expected real numbers, got {value.dtype}")
    expected = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    found = {key: tuple(value.shape) for key, value in state.items()}
    if expected != found:
        raise _contract_error(
            name,
            shorten(
                f"weights do not fit the contract ({shape} needs {sorted(expected.items())}, the file has "
                f"{sorted(found.items())})",
                400,
            ),
        )
    if not all(bool(torch.isfinite(value).all()) for value in state.values()):
        raise _contract_error(name, "model weights contain NaN or infinity")


def _training(training: Any) -> dict[str, Any]:
    """How the model was trained, as information: text keys only, the method as printable text."""
    if not isinstance(training, dict):
        return {}
    kept = {key: value for key, value in training.items() if isinstance(key, str)}
    if "method" in kept:
        kept["method"] = printable(kept["method"])[:60] if isinstance(kept["method"], str) else "unknown method"
    return kept


def describe_differences(model: Model, config: Config) -> list[tuple[str, str]]:
    """(key, description) for each setting of sensors, physics or policy that differs from the model's."""
    differences: list[tuple[str, str]] = []
    for section, model_values, config_values in (
        ("sensors", dataclasses.asdict(model.sensors), dataclasses.asdict(config.sensors)),
        ("physics", dataclasses.asdict(model.physics), dataclasses.asdict(config.physics)),
    ):
        for key, model_value in model_values.items():
            config_value = config_values[key]
            if isinstance(model_value, tuple):
                same = tuple(model_value) == tuple(config_value)
            else:
                same = math.isclose(float(model_value), float(config_value), rel_tol=1e-12, abs_tol=1e-12)
            if not same:
                differences.append(
                    (
                        f"{section}.{key}",
                        f"{section}.{key} is {_format(config_value)}, the model needs {_format(model_value)}",
                    )
                )
    if tuple(model.hidden_sizes) != tuple(config.policy.hidden_sizes):
        differences.append(
            (
                "policy.hidden_sizes",
                f"policy.hidden_sizes is {list(config.policy.hidden_sizes)}, the model has {list(model.hidden_sizes)}",
            )
        )
    if model.activation != config.policy.activation:
        differences.append(
            ("policy.activation", f"policy.activation is {config.policy.activation}, the model uses {model.activation}")
        )
    return differences


def _format(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{item:g}" for item in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_for_model(model: Model, config: Config, explicit_keys: Collection[str] | None) -> Config:
    """The config to run `model` with: its own sensors, physics and policy shape.

    `explicit_keys` are the `section.key` names the user set on purpose (`--set`); None means the whole config
    was chosen on purpose (`--config FILE`). Where those differ from the model, that is an error naming every
    difference, rather than silently running the model in a world it was not trained for.
    """
    conflicts = [
        message for key, message in describe_differences(model, config) if explicit_keys is None or key in explicit_keys
    ]
    if conflicts:
        raise NeuroCarError(
            f"{model.path}: does not match the requested settings: {'; '.join(conflicts)}"
            " (drop those settings to run the model with its own)"
        )
    adjusted = dataclasses.replace(config, sensors=model.sensors, physics=model.physics)
    return adjusted.replace("policy", hidden_sizes=model.hidden_sizes, activation=model.activation)
