"""Reads and writes safetensors files: u64 little-endian header length, JSON header, raw tensors.

Written here rather than taken from the `safetensors` package so that the format our Swift loader
validates is spelled out in one short file.
"""
import json
import struct

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16}
NAMES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}


def save(path, tensors, metadata=None, dtype=np.float32):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype(dtype))
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)  # keeps tensor data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load(path):
    """Returns (dict name -> float32 torch tensor, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[base + a:base + b], dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]))
    return out, meta
