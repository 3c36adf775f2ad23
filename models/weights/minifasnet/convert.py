#!/usr/bin/env python3
"""Converts minivision's two MiniFASNet state dicts (legacy, pre-zip PyTorch pickles) into
one f32 safetensors file each, with no PyTorch: plain Python 3, standard library only.

    python3 models/weights/minifasnet/convert.py [SOURCE_DIR] [OUT_DIR]

SOURCE_DIR defaults to ../shared/models/minifasnet beside the workspace, OUT_DIR to this
script's folder. The inputs' SHA-256 must match SOURCE.md. Tensor names lose the `module.`
prefix (DataParallel); `num_batches_tracked` counters (int64, unused at inference) are
dropped; everything else is written unchanged, in f32. Every written tensor's sum is then
read back from the output and compared with the sum over the original storage bytes.

Legacy layout: pickle(magic) pickle(protocol) pickle(sys info) pickle(state dict, tensors as
persistent ids naming storages) pickle(storage keys), then per key in that order: int64
element count + raw little-endian data.
"""
import collections
import hashlib
import json
import math
import os
import pickle
import struct
import sys

SOURCES = {
    "2.7_80x80_MiniFASNetV2.pth": (
        "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0",
        "minifasnet_v2.safetensors",
    ),
    "4_0_0_80x80_MiniFASNetV1SE.pth": (
        "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990",
        "minifasnet_v1se.safetensors",
    ),
}
MAGIC = 0x1950A86A20F9469CFC6C
ELEMENT_SIZE = {"FloatStorage": ("f", 4), "LongStorage": ("q", 8)}


class StorageType:
    def __init__(self, name):
        self.name = name


class Tensor:
    """What `torch._utils._rebuild_tensor_v2` would build: a view into a storage."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)


def rebuild_tensor(storage, offset, size, stride, *_rest):
    return Tensor(storage, offset, size, stride)


class LegacyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor
        if module == "torch" and name in ELEMENT_SIZE:
            return StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _numel, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return (storage_type.name, key)


def read_legacy(path):
    with open(path, "rb") as f:
        if pickle.load(f) != MAGIC:
            raise ValueError(f"{path}: not a legacy PyTorch file")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info
        state = LegacyUnpickler(f).load()
        keys = pickle.load(f)
        storages = {}
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            kind = next(k for t in state.values() for k in [t.storage] if k[1] == key)[0]
            code, size = ELEMENT_SIZE[kind]
            data = f.read(numel * size)
            if len(data) != numel * size:
                raise ValueError(f"{path}: storage {key} is truncated")
            storages[key] = (code, data)
        if f.read(1):
            raise ValueError(f"{path}: trailing bytes")
    return state, storages


def contiguous_strides(size):
    strides, step = [], 1
    for dim in reversed(size):
        strides.insert(0, step)
        step *= dim
    return tuple(strides)


def tensor_values(tensor, storages):
    code, data = storages[tensor.storage[1]]
    if tensor.stride != contiguous_strides(tensor.size):
        raise ValueError(f"non-contiguous tensor {tensor.size} {tensor.stride}")
    numel = math.prod(tensor.size)
    width = struct.calcsize(code)
    start = tensor.offset * width
    return struct.unpack(f"<{numel}{code}", data[start : start + numel * width])


def write_safetensors(path, tensors):
    """`tensors`: name → (shape, f32 values). Header: u64 length, JSON, padded with spaces."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        shape, values = tensors[name]
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    out = {}
    for name, meta in header.items():
        a, b = meta["data_offsets"]
        out[name] = (tuple(meta["shape"]), struct.unpack(f"<{(b - a) // 4}f", body[a:b]))
    return out


def convert(src, dst):
    state, storages = read_legacy(src)
    tensors, sums = {}, {}
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        if storages[tensor.storage[1]][0] != "f":
            raise ValueError(f"{name}: not f32")
        name = name.removeprefix("module.")
        values = tensor_values(tensor, storages)
        tensors[name] = (tensor.size, values)
        sums[name] = math.fsum(values)
    write_safetensors(dst, tensors)
    back = read_safetensors(dst)
    if set(back) != set(tensors):
        raise ValueError(f"{dst}: tensor names differ after writing")
    for name, (shape, values) in back.items():
        if shape != tuple(tensors[name][0]) or math.fsum(values) != sums[name]:
            raise ValueError(f"{dst}: {name} differs from the original")
    return len(tensors), sum(len(v) for _, v in tensors.values())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_src = os.path.join(here, "..", "..", "..", "..", "shared", "models", "minifasnet")
    src_dir = sys.argv[1] if len(sys.argv) > 1 else default_src
    out_dir = sys.argv[2] if len(sys.argv) > 2 else here
    for file, (sha, out) in SOURCES.items():
        src = os.path.join(src_dir, file)
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != sha:
            sys.exit(f"{src}: sha256 {digest}, expected {sha}")
        dst = os.path.join(out_dir, out)
        count, params = convert(src, dst)
        with open(dst, "rb") as f:
            out_sha = hashlib.sha256(f.read()).hexdigest()
        print(f"{file} -> {out}: {count} tensors, {params} values, sums match, sha256 {out_sha}")


if __name__ == "__main__":
    main()
