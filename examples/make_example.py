"""Draws the example image shipped with the repo (ours, no third-party pixels) and its noisy copy.

    python3 examples/make_example.py   # writes examples/clean.png and examples/noisy-sigma20.png
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

here = Path(__file__).resolve().parent
W, H = 480, 320
y, x = np.mgrid[0:H, 0:W] / np.array([H, W])[:, None, None]
sky = np.stack([90 + 80 * y, 140 + 70 * y, 220 - 40 * y], -1)
img = Image.fromarray(sky.astype(np.uint8))
d = ImageDraw.Draw(img)
d.ellipse((330, 40, 410, 120), fill=(250, 220, 120))
d.polygon([(0, 260), (120, 150), (230, 240), (330, 170), (480, 260), (480, 320), (0, 320)], fill=(70, 110, 60))
for i in range(12):
    d.rectangle((30 + 36 * i, 250 - 9 * (i % 4), 52 + 36 * i, 300), fill=(150 + 8 * i, 90, 60 + 10 * i), outline=(30, 30, 30))
d.text((20, 20), "Denoise", fill=(255, 255, 255))
clean = np.asarray(img.filter(ImageFilter.GaussianBlur(0.7))).astype(np.float64)
rng = np.random.default_rng(20)
stripes = 12 * np.sin(x * 90)[..., None] * (y > 0.85)[..., None]  # fine texture to keep
clean = np.clip(clean + stripes, 0, 255)
noisy = np.clip(np.rint(clean + 20 * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)
Image.fromarray(np.rint(clean).astype(np.uint8)).save(here / "clean.png")
Image.fromarray(noisy).save(here / "noisy-sigma20.png")
