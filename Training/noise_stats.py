"""How real camera noise and the synthesis's compare: amplitude and spatial correlation of the luma
and chroma noise in flat regions.

    python noise_stats.py PolyU100             # noisy minus reference of a real-noise set
    python noise_stats.py mild coarse blotchy  # camera_noise profiles on 3x-zoomed training crops

Noise is noisy minus reference with its slow part (a Gaussian blur of sigma 12: exposure and
alignment differences) removed, in opponent channels (camera_noise.to_opponent), over the 40% of
pixels with the least gradient in the reference; figures are medians over the photos. "corr k":
correlation between pixels k apart (0 for white noise); "keeps": the share of the RMS a Gaussian
blur keeps.
"""
import argparse

import numpy as np
from scipy.ndimage import gaussian_filter, gaussian_gradient_magnitude

import camera_noise
import data


def statistics(noisy, clean):
    d = noisy.astype(np.float64) - clean.astype(np.float64)
    d -= gaussian_filter(d, (12, 12, 0))
    y, c1, c2 = camera_noise.to_opponent(d)
    g = gaussian_gradient_magnitude(clean.astype(np.float64).mean(axis=2), 2.0)
    m = (g < np.percentile(g, 40)).astype(np.float64)

    def mean(a, w):
        return (a * w).sum() / w.sum()

    def rms(a):
        return np.sqrt(mean(a * a, m))

    def corr(a, k):
        h = mean(a[:, k:] * a[:, :-k], m[:, k:])
        v = mean(a[k:] * a[:-k], m[k:])
        return (h + v) / 2 / rms(a) ** 2

    def keeps(a, sigma):
        return rms(gaussian_filter(a, sigma)) / rms(a)

    return {"luma RMS": rms(y), "luma corr 1": corr(y, 1), "luma corr 2": corr(y, 2), "luma keeps (1.5)": keeps(y, 1.5),
            "chroma RMS": np.sqrt((rms(c1) ** 2 + rms(c2) ** 2) / 2), "chroma corr 1": corr(c1, 1),
            "chroma corr 3": corr(c1, 3), "chroma keeps (3)": keeps(c1, 3)}


def show(name, rows):
    print(f"{name:10s}" + "  ".join(f"{k} {np.median([r[k] for r in rows]):.2f}" for k in rows[0]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sources", nargs="+", help="a real-noise set under eval/ with noisy/ and clean/, or camera_noise profiles")
    p.add_argument("--photos", type=int, default=40, help="training photos for the profiles")
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--zoom", type=float, default=3.0)
    a = p.parse_args()
    for source in a.sources:
        if source in camera_noise.PROFILES:
            rng = np.random.default_rng(3)
            files = data.image_files(data.SHARED / "train" / "CBSD432")[:a.photos]
            rows = []
            for f in files:
                crop = data.zoomed_crop(data.read_rgb(f), rng, a.crop, a.zoom)
                rows.append(statistics(*camera_noise.camera_pair(crop, rng, in_camera=source)))
        else:
            root = data.SHARED / "eval" / source
            rows = [statistics(data.read_rgb(f),
                               data.read_rgb(root / "clean" / f.name))
                    for f in data.image_files(root / "noisy")]
        show(source, rows)


if __name__ == "__main__":
    main()
