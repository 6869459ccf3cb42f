#!/usr/bin/env python3
"""MPRNet's strength control on real camera noise: our blend beside a plain opacity blend.

    python3 bench/mprnet_strength.py                       # PolyU100, strengths 0.25 0.5 0.75
    python3 bench/mprnet_strength.py --every 4 --model Training/models/mprnet-camera2-wip.safetensors

For each photo: the network at strength 1 (`denoise mprnet`), then at each strength s through the
CLI (`--strength s`: 1 - s of the luminance of the removed noise put back, none of its colour), and
the plain blend s * denoised + (1 - s) * noisy computed here from the strength-1 result. PSNR (peak
255) of the 8-bit results against PolyU100's clean references, means over the photos. At equal s
both leave the same share of the luminance noise; the plain blend also brings back the colour
noise, which is what the difference measures.
"""
import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
POLYU = ROOT.parent / "shared" / "data" / "eval" / "PolyU100"


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def denoise(cli, files, out, extra):
    out.mkdir()
    subprocess.run([cli, "mprnet", *map(str, files), "--output-dir", str(out), "--format", "png", "--quiet",
                    "--overwrite", "--precision", "float32"] + extra, check=True)
    return [load(out / (f.stem + ".png")) for f in files]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    p.add_argument("--model", help="weights (default: the installed model)")
    p.add_argument("--strengths", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    p.add_argument("--every", type=int, default=1, help="every Nth photo (sorted)")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    files = sorted((POLYU / "noisy").iterdir())[::a.every]
    extra = ["--threads", str(a.threads)] + (["--model", a.model] if a.model else [])
    clean = [load(POLYU / "clean" / f.name) for f in files]
    noisy = [load(f) for f in files]
    with tempfile.TemporaryDirectory() as tmp:
        full = denoise(a.cli, files, Path(tmp) / "s1", extra)
        print(f"PolyU100, {len(files)} photos; PSNR dB (mean)")
        print(f"noisy {np.mean([psnr(n, c) for n, c in zip(noisy, clean)]):.2f}   "
              f"strength 1 {np.mean([psnr(d, c) for d, c in zip(full, clean)]):.2f}")
        print(f"{'strength':>8} | {'plain blend':>11} | {'ours':>6} | gain")
        for s in a.strengths:
            ours = denoise(a.cli, files, Path(tmp) / f"s{s}", extra + ["--strength", str(s)])
            plain = [np.clip(np.rint(s * d.astype(np.float64) + (1 - s) * n), 0, 255) for d, n in zip(full, noisy)]
            pp = np.mean([psnr(x, c) for x, c in zip(plain, clean)])
            po = np.mean([psnr(x, c) for x, c in zip(ours, clean)])
            print(f"{s:8.2f} | {pp:11.2f} | {po:6.2f} | {po - pp:+.2f}")


if __name__ == "__main__":
    main()
