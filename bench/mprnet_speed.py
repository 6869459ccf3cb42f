#!/usr/bin/env python3
"""Speed of our MPRNet engine beside PyTorch on the same weights, same image, same thread count.

    python3 bench/mprnet_speed.py --configs tiny compact medium --size 384 --threads 2

For each config: random weights (seed 0) exported to safetensors; a Kodak crop with sigma-25 noise;
PyTorch (Training/mprnet.py, float32, torch.no_grad, after one warm-up) times the forward pass; ours is
the whole `denoise mprnet` process (loading and PNG coding included) with --tile 0, in float32 and in
bfloat16 (AMX convolutions, where the CPU has them). The runs alternate
`--repeat` times and each keeps its fastest run, so a noisy neighbour slows both alike. Both outputs
are compared (PSNR between them) to show they compute the same thing.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Training"))

CONFIGS = {"tiny": (16, 8, 8, 2, 4), "compact": (24, 16, 8, 2, 4), "medium": (40, 24, 16, 4, 4),
           "official": (80, 48, 32, 8, 4)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=["tiny", "compact", "medium"])
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    a = p.parse_args()

    import torch
    import safetensors_io
    from mprnet import MPRNet, Config, denoise
    torch.set_num_threads(a.threads)

    clean = np.asarray(Image.open(ROOT.parent / "shared/data/eval/Kodak24/kodim05.png").convert("RGB"))
    clean = clean[:a.size, :a.size].astype(np.float64)
    noisy = np.clip(np.rint(clean + 25 * np.random.default_rng(25).standard_normal(clean.shape)), 0, 255).astype(np.uint8)
    mp = noisy.shape[0] * noisy.shape[1] / 1e6
    amx = "amx_bf16" in Path("/proc/cpuinfo").read_text()
    print(f"{a.size}x{a.size} image, {a.threads} threads, best of {a.repeat}; s/MP (lower is better); "
          f"bfloat16 {'on AMX' if amx else 'falls back to float32 (no AMX on this CPU)'}")
    print(f"{'config':>10} {'params':>8} {'PyTorch':>9} | {'float32':>9} {'ratio':>7} {'agree dB':>9} | "
          f"{'bfloat16':>9} {'ratio':>7} {'agree dB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "noisy.png")
        Image.fromarray(noisy).save(src)
        for name in a.configs:
            torch.manual_seed(0)
            model = MPRNet(Config(*CONFIGS[name])).eval()
            weights = os.path.join(tmp, f"{name}.safetensors")
            safetensors_io.save(weights, model.state_dict(), model.cfg.as_metadata())
            x = torch.from_numpy(noisy.transpose(2, 0, 1)[None].astype(np.float32) / 255)
            denoise(model, x[..., :64, :64])
            torch_s, ours_s = float("inf"), {"float32": float("inf"), "bfloat16": float("inf")}
            for _ in range(a.repeat):
                t = time.perf_counter()
                y = denoise(model, x)[0].numpy().transpose(1, 2, 0)
                torch_s = min(torch_s, (time.perf_counter() - t) / mp)
                for precision in ours_s:
                    t = time.perf_counter()
                    subprocess.run([a.cli, "mprnet", src, os.path.join(tmp, f"{precision}.png"), "--overwrite", "--model", weights,
                                    "--tile", "0", "--threads", str(a.threads), "--precision", precision, "--quiet"],
                                   check=True)
                    ours_s[precision] = min(ours_s[precision], (time.perf_counter() - t) / mp)
            ref = np.clip(np.rint(y * 255), 0, 255)
            row = f"{name:>10} {sum(v.numel() for v in model.parameters()) / 1e6:>7.2f}M {torch_s:>8.2f}s"
            for precision, seconds in ours_s.items():
                ours = np.asarray(Image.open(os.path.join(tmp, f"{precision}.png"))).astype(np.float64)
                mse = np.mean((ours - ref) ** 2)
                agree = 10 * np.log10(255 ** 2 / mse) if mse else float("inf")
                row += f" | {seconds:>8.2f}s {torch_s / seconds:>6.2f}x {agree:>9.1f}"
            print(row, flush=True)

if __name__ == "__main__":
    main()
