#!/usr/bin/env python3
"""PSNR of the MPRNet filter in float32 and in a faster precision (bfloat16 on AMX, int8 on VNNI).

    python3 bench/mprnet_precision.py --model Training/models/mprnet-default.safetensors --precision int8 --sigmas 25
    python3 bench/mprnet_precision.py --model ... --precision int8 --set PolyU100 --every 4

Synthetic sets: round(clip(clean + sigma N(0,1))) as 8-bit PNG, numpy default_rng(index*1000+sigma)
per image in sorted order. PolyU100 (real camera noise): each noisy photo against its reference
(sigma does not apply; --every N takes every Nth). PSNR (peak 255) of each 8-bit output. Both
precisions run on the same files in the same run; a precision is worth using where the mean PSNR
stays within 0.05 dB of float32 (#17). Where the CPU lacks the precision's hardware it runs as
float32 and the change is 0 (`denoise kernels` says which path it takes).
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


def pairs(name, sigma, limit, every):
    """(noisy, clean) uint8 pairs: protocol noise on a synthetic set, or PolyU100's real pairs."""
    if name == "PolyU100":
        root = SHARED / name
        for path in sorted((root / "noisy").iterdir())[::every][:limit]:
            yield (np.asarray(Image.open(path).convert("RGB")), np.asarray(Image.open(root / "clean" / path.name).convert("RGB")))
        return
    for index, path in enumerate(sorted((SHARED / name).glob("*.png"))[:limit]):
        clean = np.asarray(Image.open(path).convert("RGB"))
        if index % every == 0:
            yield noisy_image(clean.astype(np.float64), index, sigma), clean


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--precision", default="bfloat16", choices=["bfloat16", "int8", "fast"])
    p.add_argument("--set", default="CBSD68")
    p.add_argument("--sigmas", type=int, nargs="+", default=[25])
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--every", type=int, default=1, help="every Nth image only")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    a = p.parse_args()

    paths = dict(l.split(": ", 1) for l in subprocess.run([a.cli, "kernels"], capture_output=True, text=True,
                                                          check=True).stdout.splitlines())
    other = a.precision
    print(f"{a.set}, mean PSNR (dB); kernels: float32 {paths['mprnet float32']}, {other} {paths['mprnet ' + other]}")
    print(f"{'sigma':>5} {'images':>6} {'float32':>9} {other:>9} {'change':>8} {'worst image':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for sigma in ([0] if a.set == "PolyU100" else a.sigmas):
            scores = {"float32": [], other: []}
            for noisy, clean in pairs(a.set, sigma, a.limit, a.every):
                src = os.path.join(tmp, "noisy.png")
                Image.fromarray(noisy).save(src)
                for precision, out in scores.items():
                    dst = os.path.join(tmp, f"{precision}.png")
                    subprocess.run([a.cli, "mprnet", src, dst, "--overwrite", "--model", a.model, "--threads", str(a.threads),
                                    "--precision", precision, "--quiet"], check=True)
                    out.append(psnr(np.asarray(Image.open(dst)), clean))
            f, b = np.array(scores["float32"]), np.array(scores[other])
            label = "real" if a.set == "PolyU100" else str(sigma)
            print(f"{label:>5} {len(f):>6} {f.mean():>9.3f} {b.mean():>9.3f} {b.mean() - f.mean():>+8.3f} "
                  f"{(b - f).min():>+12.3f}", flush=True)


if __name__ == "__main__":
    main()
