#!/usr/bin/env python3
"""Writes metrics.txt: image pairs with scikit-image's PSNR and SSIM, for the Swift metric tests.

    python3 Tests/Fixtures/metrics/make_fixtures.py

Each case is one header line `name width height channels psnr ssim`, then the reference and the
test image as lines of space-separated 8-bit samples (interleaved, row by row). SSIM is
structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=255), the mean over channels for colour.
"""
from pathlib import Path

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def case(rng, h, w, c, sigma):
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 80 * np.sin(x / 5.0) * np.cos(y / 7.0)
    ref = np.stack([base + 10 * k for k in range(c)], axis=-1) if c > 1 else base
    ref = np.clip(np.rint(ref + rng.normal(0, 5, ref.shape)), 0, 255).astype(np.uint8)
    test = np.clip(np.rint(ref + rng.normal(0, sigma, ref.shape)), 0, 255).astype(np.uint8)
    return ref, test


def main():
    rng = np.random.default_rng(2026)
    lines = []
    for name, h, w, c, sigma in [("gray-small", 11, 13, 1, 20), ("gray", 31, 24, 1, 8),
                                 ("rgb", 23, 37, 3, 15), ("rgb-heavy", 40, 33, 3, 60)]:
        ref, test = case(rng, h, w, c, sigma)
        psnr = peak_signal_noise_ratio(ref, test, data_range=255)
        ssim = structural_similarity(ref, test, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=255, channel_axis=-1 if c > 1 else None)
        lines.append(f"{name} {w} {h} {c} {psnr:.10f} {ssim:.10f}")
        lines.append(" ".join(map(str, ref.ravel())))
        lines.append(" ".join(map(str, test.ravel())))
    (Path(__file__).parent / "metrics.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
