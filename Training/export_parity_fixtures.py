"""Writes the fixtures the Swift engine's parity tests check against (Tests/Fixtures/mprnet/):
a small MPRNet with fixed random weights, input images, and PyTorch's outputs of every stage.

    python export_parity_fixtures.py [--out ../Tests/Fixtures/mprnet]
    python export_parity_fixtures.py --context 1       # ../Tests/Fixtures/mprnet-context

weights.safetensors  the model (config in __metadata__; with --context N, a 1/8-resolution level of N CABs)
io.safetensors       even_input (3x40x48; 3x80x96 with a context level, whose sides are multiples of
                     16) and its stage1/2/3 outputs; odd_input (3x37x45), its reflect-padded version
                     odd_padded, that input's stage outputs, and odd_output, the stage-3 result
                     cropped back to 37x45
"""
import argparse
from pathlib import Path

import numpy as np
import torch

import safetensors_io
from mprnet import MPRNet, Config, pad_to_multiple

CONFIG = Config(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=2, reduction=4)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--context", type=int, default=0, help="CABs of a context level (0: none)")
    p.add_argument("--out", default=None, help="default: Tests/Fixtures/mprnet, or mprnet-context with --context")
    a = p.parse_args()
    config = Config(**{**CONFIG.__dict__, "context_cabs": a.context})
    fixtures = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures"
    out = Path(a.out) if a.out else fixtures / ("mprnet-context" if a.context else "mprnet")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(2021)
    model = MPRNet(config).eval()
    with torch.no_grad():
        # Defaults leave the shared PReLU at 0.25 for every key; any slope tests the sharing as well.
        model.shallow_feat1[1].body[1].weight.fill_(0.13)
    safetensors_io.save(out / "weights.safetensors", model.state_dict(),
                        config.as_metadata() | {"arch": "mprnet-denoise", "note": "parity fixture, random weights"})

    g = torch.Generator().manual_seed(7)
    io = {}
    with torch.no_grad():
        m = config.multiple
        even = torch.rand(1, 3, 5 * m, 6 * m, generator=g)
        s3, s2, s1 = model(even)
        io |= {"even_input": even[0], "even_stage1": s1[0], "even_stage2": s2[0], "even_stage3": s3[0]}
        odd = torch.rand(1, 3, 37, 45, generator=g)
        padded, H, W = pad_to_multiple(odd, model.cfg.multiple)
        s3, s2, s1 = model(padded)
        io |= {"odd_input": odd[0], "odd_padded": padded[0], "odd_stage1": s1[0], "odd_stage2": s2[0],
               "odd_stage3": s3[0], "odd_output": s3[0, :, :H, :W]}
    safetensors_io.save(out / "io.safetensors", io, {"note": "inputs and PyTorch outputs for the parity tests"})
    print(f"wrote {out}: {sum(t.numel() for t in model.state_dict().values())} weights, config {config}")


if __name__ == "__main__":
    main()
