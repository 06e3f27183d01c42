"""Torch files written without torch: every supported value loads with `torch.load(weights_only=True)` to exactly
what a `torch.save` of the same payload loads to; model files and checkpoints written this way still load and
resume; anything else is refused naming its place; writing never imports torch."""

from __future__ import annotations

import io
import math
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocar.errors import NeuroCarError
from neurocar.learn import checkpoint
from neurocar.learn.checkpoint import load_checkpoint, save_checkpoint
from neurocar.learn.model_file import load_model, model_payload, save_model
from neurocar.learn.neuroevolution import Neuroevolution
from neurocar.learn.policy import build_network, load_vector, network_vector
from neurocar.learn.torch_file import contiguous_strides, save_torch_file, torch_file_bytes

DTYPES = [
    "float32",
    "float64",
    "int64",
    "int32",
    "uint8",
    "bool",
    "float16",
    "int16",
    "int8",
    "complex64",
    "complex128",
]
SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3), (1, 1, 1, 2)]


def load_written(payload):
    """What `torch.load(weights_only=True)` gives for the file this module writes."""
    return torch.load(io.BytesIO(torch_file_bytes(payload)), weights_only=True)


def as_torch(value):
    """The payload to give `torch.save`: numpy arrays as tensors, tensors contiguous, numpy scalars as Python values."""
    if isinstance(value, np.ndarray):
        source = torch.from_numpy(np.array(value, dtype=value.dtype.newbyteorder("="), order="C", copy=True))
        return torch.empty(source.shape, dtype=source.dtype).copy_(source)  # torch's own strides, even when empty
    if isinstance(value, torch.Tensor):  # written contiguous, with its own storage
        tensor = value.detach().resolve_conj().resolve_neg().contiguous().clone().requires_grad_(value.requires_grad)
        return torch.nn.Parameter(tensor, value.requires_grad) if isinstance(value, torch.nn.Parameter) else tensor
    if isinstance(value, np.generic):
        return value.item()
    if type(value) in (dict, OrderedDict):
        return type(value)((key, as_torch(item)) for key, item in value.items())
    if type(value) in (list, tuple):
        return type(value)(as_torch(item) for item in value)
    return value


