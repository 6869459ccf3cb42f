#!/usr/bin/env python3
"""Where each method's error lies on PolyU100: by scale, in luma and in chroma.

    python3 bench/real_noise_bands.py --methods dct=14 mprnet=Training/models/mprnet-camera-release.safetensors
    python3 bench/real_noise_bands.py --methods blind dct=14 --every 2

The error (output minus the mean-of-shots reference) is split into bands by differences of
Gaussian blurs (0-1, 1-2, 2-4, 4-8, 8-32 and over 32 pixels) and each band into luma (the mean of
R, G, B) and chroma (the rest); the table gives each part's mean square per pixel and channel, so
a row's parts sum to its MSE. Beside them, what two corrections of the output would be worth: a
Gaussian blur of sigma 0.5 (is the reference softer than the output?) and shifting each channel's
mean to the noisy photo's (does the method move the mean of the image?). With `--align`, each
photo's sub-pixel offset from its reference is estimated (the noisy photo and the reference, both
blurred by sigma 1, compared over shifts of the reference in eighths of a pixel) and every method
is also scored against the shifted reference: what the offset costs. Methods run through our
CLI: `blind` (`denoise dct`), `dct=S` (`--noise gaussian --sigma S`), `mprnet=PATH` (`denoise
mprnet --model PATH`, the default precision).
"""
import argparse
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, shift

ROOT = Path(__file__).resolve().parent.parent
POLYU = ROOT.parent / "shared" / "data" / "eval" / "PolyU100"
SCALES = [0, 1, 2, 4, 8, 32]  # band i lies between blurs SCALES[i] and SCALES[i + 1]; the last is all above


def blur(x, s):
    return x if s == 0 else np.stack([gaussian_filter(x[..., c], s, mode="reflect") for c in range(3)], axis=-1)


def band_energies(e):
    """Mean square per pixel and channel of each band's luma and chroma: len(SCALES) x 2."""
    levels = [blur(e, s) for s in SCALES] + [0.0]
    out = []
    for fine, coarse in zip(levels, levels[1:]):
        band = fine - coarse
        luma = band.mean(axis=2, keepdims=True)
        out.append([np.mean(luma ** 2), np.mean((band - luma) ** 2)])
    return np.array(out)


def shifted(x, offset):
    return np.clip(np.stack([shift(x[..., c], offset, order=3, mode="reflect") for c in range(3)], axis=-1), 0, 255)


def offset_from(noisy, clean):
    """The shift of `clean` (rows, columns, in eighths of a pixel, at most 7/8) that best matches
    `noisy`, both blurred by sigma 1 to see past the noise: quarters first, then eighths around the
    best quarter."""
    target = blur(noisy, 1.0)[8:-8, 8:-8]
    score = lambda o: np.mean((blur(shifted(clean, o), 1.0)[8:-8, 8:-8] - target) ** 2)
    best = min([(i / 4, j / 4) for i in range(-3, 4) for j in range(-3, 4)], key=score)
    return min([(best[0] + i / 8, best[1] + j / 8) for i in (-1, 0, 1) for j in (-1, 0, 1)], key=score)


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def to8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def run(cli, method, src, dst, threads):
    if method == "blind":
        args = ["dct", src, dst]
    elif method.startswith("dct="):
        args = ["dct", src, dst, "--noise", "gaussian", "--sigma", method[4:]]
    elif method.startswith("mprnet="):
        args = ["mprnet", src, dst, "--model", method[7:]]
    else:
        raise SystemExit(f"unknown method {method}: blind, dct=SIGMA or mprnet=PATH")
    r = subprocess.run([cli] + [str(x) for x in args] + ["--overwrite", "--quiet", "--threads", str(threads)],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{method}: {r.stderr}")
    return np.asarray(Image.open(dst).convert("RGB"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=["blind", "dct=14"])
    p.add_argument("--every", type=int, default=4, help="every k-th photo, in sorted order")
    p.add_argument("--jobs", type=int, default=2, help="photos in parallel, one thread each")
    p.add_argument("--align", action="store_true", help="also score against the reference shifted onto each photo")
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    a = p.parse_args()
    if not POLYU.is_dir():
        raise SystemExit(f"{POLYU} not found: the evaluation data lives in ../shared/data beside the repo")
    names = sorted(f.name for f in (POLYU / "noisy").iterdir())[::a.every]
    rows = ["noisy"] + a.methods
    tmp = Path(tempfile.mkdtemp())

    def one(name):
        clean = np.asarray(Image.open(POLYU / "clean" / name).convert("RGB")).astype(np.float64)
        noisy = np.asarray(Image.open(POLYU / "noisy" / name).convert("RGB")).astype(np.float64)
        result = {}
        aligned = shifted(clean, offset_from(noisy, clean)) if a.align else None
        for i, m in enumerate(rows):
            out = noisy if m == "noisy" else run(a.cli, m, POLYU / "noisy" / name, tmp / f"{name}.{i}.png", 1)
            out = out.astype(np.float64)
            result[m] = (band_energies(out - clean), psnr(out, clean), psnr(to8(blur(out, 0.5)), clean),
                         psnr(to8(out - (out - noisy).mean(axis=(0, 1))), clean),
                         psnr(out[8:-8, 8:-8], aligned[8:-8, 8:-8]) if a.align else np.nan)
        return result

    with ThreadPoolExecutor(a.jobs) as pool:
        results = list(pool.map(one, names))
    bands = ["0-1", "1-2", "2-4", "4-8", "8-32", ">32"]
    print(f"PolyU100, {len(names)} photos (every {a.every}th): mean square error per pixel and channel, "
          "luma / chroma, by band (pixels)")
    extra = " reference aligned (8-pixel margin) |" if a.align else ""
    print("| method | " + " | ".join(bands) + " | MSE | PSNR | blurred 0.5 | mean matched to the noisy |" + extra)
    print("|---|" + "---|" * (len(bands) + 4 + a.align))
    for m in rows:
        e = np.mean([r[m][0] for r in results], axis=0)
        cells = " | ".join(f"{lu:.2f} / {ch:.2f}" for lu, ch in e)
        ps = [np.mean([r[m][k] for r in results]) for k in (1, 2, 3, 4)]
        print(f"| {m} | {cells} | {e.sum():.2f} | " + " | ".join(f"{x:.2f}" for x in ps[:3 + a.align]) + " |")


if __name__ == "__main__":
    main()
