"""Camera-pipeline noise synthesis: what a camera does to sensor noise before the photo reaches us.

A clean sRGB crop is "unprocessed" to a raw-like linear signal (Brooks et al., "Unprocessing
Images for Learned Raw Denoising", CVPR 2019): inverse tone curve, inverse gamma, inverse colour
matrix, inverse white-balance and digital gains. It is mosaicked to a Bayer pattern, gets shot and
read noise (variance = shot * x + read, with log(read) linear in log(shot) as that paper measured
on real sensors), is demosaicked (bilinear, or Malvar-He-Cutler 2004), rendered back with the same
gains, matrix, gamma and tone curve, quantised to 8 bits and, usually, JPEG-compressed.

Demosaicing is linear, so it acts on signal and noise separately; the signal is kept at full
resolution (as a perfect demosaic would give it) and only the noise, drawn at the Bayer sites with
the variance of the mosaicked signal there, goes through the demosaic filter. The noise gets the
spatial and cross-channel correlation a camera gives it, without the colour artefacts that
demosaicing our already-detailed photos would add to both sides of a training pair. The clean
target is the crop itself (the same rendering without noise).

Optionally (`in_camera`), the camera's own processing then acts on the noise as it does in a
photo's rendering: chroma noise reduction (strong: blurred and attenuated), luma noise reduction
(mild: partly blurred) and luma sharpening (unsharp mask), in an opponent colour space. These are
linear stand-ins for the cameras' edge-preserving filters, applied to the noise alone: they leave
photo noise finer in luma and coarser and weaker in chroma than the demosaic alone does.

All randomness comes from the `rng` passed in, so a batch stays a pure function of (seed, step).
"""
import io
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from PIL import Image
from scipy.ndimage import convolve, gaussian_filter


@dataclass
class Rendering:
    """One camera's rendering: linear camera RGB -> sRGB-like output."""
    cam2rgb: np.ndarray      # 3 x 3, rows sum to 1 (white stays white)
    wb: np.ndarray           # white-balance gains (red, 1, blue)
    digital_gain: float
    gamma: float
    tone: float              # 0: no tone curve, 1: the full smoothstep S-curve


@dataclass
class Sensor:
    shot: float              # variance per unit of linear signal
    read: float              # variance at zero signal
    bayer: tuple             # (row, column) of the red sample in each 2x2 cell
    demosaic: str            # "bilinear" or "mhc"


def random_rendering(rng):
    # Camera colour is less saturated than sRGB: cam2rgb has a dominant diagonal and negative
    # off-diagonal terms, rows summing to 1.
    off = -rng.uniform(0.05, 0.6, (3, 3))
    np.fill_diagonal(off, 0)
    cam2rgb = off + np.diag(1 - off.sum(axis=1))
    return Rendering(cam2rgb=cam2rgb,
                     wb=np.array([rng.uniform(1.9, 2.4), 1.0, rng.uniform(1.5, 1.9)]),
                     digital_gain=float(max(0.5, rng.normal(1 / 0.8, 0.1))),
                     gamma=float(rng.uniform(2.0, 2.4)),
                     tone=float(rng.choice([0.0, rng.uniform(0.3, 1.0)])))


# Brooks et al.'s shot-noise range (1e-4 to 1.2e-2), extended down to the low-ISO end.
SHOT_RANGE = (3e-5, 1.2e-2)


def random_sensor(rng, shot_range=SHOT_RANGE):
    """Shot noise log-uniform over `shot_range`; read noise from Brooks et al.'s log-linear relation
    with its spread."""
    log_shot = rng.uniform(np.log(shot_range[0]), np.log(shot_range[1]))
    log_read = 2.18 * log_shot + 1.20 + rng.normal(0, 0.26)
    return Sensor(shot=float(np.exp(log_shot)), read=float(np.exp(log_read)),
                  bayer=(int(rng.integers(2)), int(rng.integers(2))),
                  demosaic=str(rng.choice(["bilinear", "mhc"])))


# ---- tone curve and gamma ----

def tone(x, t):
    return (1 - t) * x + t * (3 * x * x - 2 * x ** 3)


_GRID = np.linspace(0, 1, 4097)


def inverse_tone(y, t):
    # Monotone for t <= 1: invert by interpolation on a fine grid (exact to ~1e-6).
    return np.interp(y, tone(_GRID, t), _GRID) if t > 0 else y


