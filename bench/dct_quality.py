#!/usr/bin/env python3
"""PSNR and speed of the multi-scale DCT denoiser beside its peers, on the project's protocol.

    python3 bench/dct_quality.py --set Kodak24 --sigmas 15 25 50
    python3 bench/dct_quality.py --set CBSD68 --sigmas 15 25 --peers gegl ipol=/path/to/DCTdenoising

Noisy input: round(clip(clean + sigma N(0,1))) as 8-bit PNG, numpy default_rng(index*1000+sigma)
per image in sorted order; PSNR (peak 255) on each program's 8-bit output. Every method runs on the
same files in the same run, so the s/MP ratios hold on a busy machine.
Methods: ours (the denoise CLI told sigma), blind (its default, noise measured), ours-single (1 scale, hard threshold only), gegl (GIMP's
gegl:denoise-dct through the gegl command), ipol=PATH (the IPOL reference program, built by you).
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
SHARED = ROOT.parent / "shared" / "data" / "eval"


def noisy_image(clean, index, sigma):
    rng = np.random.default_rng(index * 1000 + sigma)
    return np.clip(np.rint(clean + sigma * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def command(method, cli, src, dst, sigma, threads):
    if method == "ours":
        return [cli, "dct", src, dst, "--overwrite", "--sigma", str(sigma), "--threads", str(threads), "--quiet"]
    if method == "blind":  # the default: noise measured from the image
        return [cli, "dct", src, dst, "--overwrite", "--threads", str(threads), "--quiet"]
    if method == "ours-single":
        return [cli, "dct", src, dst, "--overwrite", "--sigma", str(sigma), "--scales", "1", "--no-wiener",
                "--threads", str(threads), "--quiet"]
    if method == "gegl":
        return ["gegl", src, "-o", dst, "--", "denoise-dct", f"sigma={sigma}"]
    if method.startswith("ipol="):
        return [method[5:], str(sigma), src, dst]
    raise SystemExit(f"unknown method {method}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", default="Kodak24")
    p.add_argument("--sigmas", type=int, nargs="+", default=[15, 25, 50])
    p.add_argument("--methods", nargs="+", default=["ours"])
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    a = p.parse_args()

    folder = SHARED / a.set
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith((".png", ".jpg")))[:a.limit]
    gray = a.set in ("Set12", "BSD68")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    print(f"{a.set}: {len(files)} images, {a.threads} threads")
    print(f"{'sigma':>5} " + " ".join(f"{m.split('=')[0]:>22}" for m in a.methods) + "   (PSNR dB, s/MP)")
    with tempfile.TemporaryDirectory() as tmp:
        for sigma in a.sigmas:
            scores = {m: [] for m in a.methods}
            secs = {m: 0.0 for m in a.methods}
            mpix = 0.0
            for i, name in enumerate(files):
                clean = np.asarray(Image.open(folder / name).convert("L" if gray else "RGB")).astype(np.float64)
                src = os.path.join(tmp, "noisy.png")
                Image.fromarray(noisy_image(clean, i, sigma)).save(src)
                mpix += clean.shape[0] * clean.shape[1] / 1e6
                for m in a.methods:
                    dst = os.path.join(tmp, "out.png")
                    t = time.perf_counter()
                    r = subprocess.run(command(m, a.cli, src, dst, sigma, a.threads), env=env,
                                       capture_output=True, text=True)
                    secs[m] += time.perf_counter() - t
                    if r.returncode != 0:
                        sys.exit(f"{m} failed on {name}: {r.stderr}")
                    out = np.asarray(Image.open(dst).convert("L" if gray else "RGB"))
                    scores[m].append(psnr(out, clean))
            print(f"{sigma:>5} " + " ".join(f"{np.mean(scores[m]):>13.2f} {secs[m] / mpix:>6.2f}s"
                                            for m in a.methods), flush=True)


if __name__ == "__main__":
    main()
