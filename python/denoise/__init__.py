"""Image denoising over libdenoise: the multi-scale DCT (Pierazzo, Morel & Facciolo, IPOL 2017)
and the MPRNet network (Zamir et al., CVPR 2021), on numpy arrays.

Images are uint8, uint16 or float32 (nominally 0..1) arrays, H x W or H x W x C with 1-4 channels
(gray, gray+alpha, RGB, RGBA; alpha is kept). Every function returns a new array of the input's
shape and dtype, or raises DenoiseError with the library's message. The GIL is released while the
library works.
"""
import ctypes as C
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from . import _capi
from ._capi import LIB

__all__ = ["DenoiseError", "dct", "mprnet", "load_model", "Model", "estimate_noise", "NoiseEstimate",
           "measure_noise", "psnr", "ssim", "parameter", "version"]

_TYPES = {np.dtype(np.uint8): _capi.DN_U8, np.dtype(np.uint16): _capi.DN_U16, np.dtype(np.float32): _capi.DN_F32}


class DenoiseError(RuntimeError):
    """A library call failed: `status` is its name (e.g. "DN_ERROR_INVALID_ARGUMENT")."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def version() -> str:
    return LIB.dn_version().decode()


def _check(status: int):
    if status != 0:
        raise DenoiseError(LIB.dn_status_name(status).decode(), LIB.dn_last_error().decode())


def _image(a: np.ndarray) -> Tuple[np.ndarray, _capi.Image]:
    """A C-contiguous array (copied only if needed) and its dn_image."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(a).__name__}")
    if a.dtype not in _TYPES:
        raise TypeError(f"dtype {a.dtype} is not uint8, uint16 or float32")
    if a.ndim not in (2, 3):
        raise ValueError(f"expected H x W or H x W x C, got shape {a.shape}")
    a = np.ascontiguousarray(a)
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    return a, _capi.Image(a.ctypes.data, w, h, channels, _TYPES[a.dtype], a.strides[0])


def _output(a: np.ndarray) -> Tuple[np.ndarray, _capi.Image]:
    out = np.empty_like(a)
    _, image = _image(out)
    return out, image


def _progress(fn: Optional[Callable[[float], bool]]):
    """The C callback for `fn` (or a null one), and a list that keeps the first exception it raised."""
    if fn is None:
        return _capi.PROGRESS(), []
    raised: List[BaseException] = []

    def call(fraction, _user):
        try:
            return 0 if fn(float(fraction)) is not False else 1
        except BaseException as e:  # cancel, and raise it in the caller's thread
            raised.append(e)
            return 1
    return _capi.PROGRESS(call), raised


def _run(status_of: Callable[[], int], raised: List[BaseException]):
    status = status_of()
    if raised:
        raise raised[0]
    _check(status)


def dct(image: np.ndarray, sigma: Optional[float] = None, *, noise: str = "auto", strength: float = 1.0,
        patch_size: int = 8, scales: int = 4, wiener: bool = True, poisson_peak: Optional[float] = None,
        threads: int = 0, progress: Optional[Callable[[float], bool]] = None) -> np.ndarray:
    """Multi-scale DCT denoising. By default the noise is measured from the image (camera noise at
    each scale and colour channel, or white, Poisson or salt-and-pepper noise); `sigma` alone is
    white Gaussian noise of that level on the 0..255 scale; `noise` forces a model ("camera",
    "gaussian", "poisson", "poisson-gaussian", "impulse"); `strength` (0.1-4) scales the levels."""
    if noise not in _capi.NOISE:
        raise ValueError(f"noise {noise!r} is not one of {', '.join(_capi.NOISE)}")
    src, im = _image(image)
    out, om = _output(src)
    p = _capi.DCTParams()
    LIB.dn_dct_params_init(C.byref(p))
    p.sigma = 0.0 if sigma is None else float(sigma)
    p.noise = _capi.NOISE[noise]
    p.strength, p.patch_size, p.scales, p.wiener = float(strength), int(patch_size), int(scales), int(bool(wiener))
    p.poisson_peak = 0.0 if poisson_peak is None else float(poisson_peak)
    p.threads = int(threads)
    callback, raised = _progress(progress)
    p.progress = callback
    _run(lambda: LIB.dn_dct_denoise(C.byref(im), C.byref(om), C.byref(p)), raised)
    return out


class Model:
    """MPRNet weights loaded once: a safetensors file, or `installed` by name ("default", "camera":
    fine-tuned on camera-pipeline noise, for photos straight from a camera); neither:
    $DENOISE_MPRNET_MODEL, else the installed default. Usable from many threads at once; freed
    with `close()` or on collection."""

    def __init__(self, path: Optional[str] = None, *, installed: Optional[str] = None):
        if path is not None and installed is not None:
            raise ValueError("give a path or an installed model's name, not both")
        handle = C.c_void_p()
        if installed is not None:
            _check(LIB.dn_mprnet_load_installed(str(installed).encode(), C.byref(handle)))
        else:
            _check(LIB.dn_mprnet_load(None if path is None else str(path).encode(), C.byref(handle)))
        self._handle = handle

    def close(self):
        if getattr(self, "_handle", None):
            LIB.dn_mprnet_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def load_model(path: Optional[str] = None, *, installed: Optional[str] = None) -> Model:
    return Model(path, installed=installed)


