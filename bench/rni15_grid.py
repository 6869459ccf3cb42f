#!/usr/bin/env python3
"""A picture grid of RNI15 (real noisy photos, no reference): crops at 1:1, one row per photo.

    python3 bench/rni15_grid.py                       # -> docs/rni15-grid.png
    python3 bench/rni15_grid.py --mprnet Training/models/mprnet-default.safetensors \
        Training/models/mprnet-camera-release.safetensors --mprnet-labels "MPRNet" "MPRNet camera"

Columns: the noisy photo; our DCT with no option (the noise measured from the photo); CBM3D (`bm3d`
package) at the sigma our white-noise estimator gives (what a white-noise pipeline would do);
optionally our MPRNet engine with each of the given weights. Each method runs on the whole photo (CBM3D on
a margin around the crop, for speed); the crop is the photo's centre.
"""
import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
RNI15 = ROOT.parent / "shared" / "data" / "eval" / "RNI15"


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def cli(args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    return r.stdout + r.stderr


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--mprnet", nargs="*", default=[], help="weights, one MPRNet column each")
    p.add_argument("--mprnet-labels", nargs="*", default=None, help="their column titles")
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    p.add_argument("--out", default=str(ROOT / "docs" / "rni15-grid.png"))
    a = p.parse_args()
    import bm3d

    files = sorted(f for f in RNI15.iterdir() if f.suffix.lower() in (".png", ".jpg"))
    labels = a.mprnet_labels or [f"MPRNet {Path(m).stem}" for m in a.mprnet]
    if len(labels) != len(a.mprnet):
        raise SystemExit("--mprnet-labels: one per --mprnet model")
    heads = ["noisy", "ours (DCT, blind)", "CBM3D, white-noise sigma"] + labels
    c, pad, label = a.crop, 4, 14
    grid = Image.new("RGB", (len(heads) * (c + pad) + pad, label + len(files) * (c + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for j, h in enumerate(heads):
        draw.text((pad + j * (c + pad), 1), h, fill=(0, 0, 0))
    tmp = Path(tempfile.mkdtemp())
    for i, f in enumerate(files):
        noisy = rgb(f)
        h, w = noisy.shape[:2]
        y0, x0 = max(0, (h - c) // 2), max(0, (w - c) // 2)
        crop = lambda im: im[y0:y0 + c, x0:x0 + c]
        src = tmp / "in.png"
        Image.fromarray(noisy).save(src)
        cli([a.cli, "dct", str(src), str(tmp / "dct.png"), "--overwrite", "--quiet"])
        sigma = json.loads(cli([a.cli, "estimate", str(src), "--json"]))["sigma"]
        m = 24  # context around the crop for CBM3D's block matching
        ys, xs = max(0, y0 - m), max(0, x0 - m)
        region = noisy[ys:y0 + c + m, xs:x0 + c + m].astype(np.float64) / 255
        cb = np.clip(np.rint(np.asarray(bm3d.bm3d_rgb(region, max(sigma, 0.5) / 255)) * 255), 0, 255).astype(np.uint8)
        cols = [crop(noisy), crop(rgb(tmp / "dct.png")), cb[y0 - ys:y0 - ys + c, x0 - xs:x0 - xs + c]]
        for model in a.mprnet:
            cli([a.cli, "mprnet", str(src), str(tmp / "net.png"), "--overwrite", "--model", model, "--quiet"])
            cols.append(crop(rgb(tmp / "net.png")))
        for j, im in enumerate(cols):
            grid.paste(Image.fromarray(np.ascontiguousarray(im)), (pad + j * (c + pad), label + pad + i * (c + pad)))
        print(f"{f.name}: white-noise sigma {sigma:.2f}", flush=True)
    grid.save(a.out, optimize=True)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