def unprocess(srgb, r):
    """srgb: H x W x 3 in [0, 1] -> linear camera RGB (before white balance and gain)."""
    x = inverse_tone(np.clip(srgb, 0, 1), r.tone)
    x = x ** r.gamma
    x = x @ np.linalg.inv(r.cam2rgb).T
    return np.clip(x / (r.wb * r.digital_gain), 0, 1)


def process(cam, r):
    """The inverse of `unprocess`: linear camera RGB -> sRGB-like in [0, 1]."""
    x = np.clip(cam * (r.wb * r.digital_gain), 0, 1)
    x = np.clip(x @ r.cam2rgb.T, 0, 1)
    return tone(x ** (1 / r.gamma), r.tone)


# ---- Bayer mosaic and demosaicing ----

def bayer_masks(h, w, bayer):
    """Boolean masks (red, green, blue) of a Bayer pattern whose red sample is at `bayer`."""
    yy, xx = np.mgrid[0:h, 0:w]
    ry, rx = bayer
    red = (yy % 2 == ry) & (xx % 2 == rx)
    blue = (yy % 2 != ry) & (xx % 2 != rx)
    return red, ~(red | blue), blue


def mosaic(rgb, bayer):
    red, green, blue = bayer_masks(*rgb.shape[:2], bayer)
    return rgb[..., 0] * red + rgb[..., 1] * green + rgb[..., 2] * blue


def _conv(x, k):
    # 'mirror' reflects about the edge sample, which keeps the Bayer phase.
    return convolve(x, np.asarray(k, dtype=np.float64), mode="mirror")


def demosaic_bilinear(raw, bayer):
    red, green, blue = bayer_masks(*raw.shape, bayer)
    kg = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4
    krb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4
    return np.stack([_conv(raw * red, krb), _conv(raw * green, kg), _conv(raw * blue, krb)], axis=-1)


# Malvar, He & Cutler, "High-quality linear interpolation for demosaicing of Bayer-patterned color
# images" (ICASSP 2004): the published 5x5 filters, in eighths.
_G_AT_RB = np.array([[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]]) / 8
_C_AT_G_ROW = np.array([[0, 0, .5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, .5, 0, 0]]) / 8
_C_AT_G_COL = _C_AT_G_ROW.T
_C_AT_C = np.array([[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]]) / 8


def demosaic_mhc(raw, bayer):
    h, w = raw.shape
    red, green, blue = bayer_masks(h, w, bayer)
    yy = np.mgrid[0:h, 0:w][0]
    red_row = (yy % 2 == bayer[0])
    g = np.where(green, raw, _conv(raw, _G_AT_RB))
    at_row, at_col, at_opp = _conv(raw, _C_AT_G_ROW), _conv(raw, _C_AT_G_COL), _conv(raw, _C_AT_C)
    # Red at a green sample: the red neighbours are in its row on red rows, in its column elsewhere.
    r = np.where(red, raw, np.where(green, np.where(red_row, at_row, at_col), at_opp))
    b = np.where(blue, raw, np.where(green, np.where(red_row, at_col, at_row), at_opp))
    return np.stack([r, g, b], axis=-1)


def demosaic(raw, sensor):
    return (demosaic_mhc if sensor.demosaic == "mhc" else demosaic_bilinear)(raw, sensor.bayer)


# ---- in-camera noise reduction and sharpening ----

@dataclass
class InCamera:
    chroma_sigma: float      # Gaussian blur of the chroma noise, pixels (0: none)
    chroma_gain: float       # chroma noise kept after the blur
    luma_sigma: float        # Gaussian blur of the luma noise, pixels (0: none)
    luma_weight: float       # share of the blurred luma noise in the result
    sharpen_amount: float    # unsharp mask on luma: y + amount * (y - blur(y)) (0: none)
    sharpen_sigma: float
    chroma_keeps_rms: bool = False  # chroma_gain is a share of the RMS before the blur, not after
    # > 0: the reduction follows the image, as cameras' edge-aware filters do: full where the
    # rendered luma's gradient is well under this (0..1 units per pixel), fading where it is above,
    # so textured areas keep their noise. 0: the same everywhere.
    texture_scale: float = 0.0


class Profile(NamedTuple):
    """How `random_in_camera` draws a camera's noise reduction (ranges are uniform)."""
    luma_chance: float
    luma_sigma: tuple
    luma_weight: tuple
    chroma_sigma: tuple
    chroma_gain: tuple = (0.3, 1.0)
    chroma_keeps_rms: bool = False
    texture_scale: tuple = None  # log-uniform range of InCamera.texture_scale; None: uniform reduction


