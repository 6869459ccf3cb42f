"""Exports weights to our safetensors format.

    python export.py runs/compact/checkpoint.pt models/mprnet-compact.safetensors [--f16]
    python export.py runs/compact/best.safetensors models/mprnet-compact.safetensors --f16

Takes a training checkpoint or a safetensors file; writes the official state_dict names, the
config in __metadata__, f32 by default or f16 with --f16.
"""
import argparse

import numpy as np
import torch

import safetensors_io
from mprnet import MPRNet, Config


def load_any(path):
    """Returns (model, metadata) from a training checkpoint or a safetensors file."""
    if str(path).endswith(".safetensors"):
        tensors, meta = safetensors_io.load(path)
        cfg = Config.from_metadata(meta)
    else:
        ck = torch.load(path, map_location="cpu", weights_only=False)
        cfg = Config(*map(int, ck["args"]["config"].split(",")))
        tensors, meta = ck["model"], {"note": f"step {ck['state']['step']}"}
    model = MPRNet(cfg)
    model.load_state_dict(tensors, strict=True)
    return model, meta


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("dest")
    p.add_argument("--f16", action="store_true")
    a = p.parse_args()
    model, meta = load_any(a.source)
    meta = {k: v for k, v in meta.items() if k not in Config.__dataclass_fields__}
    meta |= model.cfg.as_metadata() | {"arch": "mprnet-denoise"}
    safetensors_io.save(a.dest, model.state_dict(), meta, np.float16 if a.f16 else np.float32)
    print(f"wrote {a.dest}: {sum(t.numel() for t in model.state_dict().values())} values, {model.cfg}")


if __name__ == "__main__":
    main()
