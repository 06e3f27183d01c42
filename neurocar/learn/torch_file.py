"""Torch files written without torch: `torch_file_bytes(payload)` gives the bytes of the file `torch.save` would
write, `save_torch_file(payload, path)` writes them atomically, and `torch.load(path, weights_only=True)` (torch 2.2
or later) reads them back to the same objects.

Importing torch costs seconds; a headless run only needs it to write its model and checkpoint files. This module
needs only numpy and the standard library, and it never imports torch (torch tensors handed to it are converted by
their own methods).

**The file.** A zip archive, every record stored uncompressed, its data starting on a 64-byte boundary, laid out
the way torch's own writer lays it out, so that torch's loader (which can compute where each storage starts instead of
looking it up) finds everything where it expects:

| record                          | content                                                                  |
|---------------------------------|--------------------------------------------------------------------------|
| `archive/data.pkl`              | the payload as a protocol-2 pickle, tensors as persistent ids (below)    |
| `archive/.format_version`       | `1` (storages are numbered in the order the pickle first uses them)      |
| `archive/.storage_alignment`    | `64`                                                                     |
| `archive/byteorder`             | `little` (every storage is written little-endian, whatever the machine)  |
| `archive/data/<key>`            | one per tensor: its elements, C order, keys `0`, `1`, ... in pickle order |
| `archive/version`               | `3` (the archive format torch writes and reads)                          |
| `archive/.data/serialization_id`| 40 digits derived from a hash of the records above (torch draws them at random) |

Each record has a local header whose extra field (`FB`, a length, then `Z` bytes) pads its data to the boundary, and
a 16-byte data descriptor after the data when there is any; then the central directory and the zip64 and classic
end records. Nothing depends on the clock or on chance, so the same payload always gives the same bytes.

**The pickle.** The standard `pickle` module cannot name `torch._utils._rebuild_tensor_v2` without importing torch
(it checks every global it writes by importing it), so this module emits the opcodes itself, and only the opcodes
torch's `weights_only` unpickler accepts:

| value                     | opcodes                                                                          |
|---------------------------|----------------------------------------------------------------------------------|
| None, True, False         | NONE, NEWTRUE, NEWFALSE                                                          |
| int                       | BININT1, BININT2, BININT, or LONG1 (at most 255 bytes: -2**2039 <= n < 2**2039)  |
| float (inf and nan too)   | BINFLOAT (8 bytes, big-endian)                                                   |
| str                       | BINUNICODE (UTF-8; lone surrogates kept, as pickle keeps them)                   |
| list                      | EMPTY_LIST, then APPENDS in batches of 1000 (APPEND for a batch of one)          |
| dict, OrderedDict         | EMPTY_DICT or `collections.OrderedDict()`, then SETITEMS in batches of 1000      |
| tuple                     | EMPTY_TUPLE, TUPLE1 to TUPLE3, or MARK ... TUPLE                                 |
| numpy array, torch tensor | `torch._utils._rebuild_tensor_v2(storage, 0, shape, strides, requires_grad,      |
|                           | OrderedDict())`, the storage a persistent id (BINPERSID) `('storage',            |
|                           | torch.<Type>Storage, key, 'cpu', element count)`, the strides contiguous         |
| torch.nn.Parameter        | `torch._utils._rebuild_parameter(tensor, requires_grad, OrderedDict())`          |

Every list, dict, tuple, array and tensor is memoised by identity, so an object the payload holds twice (or a list
that holds itself) loads as one object, as with `torch.save`; texts are memoised by value. Dict keys are text or
whole numbers. Arrays may have any shape (0-d and empty too); non-contiguous ones are written contiguous. Their types:
float16, float32, float64, complex64, complex128, int8, int16, int32, int64, uint8 and bool. A torch tensor goes
through `.detach().cpu().numpy()`, keeping its `requires_grad` (a Parameter loads as a Parameter); it loads as a
contiguous CPU tensor with its own storage (a view does not drag its whole base storage along, and two views of one
storage load as two tensors). A numpy scalar is written as the Python value it holds (`torch.save` would pickle it
through numpy, which `weights_only` refuses to load). Any other value is a `TypeError` naming its place in the
payload (`state.history[3].fitness`); a whole number beyond LONG1's range is a `ValueError`.

These are the opcodes and records `torch.save` itself writes for such a payload, so any torch that loads its files
loads these.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from neurocar.errors import NeuroCarError
from neurocar.files import atomic_write_bytes
from neurocar.paths import display_path

ARCHIVE_NAME = "archive"  # the folder inside the zip: what torch.save names it when writing to a buffer
STORAGE_ALIGNMENT = 64  # bytes; where every record's data starts
ARCHIVE_VERSION = b"3\n"
BATCH_SIZE = 1000  # items per APPENDS / SETITEMS, as pickle batches them
MAX_LONG_BYTES = 255  # LONG1's one-byte length; the weights_only unpickler has no LONG4
MAX_ZIP_BYTES = 0xFFFFFFFF  # beyond this a zip needs zip64 sizes and offsets in every header
SUPPORTED = "dict, list, tuple, str, int, float, bool, None, numpy arrays and torch tensors"

# Storage class per numpy element kind and size: what torch.save names for a tensor of that dtype.
STORAGE_TYPES = {
    ("f", 2): "HalfStorage",
    ("f", 4): "FloatStorage",
    ("f", 8): "DoubleStorage",
    ("c", 8): "ComplexFloatStorage",
    ("c", 16): "ComplexDoubleStorage",
    ("i", 1): "CharStorage",
    ("i", 2): "ShortStorage",
    ("i", 4): "IntStorage",
    ("i", 8): "LongStorage",
    ("u", 1): "ByteStorage",
    ("b", 1): "BoolStorage",
}

# Pickle opcodes (protocol 2), only those torch's weights_only unpickler accepts.
PROTO = b"\x80"
STOP = b"."
MARK = b"("
NONE = b"N"
NEWTRUE = b"\x88"
NEWFALSE = b"\x89"
BININT = b"J"
BININT1 = b"K"
BININT2 = b"M"
LONG1 = b"\x8a"
BINFLOAT = b"G"
BINUNICODE = b"X"
EMPTY_TUPLE = b")"
TUPLE = b"t"
TUPLE_OF_SIZE = {1: b"\x85", 2: b"\x86", 3: b"\x87"}
EMPTY_LIST = b"]"
APPEND = b"a"
APPENDS = b"e"
EMPTY_DICT = b"}"
SETITEM = b"s"
SETITEMS = b"u"
GLOBAL = b"c"
REDUCE = b"R"
BINPERSID = b"Q"
BINPUT = b"q"
LONG_BINPUT = b"r"
BINGET = b"h"
LONG_BINGET = b"j"

pack_double = struct.Struct(">d").pack

# Zip records. Local header: signature, version needed, flags, method, time, date, CRC, compressed and plain sizes,
# name and extra-field lengths (the CRC and sizes are zero: the data descriptor after the data holds them).
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
DATA_DESCRIPTOR = struct.Struct("<4sIII")  # signature, CRC, compressed and plain sizes
# Central directory entry: signature, versions made by and needed, flags, method, time, date, CRC, sizes, name,
# extra-field and comment lengths, disk, internal and external attributes, offset of the local header.
DIRECTORY_ENTRY = struct.Struct("<4sHHHHHHIIIHHHHHII")
# Zip64 end record (signature, its size after this field, versions made by and needed, disk numbers, entry counts
# on this disk and in all, directory size and offset), its locator (signature, disk, offset, disks), and the classic
# end record (signature, disk numbers, entry counts, directory size and offset, comment length).
ZIP64_END = struct.Struct("<4sQHHIIQQQQ")
ZIP64_LOCATOR = struct.Struct("<4sIQI")
END = struct.Struct("<4sHHHHIIH")

# Tensor types accepted, by (module, qualified name) of their class: no torch import needed to recognise them.
TENSOR = ("torch", "Tensor")
PARAMETER = ("torch.nn.parameter", "Parameter")


def torch_file_bytes(payload: Any) -> bytes:
    """The bytes of a torch file holding `payload` (see the module docstring for what it may contain)."""
    pickled, storages = PayloadPickler().pickle(payload)
    records = [
        ("data.pkl", pickled),
        (".format_version", b"1"),
        (".storage_alignment", str(STORAGE_ALIGNMENT).encode()),
        ("byteorder", b"little"),
        *((f"data/{key}", data) for key, data in enumerate(storages)),
        ("version", ARCHIVE_VERSION),
    ]
    records.append((".data/serialization_id", serialization_id(records)))
    return zip_archive(records)


def save_torch_file(payload: Any, path: str | Path) -> None:
    """Write `payload` to `path` as a torch file, atomically (its parent folders are made if needed).

    The bytes are made in memory first, so a value the file cannot hold (a `TypeError` or `ValueError` naming it)
    leaves nothing behind; then they go to a temporary file renamed into place, so a failed write (a `NeuroCarError`
    naming the file) never leaves a damaged file where a good one was.
    """
    data = torch_file_bytes(payload)
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NeuroCarError(f"{display_path(target)}: cannot write here ({error.strerror or error})") from None
    atomic_write_bytes(target, data)


def serialization_id(records: list[tuple[str, bytes]]) -> bytes:
    """40 decimal digits (two 64-bit numbers, as torch writes them) from a hash of the records' names and data."""
    digest = hashlib.blake2b(digest_size=16)
    for name, data in records:
        digest.update(struct.pack("<QQ", len(name), len(data)) + name.encode() + data)
    first, second = struct.unpack("<QQ", digest.digest())
    return f"{first:020d}{second:020d}".encode()