# Camera JPEGs' noise is far from pixel-independent. Luma: its neighbour-difference energy over
# twice its variance (1 for white noise) is 0.35 on PolyU100 photos (noisy minus reference), 0.75
# on "mild" pairs and 0.56 on "strong" ones, which reduce it more often, wider and heavier.
# Chroma: the share of its RMS a Gaussian blur of sigma 3 keeps is 0.68 on PolyU100 and 0.46 on
# "mild" pairs; "coarse" blurs the chroma noise more (sigma 1.5-5) and is otherwise "mild". A blur
# that wide leaves little of the demosaicked white noise (RMS under 1 of 255), while real photos
# keep blotchy chroma noise of RMS about 2 whose correlation at 1 and 3 pixels is 0.90 and 0.65
# (flat regions, median photo): "blotchy" brings the blurred chroma back to a share of the RMS it
# had (correlations 0.88 and 0.61 on 3x-zoomed training crops) and is otherwise "mild".
PROFILES = {"mild": Profile(0.6, (0.5, 1.2), (0.2, 0.8), (0.7, 2.5)),
            "strong": Profile(0.9, (0.7, 1.6), (0.5, 0.95), (0.7, 2.5)),
            "coarse": Profile(0.6, (0.5, 1.2), (0.2, 0.8), (1.5, 5.0)),
            "blotchy": Profile(0.6, (0.5, 1.2), (0.2, 0.8), (2.0, 6.0), (0.2, 0.7), True),
            # "coarse" made edge-aware and heavier in flat areas: flat regions come out nearly
            # clean and texture keeps its noise, as on the PolyU100 photos whose flat areas measure
            # a white-noise sigma of 0.01 while their noise RMS against the reference is 3-5.
            "adaptive": Profile(0.9, (0.7, 1.6), (0.6, 1.0), (1.5, 5.0), texture_scale=(0.01, 0.05))}


def random_in_camera(rng, profile="mild"):
    p = PROFILES[profile]
    chroma = rng.random() < 0.8
    luma = rng.random() < p.luma_chance
    sharpen = rng.random() < 0.5
    q = InCamera(chroma_sigma=float(rng.uniform(*p.chroma_sigma)) if chroma else 0.0,
                 chroma_gain=float(rng.uniform(*p.chroma_gain)) if chroma else 1.0,
                 luma_sigma=float(rng.uniform(*p.luma_sigma)) if luma else 0.0,
                 luma_weight=float(rng.uniform(*p.luma_weight)) if luma else 0.0,
                 sharpen_amount=float(rng.uniform(0.3, 1.2)) if sharpen else 0.0,
                 sharpen_sigma=float(rng.uniform(0.6, 1.5)),
                 chroma_keeps_rms=p.chroma_keeps_rms and chroma)
    if p.texture_scale:  # drawn last, so the other profiles' draws are unchanged
        q.texture_scale = float(np.exp(rng.uniform(*np.log(p.texture_scale))))
    return q


def to_opponent(d):
    """RGB -> (Y, R - G, B - G), Y the mean of the three; exact inverse in from_opponent."""
    return d.mean(axis=2), d[..., 0] - d[..., 1], d[..., 2] - d[..., 1]


def from_opponent(y, c1, c2):
    g = y - (c1 + c2) / 3
    return np.stack([c1 + g, g, c2 + g], axis=-1)


def _chroma_reduction(c, p):
    b = gaussian_filter(c, p.chroma_sigma, mode="reflect")
    if p.chroma_keeps_rms:
        b = b * np.sqrt(np.mean(c * c) / max(np.mean(b * b), 1e-20))
    return p.chroma_gain * b


def flatness(image, scale):
    """1 where `image`'s (H x W x 3, 0..1) smoothed luma gradient is well under `scale`, toward 0 above."""
    y = gaussian_filter(image.mean(axis=2), 1.0, mode="reflect")
    gy, gx = np.gradient(y)
    return 1 / (1 + (gx * gx + gy * gy) / (scale * scale))


