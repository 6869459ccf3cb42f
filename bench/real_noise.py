#!/usr/bin/env python3
"""Real camera noise: PolyU100 (camera JPEGs at ISO 800-12800, reference = mean of many shots).

    python3 bench/real_noise.py                                   # ours blind, beside the noisy input
    python3 bench/real_noise.py --sweep 6 8 10 12 14 16 18        # + our DCT at fixed sigmas
    python3 bench/real_noise.py --cbm3d 14                        # + CBM3D at the white estimator's sigma and at 14
    python3 bench/real_noise.py --methods blind white --limit 20

PSNR (peak 255) of each method's 8-bit output against clean/; means over all images and per camera
(the file name's first field), with the levels our estimator reports. Methods: `blind` (the
`denoise dct IN OUT` default), `white` (the white-noise estimator's sigma, the old default),
`sigma=S` (fixed), `cbm3d-white` / `cbm3d=S` (the `bm3d` package, CBM3D, default profile).
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
POLYU = ROOT.parent / "shared" / "data" / "eval" / "PolyU100"


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def run_cli(cli, args):
    r = subprocess.run([cli] + args, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{' '.join(args)}: {r.stderr}")
    return r.stderr + r.stdout


def white_sigma(cli, path):
    out = run_cli(cli, ["estimate", str(path), "--json"])
    return float(re.search(r'"sigma": ([0-9.]+)', out).group(1))


def ours(cli, src, dst, extra):
    t = time.perf_counter()
    log = run_cli(cli, ["dct", str(src), str(dst), "--overwrite", "--threads", "1"] + extra)
    return np.asarray(Image.open(dst).convert("RGB")), time.perf_counter() - t, log.strip()


def cbm3d(noisy, sigma):
    import bm3d
    out = bm3d.bm3d_rgb(noisy.astype(np.float64) / 255, sigma / 255)
    return np.clip(np.rint(np.asarray(out) * 255), 0, 255).astype(np.uint8)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", default=["blind", "white"])
    p.add_argument("--sweep", type=float, nargs="*", default=[], help="fixed sigmas for our DCT")
    p.add_argument("--cbm3d", type=float, nargs="*", default=None,
                   help="run CBM3D at the white estimator's sigma and at these fixed sigmas")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--every", type=int, default=1, help="every k-th image (CBM3D takes ~20 s an image)")
    p.add_argument("--jobs", type=int, default=2, help="images in parallel (each our run uses one thread)")
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    p.add_argument("--per-image", action="store_true")
    a = p.parse_args()
    if not POLYU.is_dir():
        raise SystemExit(f"{POLYU} not found: the evaluation data lives in ../shared/data beside the repo")
    names = sorted(f.name for f in (POLYU / "noisy").iterdir())[::a.every][:a.limit]
    methods = list(a.methods) + [f"sigma={s:g}" for s in a.sweep]
    if a.cbm3d is not None:
        methods += ["cbm3d-white"] + [f"cbm3d={s:g}" for s in a.cbm3d]

    tmp = Path(tempfile.mkdtemp())
    scores = defaultdict(dict)
    seconds = defaultdict(float)
    levels = {}

    def one(name):
        noisy_path, clean = POLYU / "noisy" / name, np.asarray(Image.open(POLYU / "clean" / name).convert("RGB"))
        noisy = np.asarray(Image.open(noisy_path).convert("RGB"))
        scores["noisy"][name] = psnr(noisy, clean)
        ws = None
        for m in methods:
            dst = tmp / f"{name}.{m}.png"
            if m == "blind":
                out, s, log = ours(a.cli, noisy_path, dst, [])
                levels[name] = log.replace("noise: ", "")
            elif m == "white":
                ws = ws if ws is not None else white_sigma(a.cli, noisy_path)
                out, s, _ = ours(a.cli, noisy_path, dst, ["--noise", "gaussian", "--sigma", str(ws), "--quiet"])
            elif m.startswith("sigma="):
                out, s, _ = ours(a.cli, noisy_path, dst, ["--noise", "gaussian", "--sigma", m[6:], "--quiet"])
            elif m.startswith("cbm3d"):
                ws = ws if ws is not None else white_sigma(a.cli, noisy_path)
                t = time.perf_counter()
                out = cbm3d(noisy, ws if m == "cbm3d-white" else float(m[6:]))
                s = time.perf_counter() - t
            scores[m][name] = psnr(out, clean)
            seconds[m] += s

    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as pool:
        list(pool.map(one, names))
    cameras = sorted({n.split("_")[0] for n in names})
    cols = ["noisy"] + methods
    mp = sum(Image.open(POLYU / "noisy" / n).size[0] * Image.open(POLYU / "noisy" / n).size[1] for n in names) / 1e6
    print(f"PolyU100, {len(names)} images ({time.time() - t0:.0f} s)")
    print("| camera | images | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for cam in cameras + ["all"]:
        sel = [n for n in names if cam == "all" or n.split("_")[0] == cam]
        cells = [f"{np.mean([scores[c][n] for n in sel]):.2f}" for c in cols]
        print(f"| {'**all**' if cam == 'all' else cam} | {len(sel)} | " + " | ".join(cells) + " |")
    print("| s/MP (1 thread) | | | " + " | ".join(f"{seconds[m] / mp:.2f}" for m in methods) + " |")
    if a.per_image and levels:
        for n in names:
            print(f"{n}: noisy {scores['noisy'][n]:.2f} " + " ".join(f"{m} {scores[m][n]:.2f}" for m in methods)
                  + f"  [{levels.get(n, '')}]")
    elif levels:
        print("estimated levels (first images):")
        for n in names[:5]:
            print(f"  {n}: {levels[n]}")


if __name__ == "__main__":
    sys.exit(main())