def zip_archive(records: list[tuple[str, bytes]]) -> bytes:
    """A zip archive of `records` (name, data) in folder `ARCHIVE_NAME`, stored, each one's data aligned."""
    archive = bytearray()
    directory = bytearray()
    for record_name, data in records:
        name = f"{ARCHIVE_NAME}/{record_name}".encode()
        offset = len(archive)
        size = len(data)
        crc = zlib.crc32(data)
        # The data follows the header, the name and the padding field's own 4 bytes, then the padding.
        padding = -(offset + LOCAL_HEADER.size + len(name) + 4) % STORAGE_ALIGNMENT
        # Bit 11: names are UTF-8. Bit 3: sizes and CRC come after the data (torch's writer drops it for no data).
        flags = 0x0808 if data else 0x0800
        archive += LOCAL_HEADER.pack(b"PK\x03\x04", 0, flags, 0, 0, 0, 0, 0, 0, len(name), 4 + padding)
        archive += name + b"FB" + struct.pack("<H", padding) + b"Z" * padding + data
        if data:
            archive += DATA_DESCRIPTOR.pack(b"PK\x07\x08", crc, size, size)
        directory += DIRECTORY_ENTRY.pack(
            b"PK\x01\x02", 0, 0, flags, 0, 0, 0, crc, size, size, len(name), 0, 0, 0, 0, 0, offset
        )
        directory += name
    start = len(archive)
    if start + len(directory) > MAX_ZIP_BYTES:
        raise ValueError(f"payload too large for a torch file written without torch ({start} bytes)")
    archive += directory
    end = len(archive)
    count = len(records)
    archive += ZIP64_END.pack(b"PK\x06\x06", ZIP64_END.size - 12, 0x031E, 45, 0, 0, count, count, len(directory), start)
    archive += ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, end, 1)
    archive += END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0)
    return bytes(archive)


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Element strides of a C-contiguous tensor of `shape`, as torch gives them (a zero size counts as one)."""
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


class UnwritableValueError(Exception):
    """A value the file cannot hold; `steps` is the path to it, innermost first, filled in on the way out."""

    def __init__(self, error_type: type[Exception], message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.steps: list[str | int] = []


def describe_path(steps: list[str | int]) -> str:
    """A path into the payload as `state.history[3]['a key']` (outermost step first)."""
    text = ""
    for step in steps:
        if isinstance(step, str) and step.isidentifier():
            text += f".{step}" if text else step
        else:
            text += f"[{step!r}]"
    return text or "the payload"


class PayloadPickler:
    """Writes one payload as a protocol-2 pickle for torch's weights_only unpickler, collecting tensor storages.

    Its state lives for one `pickle` call: the output, the memo (identity for containers, value for texts, name for
    globals; each entry holds the opcode that fetches it again), and the storages in key order.
    """

    def __init__(self) -> None:
        self.output = bytearray()
        self.memo: dict[int, tuple[bytes, Any]] = {}  # id -> (its GET opcode, the object: kept alive, ids unique)
        self.text_memo: dict[str, bytes] = {}
        self.global_memo: dict[tuple[str, str], bytes] = {}
        self.memo_count = 0
        self.open_tuples: set[int] = set()
        self.storages: list[bytes] = []

    def pickle(self, payload: Any) -> tuple[bytes, list[bytes]]:
        """The pickle of `payload` and the storages it refers to (storage `key` is its index)."""
        self.output += PROTO + b"\x02"
        try:
            self.write(payload)
        except UnwritableValueError as refusal:
            raise refusal.error_type(f"{describe_path(refusal.steps[::-1])}: {refusal.message}") from None
        self.output += STOP
        return bytes(self.output), self.storages

    def write(self, value: Any) -> None:
        """Emit the opcodes that rebuild `value` (the commonest types first: this runs once per value)."""
        kind = type(value)
        if kind is str:
            fetch = self.text_memo.get(value)
            if fetch is None:
                self.write_new_text(value)
            else:
                self.output += fetch
        elif kind is float:
            self.output += BINFLOAT + pack_double(value)
        elif kind is int:
            self.write_int(value)
        elif value is None:
            self.output += NONE
        elif kind is bool:
            self.output += NEWTRUE if value else NEWFALSE
        elif id(value) in self.memo:  # only containers, arrays and tensors are memoised by identity
            self.output += self.memo[id(value)][0]
        elif kind is dict or kind is OrderedDict:
            self.write_dict(value)
        elif kind is list:
            self.write_list(value)
        elif kind is tuple:
            self.write_tuple(value)
        elif kind is np.ndarray:
            self.write_array(value, value, requires_grad=False)
        elif is_tensor(kind):
            self.write_tensor(value)
        elif isinstance(value, np.generic):
            scalar = value.item()
            if type(scalar) not in (bool, int, float, str):
                raise UnwritableValueError(TypeError, f"a numpy {value.dtype} scalar cannot be written to a torch file")
            self.write(scalar)
        else:
            raise UnwritableValueError(
                TypeError,
                f"a {kind.__module__}.{kind.__qualname__} cannot be written to a torch file (supported: {SUPPORTED})",
            )

    def next_memo(self) -> bytes:
        """Emit a PUT for the value just written; return the GET that fetches it again."""
        index = self.memo_count
        self.memo_count += 1
        if index < 256:
            self.output += BINPUT + bytes((index,))
            return BINGET + bytes((index,))
        self.output += LONG_BINPUT + struct.pack("<I", index)
        return LONG_BINGET + struct.pack("<I", index)

    def remember(self, value: Any) -> None:
        """Memoise `value` (just written) by identity."""
        self.memo[id(value)] = (self.next_memo(), value)

    def write_int(self, value: int) -> None:
        if 0 <= value < 0x100:
            self.output += BININT1 + bytes((value,))
        elif 0 <= value < 0x10000:
            self.output += BININT2 + struct.pack("<H", value)
        elif -(2**31) <= value < 2**31:
            self.output += BININT + struct.pack("<i", value)
        else:
            size = (value if value >= 0 else ~value).bit_length() // 8 + 1  # two's complement with its sign bit
            if size > MAX_LONG_BYTES:
                raise UnwritableValueError(
                    ValueError,
                    f"a whole number of {value.bit_length()} bits is too large for a torch file"
                    f" (at most {MAX_LONG_BYTES * 8 - 1} bits and a sign)",
                )
            self.output += LONG1 + bytes((size,)) + value.to_bytes(size, "little", signed=True)

    def write_text(self, value: str) -> None:
        fetch = self.text_memo.get(value)
        if fetch is None:
            self.write_new_text(value)
        else:
            self.output += fetch

    def write_new_text(self, value: str) -> None:
        """A text not written before (`write` and `write_dict` look in the memo themselves: they run most)."""
        encoded = value.encode("utf-8", "surrogatepass")
        if len(encoded) > MAX_ZIP_BYTES:
            raise UnwritableValueError(ValueError, "text too long for a torch file")
        self.output += BINUNICODE + struct.pack("<I", len(encoded)) + encoded
        self.text_memo[value] = self.next_memo()

    def write_global(self, module: str, name: str) -> None:
        fetch = self.global_memo.get((module, name))
        if fetch is not None:
            self.output += fetch
            return
        self.output += GLOBAL + f"{module}\n{name}\n".encode()
        self.global_memo[(module, name)] = self.next_memo()

    def write_list(self, value: list[Any]) -> None:
        self.output += EMPTY_LIST
        self.remember(value)
        for start in range(0, len(value), BATCH_SIZE):
            batch = value[start : start + BATCH_SIZE]
            if len(batch) > 1:
                self.output += MARK
            for index, item in enumerate(batch, start):
                try:
                    self.write(item)
                except UnwritableValueError as refusal:
                    refusal.steps.append(index)
                    raise
            self.output += APPENDS if len(batch) > 1 else APPEND

    def write_dict(self, value: dict[Any, Any]) -> None:
        if type(value) is OrderedDict:
            self.write_empty_ordered_dict()
        else:
            self.output += EMPTY_DICT
        self.remember(value)
        items = list(value.items())
        for start in range(0, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE] if len(items) > BATCH_SIZE else items
            if len(batch) > 1:
                self.output += MARK
            for key, item in batch:
                key_kind = type(key)
                if key_kind is str:
                    fetch = self.text_memo.get(key)
                    if fetch is None:
                        self.write_new_text(key)
                    else:
                        self.output += fetch
                elif key_kind is int:
                    self.write_int(key)
                else:
                    raise UnwritableValueError(
                        TypeError,
                        f"key {key!r} is a {key_kind.__qualname__}; the keys of a dict written to a torch file must"
                        " be text or whole numbers",
                    )
                try:
                    self.write(item)
                except UnwritableValueError as refusal:
                    refusal.steps.append(key)
                    raise
            self.output += SETITEMS if len(batch) > 1 else SETITEM

    def write_empty_ordered_dict(self) -> None:
        self.write_global("collections", "OrderedDict")
        self.output += EMPTY_TUPLE + REDUCE

    def write_tuple(self, value: tuple[Any, ...]) -> None:
        if not value:
            self.output += EMPTY_TUPLE
            return
        if id(value) in self.open_tuples:
            # Pickle rebuilds such a cycle with POP opcodes, which the weights_only unpickler refuses.
            raise UnwritableValueError(ValueError, "a tuple that contains itself cannot be written to a torch file")
        self.open_tuples.add(id(value))
        if len(value) > 3:
            self.output += MARK
        for index, item in enumerate(value):
            try:
                self.write(item)
            except UnwritableValueError as refusal:
                refusal.steps.append(index)
                raise
        self.open_tuples.discard(id(value))
        self.output += TUPLE_OF_SIZE.get(len(value), TUPLE)
        self.remember(value)

    def write_ints_tuple(self, values: tuple[int, ...]) -> None:
        """A tuple of whole numbers made here (a shape or strides): nothing else refers to it, so no memo."""
        if len(values) > 3:
            self.output += MARK
        for value in values:
            self.write_int(value)
        self.output += TUPLE_OF_SIZE.get(len(values), TUPLE) if values else EMPTY_TUPLE

    def write_tensor(self, tensor: Any) -> None:
        """A torch tensor or parameter, through numpy."""
        kind = (type(tensor).__module__, type(tensor).__qualname__)
        if str(tensor.layout) != "torch.strided":
            raise UnwritableValueError(
                TypeError, f"a {tensor.layout} tensor cannot be written to a torch file (dense only)"
            )
        try:
            array = tensor.detach().cpu().resolve_conj().resolve_neg().numpy()
        except (TypeError, RuntimeError) as error:
            raise UnwritableValueError(
                TypeError, f"a {tensor.dtype} tensor cannot be written to a torch file ({error})"
            ) from None
        if kind == PARAMETER:
            self.write_global("torch._utils", "_rebuild_parameter")
            self.write_array(array, None, requires_grad=False)
            self.output += NEWTRUE if tensor.requires_grad else NEWFALSE
            self.write_empty_ordered_dict()
            self.output += TUPLE_OF_SIZE[3] + REDUCE
            self.remember(tensor)
        else:
            self.write_array(array, tensor, requires_grad=bool(tensor.requires_grad))

    def write_array(self, array: np.ndarray, source: Any, requires_grad: bool) -> None:
        """`array` as a tensor with its own storage; `source` (the object in the payload) is memoised, if any."""
        storage_type = STORAGE_TYPES.get((array.dtype.kind, array.dtype.itemsize))
        if storage_type is None or array.dtype.fields is not None:
            raise UnwritableValueError(
                TypeError,
                f"an array of {array.dtype} cannot be written to a torch file (supported element"
                f" types: {', '.join(sorted({str(np.dtype(f'{kind}{size}')) for kind, size in STORAGE_TYPES}))})",
            )
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        key = str(len(self.storages))
        self.storages.append(data)
        shape = tuple(int(size) for size in array.shape)
        self.write_global("torch._utils", "_rebuild_tensor_v2")
        self.output += MARK + MARK
        self.write_text("storage")
        self.write_global("torch", storage_type)
        self.write_text(key)
        self.write_text("cpu")
        self.write_int(int(array.size))
        self.output += TUPLE + BINPERSID
        self.write_int(0)  # storage offset
        self.write_ints_tuple(shape)
        self.write_ints_tuple(contiguous_strides(shape))
        self.output += NEWTRUE if requires_grad else NEWFALSE
        self.write_empty_ordered_dict()  # backward hooks: none
        self.output += TUPLE + REDUCE
        if source is not None:
            self.remember(source)


def is_tensor(kind: type) -> bool:
    """True for torch.Tensor and torch.nn.Parameter (exactly those: a subclass may carry state a file cannot)."""
    return (kind.__module__, kind.__qualname__) in (TENSOR, PARAMETER)
