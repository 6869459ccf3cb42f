"""Training batches and the evaluation protocol of ../shared/data/README.md.

Every random draw of step k comes from `default_rng([seed, k])`, so a batch depends only on the seed
and the step number: a resumed run sees exactly the batches an uninterrupted one would.
"""
import os
from pathlib import Path

import numpy as np
from PIL import Image

import camera_noise

# ../shared/data beside the repository, or wherever DENOISE_DATA points.
SHARED = Path(os.environ.get("DENOISE_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
TRAIN_SETS = ("CBSD432", "SunHays80", "T91")
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def image_files(folder):
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_EXT)


def read_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def load_folders(folders, min_side):
    images = [read_rgb(p) for d in folders for p in image_files(d)]
    return [im for im in images if min(im.shape[:2]) >= min_side]


def synth_noise(clean, rng, max_sigma=55.0, poisson_fraction=0.2):
    """clean: uint8 H x W x 3. Gaussian sigma ~ U[0, max_sigma] (blind), or Poisson-Gaussian with
    peak ~ logU[2, 200] plus a small read noise; then rounding and clipping as in an 8-bit file."""
    x = clean.astype(np.float64)
    if rng.random() < poisson_fraction:
        peak = float(np.exp(rng.uniform(np.log(2.0), np.log(200.0))))
        x = rng.poisson(x / 255.0 * peak) / peak * 255.0
        x = x + rng.uniform(0, 10) * rng.standard_normal(x.shape)
    else:
        x = x + rng.uniform(0, max_sigma) * rng.standard_normal(x.shape)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def augment(patch, rng):
    k = int(rng.integers(8))
    patch = np.rot90(patch, k % 4)
    return patch[:, ::-1] if k >= 4 else patch


def luma(rgb):
    return np.rint(rgb @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)[..., None]


def zoomed_crop(im, rng, crop, max_zoom):
    """A crop x crop patch that shows a region 1 to `max_zoom` times smaller (log-uniform),
    enlarged with a bicubic filter. Full-resolution camera photos are smoother per pixel than the
    downscaled photos of the training sets (lens, anti-aliasing filter, demosaicing); a network
    that has seen only dense texture takes their fine noise for detail and keeps it."""
    zoom = float(np.exp(rng.uniform(0.0, np.log(max_zoom))))
    side = max(8, min(min(im.shape[:2]), int(round(crop / zoom))))
    y = int(rng.integers(im.shape[0] - side + 1))
    x = int(rng.integers(im.shape[1] - side + 1))
    patch = Image.fromarray(np.ascontiguousarray(im[y:y + side, x:x + side]))
    return np.asarray(patch.resize((crop, crop), Image.BICUBIC), dtype=np.uint8)


def batch(images, seed, step, size, crop, gray_fraction=0.0, camera_fraction=0.0, in_camera=False,
          camera_zoom=1.0, zoom_share=0.5, shot_range=camera_noise.SHOT_RANGE, reference_shots=0,
          field_strength=0.0):
    """Returns (noisy, clean) float32 arrays N x 3 x crop x crop in [0, 1]. A `camera_fraction` of
    the crops get camera-pipeline noise (`camera_noise`, whose target is the noise-free rendering or
    a mean of shots), the others white or Poisson-Gaussian noise (`synth_noise`); `in_camera` adds
    the cameras' noise reduction and sharpening to the camera-pipeline noise. With `camera_zoom` > 1
    a `zoom_share` of the camera crops are `zoomed_crop`s (the same draws whatever the share);
    `shot_range` bounds the camera crops' shot noise (`camera_noise.random_sensor`); `reference_shots`
    > 0 makes their target the mean of that many more shots and `field_strength` > 0 varies their
    noise level across the crop (`camera_noise.camera_pair`). A
    `gray_fraction` of the crops are gray, as the filters run gray images: three equal channels with
    one noise draw."""
    rng = np.random.default_rng([seed, step])
    clean, noisy = [], []
    for _ in range(size):
        im = images[int(rng.integers(len(images)))]
        y = int(rng.integers(im.shape[0] - crop + 1))
        x = int(rng.integers(im.shape[1] - crop + 1))
        c = np.ascontiguousarray(augment(im[y:y + crop, x:x + crop], rng))
        gray = bool(gray_fraction) and rng.random() < gray_fraction
        if camera_fraction and rng.random() < camera_fraction:
            if camera_zoom > 1 and rng.random() < zoom_share:
                c = augment(zoomed_crop(im, rng, crop, camera_zoom), rng)
            n, c = camera_noise.camera_pair(c, rng, in_camera=in_camera, shot_range=shot_range,
                                            reference_shots=reference_shots, field_strength=field_strength)
            if gray:
                n, c = luma(n), luma(c)
        elif gray:
            c = luma(c)
            n = synth_noise(c, rng)
        else:
            n = synth_noise(c, rng)
        clean.append(np.repeat(c, 3, axis=2) if gray else c)
        noisy.append(np.repeat(n, 3, axis=2) if gray else n)
    to = lambda a: np.stack(a).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return to(noisy), to(clean)


def camera_validation(images, seed=7, in_camera=False, zoom=1.0, reference_shots=0):
    """A fixed real-noise-like validation set: each image through the camera pipeline with its own
    seed (never PolyU100, which is the test). With `zoom` > 1 each image also comes enlarged that
    many times (its centre, bicubic, at its own size), as full-resolution photos look; targets as in
    `batch` for `reference_shots`."""
    if zoom > 1:
        images = list(images) + [enlarged_centre(im, zoom) for im in images]
    return [camera_noise.camera_pair(im, np.random.default_rng([seed, i]), in_camera=in_camera,
                                     reference_shots=reference_shots)
            for i, im in enumerate(images)]


def enlarged_centre(im, zoom):
    h, w = im.shape[:2]
    ch, cw = max(8, int(round(h / zoom))), max(8, int(round(w / zoom)))
    y, x = (h - ch) // 2, (w - cw) // 2
    centre = Image.fromarray(np.ascontiguousarray(im[y:y + ch, x:x + cw]))
    return np.asarray(centre.resize((w, h), Image.BICUBIC), dtype=np.uint8)


def protocol_noisy(clean, index, sigma):
    """The project's evaluation noise: round(clip(clean + sigma N(0,1))) with rng index*1000+sigma."""
    rng = np.random.default_rng(index * 1000 + sigma)
    n = rng.standard_normal(clean.shape)
    return np.clip(np.rint(clean.astype(np.float64) + sigma * n), 0, 255).astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
