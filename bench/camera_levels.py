#!/usr/bin/env python3
"""What other noise levels would give the DCT's camera model, on real and on synthetic camera noise.

    python3 bench/camera_levels.py                    # PolyU100 even and odd photos, synthetic pairs
    python3 bench/camera_levels.py --sets synthetic-enlarged --zoom 4

For each image the camera model's levels are measured (`dn_measure_noise`) and handed back to the
denoiser rescaled by each rule below (`dn_dct_params.levels`); images the model does not take
(white noise, impulses) are left out. Sets: the even- and odd-numbered PolyU100 photos (real camera
JPEGs against their mean-of-shots references), and synthetic camera noise from `Training/camera_noise.py`
(in-camera profile `coarse`, or `--in-camera`; every 36th CBSD432 photo and every 7th SunHays80 one, and their
centres enlarged 2x (`--zoom`), references the noise-free rendering or a mean of shots
(`--reference-shots`); `synthetic-enlarged`: the enlarged centres alone, as smooth as a
full-resolution photo at 4x; training photos, so nothing here is an evaluation set). PSNR (peak 255) of the
8-bit results, means per set. One thread per image, two images at a time.
"""
import argparse
import ctypes as C
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DENOISE_LIB", str(ROOT / ".build" / "release" / "libdenoise.so"))
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "Training"))
import denoise  # noqa: E402
from denoise import _capi  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def white_law(levels, k, anchor):
    """k times white noise's halving per layer, at the level layer `anchor` implies."""
    halving = 2.0 ** np.arange(len(levels))[:, None]
    return k * (levels[anchor] * halving[anchor]) / halving


def fixed(sigma):
    return lambda levels: np.full_like(levels, sigma) / 2.0 ** np.arange(len(levels))[:, None]


RULES = {
    "as measured (default)": lambda levels: levels,
    "all x1.5 (--strength 1.5)": lambda levels: 1.5 * levels,
    "2x white law from layer 1": lambda levels: white_law(levels, 2.0, 1),
    "white sigma 14": fixed(14.0),
}


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def denoised(noisy, rule):
    """The camera model's result with its levels rescaled by `rule`; None if the image is not camera noise."""
    src, im = denoise._image(noisy)
    out, om = denoise._output(src)
    lv = _capi.NoiseLevels()
    denoise.LIB.dn_noise_levels_init(C.byref(lv))
    denoise._check(denoise.LIB.dn_measure_noise(C.byref(im), C.byref(lv)))
    if lv.model != _capi.NOISE["camera"]:
        return None
    levels = np.array([list(lv.camera[s])[:3] for s in range(lv.scales)], dtype=np.float64)
    for s, row in enumerate(rule(levels)):
        for c in range(3):
            lv.camera[s][c] = float(row[c])
    p = _capi.DCTParams()
    denoise.LIB.dn_dct_params_init(C.byref(p))
    p.threads, p.levels = 1, C.pointer(lv)
    denoise._check(denoise.LIB.dn_dct_denoise(C.byref(im), C.byref(om), C.byref(p)))
    return out


def polyu(parity):
    folder = DATA / "eval" / "PolyU100"
    names = sorted(p.name for p in (folder / "noisy").iterdir())[parity::2]
    for name in names:
        yield (np.asarray(Image.open(folder / "noisy" / name).convert("RGB")),
               np.asarray(Image.open(folder / "clean" / name).convert("RGB")))


def synthetic(zoom, enlarged_only, in_camera, reference_shots):
    import data
    files = (data.image_files(DATA / "train" / "CBSD432")[::36] + data.image_files(DATA / "train" / "SunHays80")[::7])
    pairs = data.camera_validation([data.read_rgb(f) for f in files], seed=11, in_camera=in_camera, zoom=zoom,
                                    reference_shots=reference_shots)
    yield from pairs[len(files):] if enlarged_only else pairs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sets", nargs="+", default=["polyu-even", "polyu-odd", "synthetic"],
                   choices=["polyu-even", "polyu-odd", "synthetic", "synthetic-enlarged"])
    p.add_argument("--zoom", type=float, default=2.0, help="enlargement of the synthetic pairs' centres")
    p.add_argument("--in-camera", default="coarse", help="the synthetic pairs' in-camera profile (camera_noise.PROFILES)")
    p.add_argument("--reference-shots", type=int, default=0,
                   help="the synthetic pairs' reference: the mean of this many shots (0: the noise-free rendering)")
    a = p.parse_args()
    sources = {"polyu-even": lambda: polyu(0), "polyu-odd": lambda: polyu(1),
               "synthetic": lambda: synthetic(a.zoom, False, a.in_camera, a.reference_shots),
               "synthetic-enlarged": lambda: synthetic(a.zoom, True, a.in_camera, a.reference_shots)}

    def score(pair):
        noisy, clean = pair
        outs = [denoised(noisy, rule) for rule in RULES.values()]
        return None if outs[0] is None else [psnr(o, clean) for o in outs]

    columns = {}
    for name in a.sets:
        with ThreadPoolExecutor(2) as pool:
            rows = [r for r in pool.map(score, sources[name]()) if r is not None]
        columns[name] = (len(rows), np.mean(rows, axis=0))
    print("| levels | " + " | ".join(f"{n} ({columns[n][0]})" for n in a.sets) + " |")
    print("|---|" + "---|" * len(a.sets))
    for i, rule in enumerate(RULES):
        print(f"| {rule} | " + " | ".join(f"{columns[n][1][i]:.2f}" for n in a.sets) + " |")


if __name__ == "__main__":
    main()