def apply_in_camera(d, p, image=None):
    """The processing `p` on a noise field d (H x W x 3, sRGB units) over `image` (the rendered
    clean signal, needed when p.texture_scale > 0)."""
    y, c1, c2 = to_opponent(d)
    keep = 1 - flatness(image, p.texture_scale) if p.texture_scale > 0 else 0.0
    if p.chroma_sigma > 0:
        c1, c2 = (keep * c + (1 - keep) * _chroma_reduction(c, p) for c in (c1, c2))
    if p.luma_sigma > 0:
        weight = p.luma_weight * (1 - keep)
        y = (1 - weight) * y + weight * gaussian_filter(y, p.luma_sigma, mode="reflect")
    if p.sharpen_amount > 0:
        y = y + p.sharpen_amount * (y - gaussian_filter(y, p.sharpen_sigma, mode="reflect"))
    return from_opponent(y, c1, c2)


# ---- the whole pipeline ----

def jpeg(rgb8, quality, subsampling):
    buf = io.BytesIO()
    Image.fromarray(rgb8).save(buf, format="JPEG", quality=int(quality), subsampling=subsampling)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def to8(x):
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def noise_field(shape, rng, strength, scales=(4.0, 32.0)):
    """A smooth random gain (H x W, mean 1) for the noise: exp(s G - s^2 / 2), G a unit Gaussian field
    blurred at a log-uniform scale in `scales` pixels and s uniform in [0, strength]. Noise times it is
    a Gaussian scale mixture: heavier-tailed than the sensor's (kurtosis 3 exp(4 s^2) in place of 3),
    as camera JPEGs' noise is even in flat regions (luma kurtosis 4.7 and chroma 5.7 on PolyU100, noisy
    minus reference over the flattest 40%; 3.4 and 3.8 on `adaptive` pairs), where local tone mapping
    and locally adaptive noise reduction vary the noise level across the frame."""
    s = rng.uniform(0.0, strength)
    scale = float(np.exp(rng.uniform(*np.log(scales))))
    g = gaussian_filter(rng.standard_normal(shape), scale, mode="reflect")
    g /= max(g.std(), 1e-12)
    return np.exp(s * g - s * s / 2)


def camera_pair(clean, rng, jpeg_probability=0.8, noise_scale=1.0, in_camera=False, shot_range=SHOT_RANGE,
                reference_shots=0, field_strength=0.0):
    """clean: uint8 H x W x 3. Returns (noisy, target), both uint8 H x W x 3.

    `noise_scale` multiplies both variances (0: no noise, for tests); `in_camera` (True or "mild",
    or another name in PROFILES) adds the camera's noise reduction and sharpening (drawn after the
    rest, so the draws before it are those of a run without it); `shot_range` bounds the shot
    noise's log-uniform draw (the same draws whatever the bounds).

    The target is, with `reference_shots` 0, the noise-free rendering: `clean` up to the rendering's
    clipping of out-of-gamut colours (none on ordinary photos). With K > 0 it is the mean of K more
    shots of the same scene through the same camera (the same rendering, sensor, in-camera
    processing and JPEG settings; new noise), as real-noise sets (PolyU, SIDD, Nam) make their
    references. Gamma, tone curve, clipping and JPEG are not linear, so that mean is not the
    noise-free rendering: it is what such a reference holds. Its draws come after all the others.

    `field_strength` > 0 multiplies the rendered noise by a `noise_field` of that strength (the same
    for every shot of the scene), before the in-camera processing; drawn after the JPEG settings."""
    r, s = random_rendering(rng), random_sensor(rng, shot_range)
    cam = unprocess(clean.astype(np.float64) / 255, r)
    variance = noise_scale * (s.shot * mosaic(cam, s.bayer) + s.read)
    deviation = np.sqrt(np.maximum(variance, 0))
    first_noise = deviation * rng.standard_normal(variance.shape)
    rendered = process(cam, r)
    processing = None
    if in_camera:
        processing = random_in_camera(rng, in_camera if isinstance(in_camera, str) else "mild")
    compression = None
    if rng.random() < jpeg_probability:
        compression = (rng.integers(60, 101), int(rng.choice([0, 2, 2])))  # quality; 4:4:4 or 4:2:0
    field = noise_field(clean.shape[:2], rng, field_strength)[..., None] if field_strength > 0 else None

    def shot(noise):
        x = process(cam + demosaic(noise, s), r)
        if field is not None:
            x = rendered + field * (x - rendered)
        if processing:
            x = rendered + apply_in_camera(x - rendered, processing, rendered)
        x = to8(x)
        return jpeg(x, *compression) if compression else x

    noisy = shot(first_noise)
    if not reference_shots:
        return noisy, to8(rendered)
    shots = [shot(deviation * rng.standard_normal(variance.shape)) for _ in range(reference_shots)]
    return noisy, to8(np.mean(shots, axis=0) / 255)
