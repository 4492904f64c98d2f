"""Reading a PyTorch checkpoint in the legacy (pre-1.6, non-zip) format without PyTorch.

Resemblyzer's wheel carries its speaker encoder as such a file. Installing
torch only to read 17 MB of weights would pull gigabytes, so the file is read
here: a few pickles (magic number, protocol, system info, the state dict whose
tensors name storages by key), then each storage's raw little-endian data.
Only the classes a state dict uses may be unpickled: a checkpoint is code,
and this refuses anything else.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_review.core.errors import ModelError

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001
_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass
class _Storage:
    dtype: type
    numel: int
    data: np.ndarray | None = None


@dataclass
class _Tensor:
    storage: _Storage
    offset: int
    size: tuple
    stride: tuple

    def array(self) -> np.ndarray:
        item = np.dtype(self.storage.dtype).itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :],
            shape=tuple(self.size),
            strides=tuple(s * item for s in self.stride),
            writeable=False,
        )
        return np.array(view)  # a copy: the storage may be shared by several tensors


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _DTYPES[name]


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages: dict, where: Path) -> None:
        super().__init__(f, encoding="latin1")
        self._storages, self._where = storages, where

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise ModelError(f"{self._where}: the checkpoint holds {module}.{name}, not only weights; refusing to load it")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel, view = pid
        if kind != "storage" or view is not None:
            raise ModelError(f"{self._where}: unsupported storage record {pid[:1]!r}")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, int(numel))
        return self._storages[key]


def load_legacy_checkpoint(path: Path) -> dict:
    """The checkpoint's object with every tensor as a numpy array (state dicts come back as dicts)."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            magic = pickle.load(f)
            protocol = pickle.load(f)
            pickle.load(f)  # system info: endianness and type sizes, little-endian everywhere we run
        except Exception as e:
            raise ModelError(f"{path}: not a PyTorch checkpoint ({e})") from e
        if magic != _MAGIC or protocol != _PROTOCOL:
            raise ModelError(f"{path}: not a legacy PyTorch checkpoint (magic {magic!r}, protocol {protocol!r})")
        storages: dict[str, _Storage] = {}
        root = _Unpickler(f, storages, path).load()
        keys = pickle.load(f)
        for key in keys:
            storage = storages[key]
            (count,) = struct.unpack("<q", f.read(8))
            if count != storage.numel:
                raise ModelError(f"{path}: storage {key} holds {count} values, expected {storage.numel}; damaged file")
            nbytes = count * np.dtype(storage.dtype).itemsize
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                raise ModelError(f"{path}: cut short in storage {key}; install the model again with --force")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)

    def materialize(obj):
        if isinstance(obj, _Tensor):
            return obj.array()
        if isinstance(obj, dict):
            return {k: materialize(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(materialize(v) for v in obj)
        return obj

    return materialize(root)