def load_saved(payload):
    """What `torch.load(weights_only=True)` gives for `torch.save` of the equivalent payload."""
    buffer = io.BytesIO()
    torch.save(as_torch(payload), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def assert_same(found, expected, where="payload"):
    """Same types, same values (NaN equal to NaN, bit for bit), tensors with the same dtype, shape and strides."""
    assert type(found) is type(expected), where
    if isinstance(expected, torch.Tensor):
        assert (found.dtype, found.shape, found.stride()) == (expected.dtype, expected.shape, expected.stride()), where
        assert found.is_contiguous() and found.storage_offset() == 0, where
        assert found.requires_grad == expected.requires_grad, where
        assert found.detach().numpy().tobytes() == expected.detach().numpy().tobytes(), where
    elif isinstance(expected, dict):
        assert list(found) == list(expected), where
        for key in expected:
            assert_same(found[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(found) == len(expected), where
        for index, (one, other) in enumerate(zip(found, expected, strict=True)):
            assert_same(one, other, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert struct.pack("<d", found) == struct.pack("<d", expected), where
    else:
        assert found == expected, where


def round_trips(payload):
    """The written file loads to what torch.save's does, and to the payload's own values."""
    found = load_written(payload)
    assert_same(found, load_saved(payload))
    return found


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        255,
        256,
        65535,
        65536,
        -1,
        2**31 - 1,
        -(2**31),
        2**31,
        2**63,
        -(2**63) - 1,
        2**128 + 12345,
        2**2039 - 1,
        -(2**2039),
        0.0,
        -0.0,
        1.5,
        1e-310,
        math.inf,
        -math.inf,
        math.nan,
        "",
        "text",
        "ünïcødé ✓ 🚗",
        "lone \ud800 surrogate",
        "long " * 100_000,
        [],
        [1, "two", 3.0, None],
        list(range(2500)),  # more than one batch of appends
        (),
        (1,),
        (1, 2),
        (1, 2, 3),
        (1, 2, 3, 4, 5),
        {},
        {"a": 1, "b": {"nested": [1, (2, {"deeper": "yes"})]}},
        {str(index): index for index in range(2100)},  # more than one batch of set-items
        {0: "int keys", -5: "negative", 2**70: "large"},
        OrderedDict([("z", 1), ("a", 2)]),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_plain_values_load_as_torch_save_writes_them(value):
    found = round_trips({"value": value})
    assert_same(found["value"], value)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_arrays_of_every_type_and_shape_load_as_tensors(dtype, shape):
    array = np.asarray(np.arange(math.prod(shape)).reshape(shape) * 7 % 5, dtype=dtype)
    found = round_trips({"array": array})["array"]
    assert found.shape == shape and found.stride() == contiguous_strides(shape)
    assert np.array_equal(found.numpy(), array) and found.numpy().dtype == array.dtype


def test_non_contiguous_and_foreign_byte_order_arrays_are_written_contiguous():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    arrays = {
        "transposed": base.T,
        "sliced": base[::2, 1::3],
        "fortran": np.asfortranarray(base),
        "big_endian": base.astype(">f8"),
        "big_endian_ints": np.arange(5, dtype=">i4"),
        "reversed": base[::-1],
    }
    found = round_trips(arrays)
    for name, array in arrays.items():
        assert found[name].is_contiguous() and np.array_equal(found[name].numpy(), array), name


def test_float_specials_survive_in_arrays():
    values = np.array([np.inf, -np.inf, np.nan, -0.0, 5e-324, np.finfo(np.float64).max])
    single = np.array([np.inf, -np.inf, np.nan, -0.0, 1e-45, np.finfo(np.float32).max], dtype=np.float32)
    found = round_trips({"values": values, "single": single})
    assert found["values"].numpy().tobytes() == values.tobytes()
    assert found["single"].numpy().tobytes() == single.tobytes()


def test_torch_tensors_are_written_through_numpy():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    tensors = {
        "plain": base,
        "view": base[:, 1],  # torch.save would write the whole base storage; this writes the view's elements
        "transposed": base.t(),
        "scalar": torch.tensor(3.5, dtype=torch.float64),
        "long": torch.arange(5),
        "bool": torch.tensor([True, False]),
        "empty": torch.zeros(0, 3),
        "requires_grad": torch.ones(2, requires_grad=True),
        "parameter": torch.nn.Parameter(torch.full((2, 2), 0.5)),
        "frozen_parameter": torch.nn.Parameter(torch.ones(1), requires_grad=False),
        "negated": -torch.ones(2, dtype=torch.complex64).conj(),
    }
    found = round_trips(tensors)
    assert type(found["parameter"]) is torch.nn.Parameter and found["parameter"].requires_grad
    assert not found["frozen_parameter"].requires_grad
    assert found["requires_grad"].requires_grad and not found["plain"].requires_grad
    for name, tensor in tensors.items():
        assert torch.equal(found[name].detach(), tensor.detach().resolve_conj().resolve_neg()), name


def test_an_object_held_twice_loads_as_one_object_and_a_list_may_hold_itself():
    array = np.ones(3, dtype=np.float32)
    tensor = torch.zeros(2)
    inner = [1, 2]
    cycle: list = ["start"]
    cycle.append(cycle)
    found = round_trips({"arrays": [array, array], "tensors": (tensor, tensor), "lists": [inner, inner]})
    assert found["arrays"][0] is found["arrays"][1] and found["tensors"][0] is found["tensors"][1]
    assert found["lists"][0] is found["lists"][1]
    looped = load_written({"cycle": cycle})["cycle"]
    assert looped[0] == "start" and looped[1] is looped


def test_a_text_is_written_once_however_often_it_appears():
    name = "a column name that every row of a long history repeats"
    payload = {
        "rows": [{"".join(name): index} for index in range(200)],  # 200 equal texts, each its own object
        "arrays": [np.zeros(1)] * 2 + [np.ones(2) for _ in range(50)],
    }
    pickled = zipfile.ZipFile(io.BytesIO(torch_file_bytes(payload))).read("archive/data.pkl")
    assert pickled.count(name.encode()) == 1
    assert pickled.count(b"storage") == pickled.count(b"cpu") == pickled.count(b"DoubleStorage") == 1
    assert pickled.count(b"_rebuild_tensor_v2") == pickled.count(b"OrderedDict") == 1
    found = load_written(payload)
    assert [row[name] for row in found["rows"]] == list(range(200))
    assert found["arrays"][0] is found["arrays"][1] and len({id(array) for array in found["arrays"]}) == 51


def test_numpy_scalars_are_written_as_the_python_values_they_hold():
    payload = {"float": np.float64(0.25), "single": np.float32(0.1), "int": np.int64(-7), "flag": np.bool_(True)}
    found = load_written(payload)
    assert found == {"float": 0.25, "single": float(np.float32(0.1)), "int": -7, "flag": True}
    assert [type(value) for value in found.values()] == [float, float, int, bool]


def test_random_generator_states_restore_the_same_stream():
    numpy_generator = np.random.default_rng(2**80 + 5)
    numpy_generator.random(3)
    torch_generator = torch.Generator().manual_seed(11)
    torch.rand(4, generator=torch_generator)
    found = round_trips({"numpy": numpy_generator.bit_generator.state, "torch": torch_generator.get_state()})
    restored = np.random.default_rng()
    restored.bit_generator.state = found["numpy"]
    assert np.array_equal(restored.random(5), numpy_generator.random(5))
    again = torch.Generator()
    again.set_state(found["torch"])
    assert torch.equal(torch.rand(5, generator=again), torch.rand(5, generator=torch_generator))


def test_the_same_payload_gives_the_same_bytes():
    def payload():
        return {
            "weights": np.linspace(0, 1, 45, dtype=np.float32),
            "history": [{"generation": index, "best": index / 3} for index in range(50)],
            "seed": 2**100,
        }

    first = torch_file_bytes(payload())
    assert torch_file_bytes(payload()) == first and torch_file_bytes(payload()) == first
    changed = payload()
    changed["weights"][3] += 1
    assert torch_file_bytes(changed) != first


def test_the_archive_is_laid_out_as_torch_lays_it_out(monkeypatch, tmp_path):
    payload = {"a": np.ones(3, dtype=np.float32), "empty": np.zeros(0), "b": np.arange(7), "c": np.zeros((2, 2))}
    data = torch_file_bytes(payload)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every record's CRC
    buffer = io.BytesIO()
    torch.save(as_torch(payload), buffer)
    reference = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert archive.namelist() == reference.namelist()
    for info in archive.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
        assert (info.header_offset + 30 + name_length + extra_length) % 64 == 0, info.filename
        if info.filename not in ("archive/data.pkl", "archive/.data/serialization_id"):  # the storages and markers
            assert archive.read(info) == reference.read(info.filename), info.filename
    # torch's loader can compute where each storage starts (mmap) and check it against the zip directory.
    monkeypatch.setenv("TORCH_SERIALIZATION_DEBUG", "1")
    path = tmp_path / "file.pt"
    path.write_bytes(data)
    from torch.utils.serialization import config

    before = config.load.calculate_storage_offsets
    config.load.calculate_storage_offsets = True
    try:
        for mmap in (False, True):
            assert_same(torch.load(path, weights_only=True, mmap=mmap), load_saved(payload))
    finally:
        config.load.calculate_storage_offsets = before


def test_writing_never_imports_torch(tmp_path):
    path = tmp_path / "written.pt"
    program = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from neurocar.learn.torch_file import save_torch_file
        payload = {{"weights": np.arange(6, dtype=np.float32).reshape(2, 3), "meta": {{"seed": 3, "name": "x"}}}}
        save_torch_file(payload, {str(path)!r})
        print(sorted(name for name in sys.modules if name == "torch" or name.startswith("torch.")))
        """
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded["weights"], torch.arange(6, dtype=torch.float32).reshape(2, 3))
    assert loaded["meta"] == {"seed": 3, "name": "x"}


def test_saving_makes_the_folders_and_reports_a_place_it_cannot_write(tmp_path):
    path = tmp_path / "new" / "folders" / "file.pt"
    save_torch_file({"a": [1, 2]}, path)
    assert torch.load(path, weights_only=True) == {"a": [1, 2]}
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(NeuroCarError, match=r"a file/file\.pt: cannot write here"):
        save_torch_file({"a": 1}, tmp_path / "a file" / "file.pt")
    with pytest.raises(TypeError, match=r"^a: a builtins\.object"):
        save_torch_file({"a": object()}, tmp_path / "refused" / "file.pt")
    assert not (tmp_path / "refused").exists()  # a refused payload leaves nothing behind, not even its folder


class Opaque:
    pass


class TensorSubclass(torch.Tensor):
    pass


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        (Opaque(), TypeError, "the payload: a test_torch_file.Opaque cannot be written to a torch file"),
        (
            {"state": {"history": [{"a": 1}, {"fitness": {1, 2}}]}},
            TypeError,
            "state.history[1].fitness: a builtins.set cannot be written",
        ),
        ({"raw": b"bytes"}, TypeError, "raw: a builtins.bytes cannot be written"),
        ({"a": [1, 2j]}, TypeError, "a[1]: a builtins.complex cannot be written"),
        ({"key with spaces": [object()]}, TypeError, "['key with spaces'][0]: a builtins.object"),
        ({"nested": {(1, 2): "tuple key"}}, TypeError, "nested: key (1, 2) is a tuple; the keys of a dict"),
        ({"flag_key": {True: 1}}, TypeError, "flag_key: key True is a bool"),
        ({"objects": np.array([1, "a"], dtype=object)}, TypeError, "objects: an array of object cannot be written"),
        ({"dates": np.array(["2020-01-01"], dtype="datetime64[D]")}, TypeError, "dates: an array of datetime64[D]"),
        ({"wide": np.zeros(2, dtype=np.uint32)}, TypeError, "wide: an array of uint32 cannot be written"),
        ({"date": np.datetime64("2020-01-01")}, TypeError, "date: a numpy datetime64[D] scalar cannot be written"),
        ({"sparse": torch.eye(2).to_sparse()}, TypeError, "sparse: a torch.sparse_coo tensor cannot be written"),
        ({"brain": torch.ones(2, dtype=torch.bfloat16)}, TypeError, "brain: a torch.bfloat16 tensor cannot be written"),
        ({"subclass": torch.ones(2).as_subclass(TensorSubclass)}, TypeError, "subclass: a test_torch_file.TensorSub"),
        ({"huge": [2**2039]}, ValueError, "huge[0]: a whole number of 2040 bits is too large for a torch file"),
        ({"huge": -(2**2039) - 1}, ValueError, "huge: a whole number of 2040 bits is too large"),
    ],
    ids=lambda value: type(value).__name__,
)
def test_a_value_the_file_cannot_hold_is_refused_naming_its_place(payload, error, message):
    with pytest.raises(error) as raised:
        torch_file_bytes(payload)
    assert str(raised.value).startswith(message), str(raised.value)


def test_a_tuple_that_contains_itself_is_refused():
    holder: list = []
    looped = (holder,)
    holder.append(looped)
    with pytest.raises(ValueError, match=r"^looped\[0\]\[0\]: a tuple that contains itself"):
        torch_file_bytes({"looped": looped})


def network_for(config, seed=0):
    network = build_network(len(config.sensors.angles_deg), config.policy.hidden_sizes, config.policy.activation)
    return load_vector(
        network, torch.randn(len(network_vector(network)), generator=torch.Generator().manual_seed(seed))
    )


def test_a_model_file_loads_as_the_model_it_was_saved_from(tmp_path, config):
    network = network_for(config.replace("policy", hidden_sizes=(5, 4)), seed=3)
    wide = config.replace("policy", hidden_sizes=(5, 4))
    training = {"method": "neuroevolution", "seed": 3, "tracks": ["tracks/oval.yaml"], "metrics": {"laps": 1.0}}
    path = tmp_path / "best.pt"
    save_model(path, network, wide, training)
    model = load_model(path)
    assert torch.equal(model.vector, network_vector(network)) and model.hidden_sizes == (5, 4)
    assert model.training == training and model.sensors == config.sensors and model.physics == config.physics
    assert_same(torch.load(path, weights_only=True), load_saved(model_payload(network, wide, training)))


def test_a_model_whose_weights_are_numpy_arrays_loads_the_same(tmp_path, config):
    network = network_for(config, seed=5)
    payload = model_payload(network, config, {"method": "neuroevolution"})
    with_arrays = dict(payload, state_dict={name: value.numpy() for name, value in payload["state_dict"].items()})
    save_torch_file(with_arrays, tmp_path / "arrays.pt")
    save_torch_file(payload, tmp_path / "tensors.pt")
    assert (tmp_path / "arrays.pt").read_bytes() == (tmp_path / "tensors.pt").read_bytes()
    assert torch.equal(load_model(tmp_path / "arrays.pt").vector, network_vector(network))


def test_a_save_that_fails_keeps_the_old_file(tmp_path, config):
    path = tmp_path / "best.pt"
    save_model(path, network_for(config), config, {"method": "neuroevolution"})
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"^training\.note: a builtins\.object"):
        save_model(path, network_for(config, seed=1), config, {"note": object()})
    assert path.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["best.pt"]


def test_a_checkpoint_resumes_to_the_same_next_generation(tmp_path, config, oval, monkeypatch):
    short = config.replace("episode", max_seconds=2.0).replace("evolution", population=6, elite=1)
    running = Neuroevolution(short, [oval], 4, generations=3)
    running.step_generation()
    running.step_generation()
    saved = []
    real_save = checkpoint.save_torch_file
    monkeypatch.setattr(
        checkpoint, "save_torch_file", lambda payload, path: (saved.append(payload), real_save(payload, path))
    )
    save_checkpoint(tmp_path, running)
    assert_same(torch.load(tmp_path / "checkpoint.pt", weights_only=True), load_saved(saved[0]))
    resumed = load_checkpoint(tmp_path)
    assert resumed.generation == 2
    running.step_generation()
    resumed.step_generation()
    assert resumed.history == running.history
    assert np.array_equal(np.asarray(resumed.population), np.asarray(running.population))


# Random nested payloads: what the model files and checkpoints are made of, in every combination.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**2039), max_value=2**2039 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
ARRAYS = st.builds(
    lambda dtype, shape, seed: np.asarray(np.random.default_rng(seed).normal(size=shape) * 50).astype(dtype),
    st.sampled_from(DTYPES),
    st.lists(st.integers(0, 4), max_size=3).map(tuple),
    st.integers(0, 2**32),
)
PAYLOADS = st.recursive(
    SCALARS | ARRAYS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(st.text(max_size=8) | st.integers(-5, 5), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(PAYLOADS)
def test_random_nested_payloads_round_trip(payload):
    round_trips({"payload": payload})


def test_loading_a_written_file_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_written({"value": [np.zeros((2, 0)), {"x": (1.0, "y")}], "weights": torch.ones(3)})
