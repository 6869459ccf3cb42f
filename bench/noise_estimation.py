#!/usr/bin/env python3
"""Accuracy of blind noise-level estimation beside scikit-image's estimate_sigma (wavelet MAD).

    python3 bench/noise_estimation.py --sets CBSD68 Kodak24 --sigmas 0 15 25 50

Noisy input under the project protocol: round(clip(clean + sigma N(0,1))) as 8-bit, numpy
default_rng(index*1000+sigma) per image in sorted order. Prints the mean absolute error and the
mean signed error (bias) of each estimator against the true sigma.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.restoration import estimate_sigma

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "eval"


def noisy_image(clean, index, sigma):
    rng = np.random.default_rng(index * 1000 + sigma)
    return np.clip(np.rint(clean + sigma * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["CBSD68", "Kodak24"])
    p.add_argument("--sigmas", type=int, nargs="+", default=[0, 15, 25, 50])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    a = p.parse_args()
    print(f"{'set':>8} {'sigma':>5} {'ours MAE':>9} {'bias':>6} {'skimage MAE':>12} {'bias':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for s in a.sets:
            folder = SHARED / s
            files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))[:a.limit]
            gray = s in ("Set12", "BSD68")
            for sigma in a.sigmas:
                ours, theirs = [], []
                for i, name in enumerate(files):
                    clean = np.asarray(Image.open(folder / name).convert("L" if gray else "RGB")).astype(np.float64)
                    noisy = noisy_image(clean, i, sigma)
                    path = os.path.join(tmp, "noisy.png")
                    Image.fromarray(noisy).save(path)
                    r = subprocess.run([a.cli, "estimate", path, "--json"], capture_output=True, text=True)
                    if r.returncode != 0:
                        sys.exit(r.stderr)
                    ours.append(json.loads(r.stdout)["sigma"] - sigma)
                    est = estimate_sigma(noisy.astype(np.float64), channel_axis=None if gray else -1, average_sigmas=True)
                    theirs.append(est - sigma)
                ours, theirs = np.array(ours), np.array(theirs)
                print(f"{s:>8} {sigma:>5} {np.abs(ours).mean():>9.2f} {ours.mean():>+6.2f} "
                      f"{np.abs(theirs).mean():>12.2f} {theirs.mean():>+6.2f}", flush=True)


if __name__ == "__main__":
    main()