def mprnet(image: np.ndarray, *, model=None, strength: float = 1.0, tile: int = 512, threads: int = 0,
           precision: str = "fast", progress: Optional[Callable[[float], bool]] = None) -> np.ndarray:
    """Blind MPRNet denoising. `model` is a Model, a weights path, or None (the default model,
    loaded for this call). `strength` (0-1): below 1, 1 - strength of the luminance of the removed
    noise is put back. `precision`: "fast" (bfloat16 on AMX, else int8 on VNNI, where the CPU has
    them) or "float32"."""
    if precision not in _capi.PRECISION:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(_capi.PRECISION)}")
    net = model if isinstance(model, Model) else Model(model)
    src, im = _image(image)
    out, om = _output(src)
    p = _capi.MPRNetParams()
    LIB.dn_mprnet_params_init(C.byref(p))
    p.strength, p.tile, p.threads, p.precision = float(strength), int(tile), int(threads), _capi.PRECISION[precision]
    callback, raised = _progress(progress)
    p.progress = callback
    _run(lambda: LIB.dn_mprnet_denoise(net._handle, C.byref(im), C.byref(om), C.byref(p)), raised)
    return out


@dataclass
class NoiseEstimate:
    """The white-noise estimate: sigma on the 0..255 scale, the noise curve (intensity, sigma) from
    dark to bright, and its Poisson-Gaussian fit variance = gain * x + offset."""
    sigma: float
    gain: float
    offset: float
    signal_dependent: bool
    curve: List[Tuple[float, float]]


def estimate_noise(image: np.ndarray) -> NoiseEstimate:
    src, im = _image(image)
    e = _capi.NoiseEstimate()
    _check(LIB.dn_estimate_noise(C.byref(im), C.byref(e)))
    curve = [(e.curve_intensity[i], e.curve_sigma[i]) for i in range(e.curve_points)]
    return NoiseEstimate(e.sigma, e.gain, e.offset, bool(e.signal_dependent), curve)


def measure_noise(image: np.ndarray) -> dict:
    """The model `dct` picks by default and its levels: {"model": "camera", "levels": [[Y, U, V]
    per scale, finest first]}, {"model": "gaussian", "sigma": s}, {"model": "poisson-gaussian",
    "gain": g, "sigma": s} or {"model": "impulse"}."""
    src, im = _image(image)
    lv = _capi.NoiseLevels()
    LIB.dn_noise_levels_init(C.byref(lv))
    _check(LIB.dn_measure_noise(C.byref(im), C.byref(lv)))
    name = {v: k for k, v in _capi.NOISE.items()}[lv.model]
    if name == "camera":
        return {"model": name, "levels": [list(lv.camera[s])[:lv.channels] for s in range(lv.scales)]}
    if name == "poisson-gaussian":
        return {"model": name, "gain": lv.poisson_gain, "sigma": lv.sigma}
    return {"model": name, "sigma": lv.sigma} if name == "gaussian" else {"model": name}


def _compare(fn, reference: np.ndarray, test: np.ndarray) -> float:
    ra, ri = _image(reference)
    ta, ti = _image(test)
    v = C.c_double()
    _check(fn(C.byref(ri), C.byref(ti), C.byref(v)))
    return v.value


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB, peak 255 on the 0..255 scale (inf for identical images); alpha ignored."""
    return _compare(LIB.dn_psnr, reference, test)


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """SSIM (Wang et al. 2004), the mean over colour channels; at least 11 x 11 pixels."""
    return _compare(LIB.dn_ssim, reference, test)


def parameter(filter: str, name: str) -> dict:
    """A parameter's declaration in the library: {"description", "default", "minimum", "maximum",
    "integer", "choices", "extra"}; `filter` is "dct" or "mprnet"."""
    find = {"dct": LIB.dn_dct_parameter, "mprnet": LIB.dn_mprnet_parameter}.get(filter)
    if find is None:
        raise ValueError(f"filter {filter!r} is not dct or mprnet")
    ptr = find(name.encode())
    if not ptr:
        raise KeyError(f"{filter} has no parameter {name!r}")
    p = ptr.contents
    return {"description": p.description.decode(), "default": p.default_value, "minimum": p.minimum,
            "maximum": p.maximum, "integer": bool(p.is_integer),
            "choices": [p.choices[i] for i in range(p.choice_count)], "extra": [p.extra[i] for i in range(p.extra_count)]}
