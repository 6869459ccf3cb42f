#!/usr/bin/env python3
"""PSNR of the MPRNet filter in float32 and in bfloat16 (AMX) on the project's protocol.

    python3 bench/mprnet_precision.py --model Training/models/mprnet-compact.safetensors --sigmas 25 50

Noisy input: round(clip(clean + sigma N(0,1))) as 8-bit PNG, numpy default_rng(index*1000+sigma)
per image in sorted order; PSNR (peak 255) of each 8-bit output against the clean image. The two
precisions run on the same files in the same run; bfloat16 is worth using where the mean PSNR stays
within 0.05 dB of float32.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dct_quality import ROOT, SHARED, noisy_image, psnr  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--set", default="CBSD68")
    p.add_argument("--sigmas", type=int, nargs="+", default=[25])
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    a = p.parse_args()

    if "amx_bf16" not in Path("/proc/cpuinfo").read_text():
        print("note: no AMX on this CPU, so bfloat16 runs as float32")
    files = sorted((SHARED / a.set).glob("*.png"))[:a.limit]
    print(f"{a.set}, {len(files)} images, mean PSNR (dB)")
    print(f"{'sigma':>5} {'float32':>9} {'bfloat16':>9} {'change':>8} {'worst image':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for sigma in a.sigmas:
            scores = {"float32": [], "bfloat16": []}
            for index, path in enumerate(files):
                clean = np.asarray(Image.open(path).convert("RGB"))
                src = os.path.join(tmp, "noisy.png")
                Image.fromarray(noisy_image(clean.astype(np.float64), index, sigma)).save(src)
                for precision, out in scores.items():
                    dst = os.path.join(tmp, f"{precision}.png")
                    subprocess.run([a.cli, "mprnet", src, dst, "--overwrite", "--model", a.model, "--threads", str(a.threads),
                                    "--precision", precision, "--quiet"], check=True)
                    out.append(psnr(np.asarray(Image.open(dst)), clean))
            f, b = np.array(scores["float32"]), np.array(scores["bfloat16"])
            print(f"{sigma:>5} {f.mean():>9.3f} {b.mean():>9.3f} {b.mean() - f.mean():>+8.3f} {(b - f).min():>+12.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
