"""Converts an official MPRNet denoising checkpoint (swz30/MPRNet, model_denoising.pth) to our
safetensors format. The config is read off the tensor shapes, so other widths convert too.

    python convert_official.py model_denoising.pth mprnet-official.safetensors
"""
import argparse

import torch

import safetensors_io
from mprnet import MPRNet, Config


def official_state_dict(obj):
    """Accepts a bare state_dict or {'state_dict': ...}; strips DataParallel's 'module.' prefix."""
    sd = obj.get("state_dict", obj)
    return {k[7:] if k.startswith("module.") else k: v for k, v in sd.items()}


def infer_config(sd):
    n = sd["shallow_feat1.0.weight"].shape[0]
    s = sd["stage1_encoder.down12.down.1.weight"].shape[0] - n
    so = sd["stage3_orsnet.orb1.body.0.body.0.weight"].shape[0] - n
    num_cab = len({k.split(".")[3] for k in sd if k.startswith("stage3_orsnet.orb1.body.") and ".body.0.weight" in k})
    reduction = n // sd["shallow_feat1.1.CA.conv_du.0.weight"].shape[0]
    return Config(n, s, so, num_cab, reduction)


def convert(obj):
    sd = official_state_dict(obj)
    model = MPRNet(infer_config(sd))
    model.load_state_dict(sd, strict=True)  # every name and shape must match
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pth")
    p.add_argument("dest")
    a = p.parse_args()
    model = convert(torch.load(a.pth, map_location="cpu", weights_only=False))
    safetensors_io.save(a.dest, model.state_dict(),
                        model.cfg.as_metadata() | {"arch": "mprnet-denoise", "note": f"converted from {a.pth}"})
    print(f"wrote {a.dest}: config {model.cfg}")


if __name__ == "__main__":
    main()
