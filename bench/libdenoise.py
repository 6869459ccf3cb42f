"""ctypes access to libdenoise for the benchmarks: numpy arrays in, numpy arrays out."""
import ctypes as C
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LIB = C.CDLL(os.environ.get("DENOISE_LIB", str(ROOT / ".build" / "release" / "libdenoise.so")))

U8, U16, F32 = 1, 2, 3
GAUSSIAN, POISSON, POISSON_GAUSSIAN, IMPULSE, AUTO = range(5)


class Image(C.Structure):
    _fields_ = [("data", C.c_void_p), ("width", C.c_int32), ("height", C.c_int32), ("channels", C.c_int32),
                ("type", C.c_int), ("stride", C.c_size_t)]


class DCTParams(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("sigma", C.c_float), ("patch_size", C.c_int32), ("scales", C.c_int32),
                ("wiener", C.c_int32), ("threads", C.c_int32), ("progress", C.c_void_p), ("progress_user", C.c_void_p),
                ("noise", C.c_int), ("poisson_peak", C.c_float),
                # 0.3: dn_dct_params_init writes the whole struct, so it must all be declared here.
                ("strength", C.c_float), ("levels", C.c_void_p)]


class NoiseEstimate(C.Structure):
    _fields_ = [("sigma", C.c_float), ("gain", C.c_float), ("offset", C.c_float), ("signal_dependent", C.c_int32),
                ("curve_points", C.c_int32), ("curve_intensity", C.c_float * 8), ("curve_sigma", C.c_float * 8)]


LIB.dn_last_error.restype = C.c_char_p


def _image(a):
    a = np.ascontiguousarray(a)
    h, w = a.shape[:2]
    ch = 1 if a.ndim == 2 else a.shape[2]
    t = {np.uint8: U8, np.uint16: U16, np.float32: F32}[a.dtype.type]
    return a, Image(a.ctypes.data, w, h, ch, t, a.strides[0])


def _check(status):
    if status != 0:
        raise RuntimeError(LIB.dn_last_error().decode())


def dct(a, sigma=0.0, noise=GAUSSIAN, peak=0.0, threads=0):
    """Denoised copy of `a` (uint8, uint16 or float32 in 0..1; H x W or H x W x C)."""
    src, im = _image(a)
    out = np.empty_like(src)
    _, om = _image(out)
    om.data = out.ctypes.data
    p = DCTParams()
    LIB.dn_dct_params_init(C.byref(p))
    p.sigma, p.noise, p.poisson_peak, p.threads = sigma, noise, peak, threads
    _check(LIB.dn_dct_denoise(C.byref(im), C.byref(om), C.byref(p)))
    return out


def estimate(a):
    src, im = _image(a)
    e = NoiseEstimate()
    _check(LIB.dn_estimate_noise(C.byref(im), C.byref(e)))
    return e


def metrics(reference, test):
    ra, ri = _image(reference)
    ta, ti = _image(test)
    psnr, ssim = C.c_double(), C.c_double()
    _check(LIB.dn_psnr(C.byref(ri), C.byref(ti), C.byref(psnr)))
    _check(LIB.dn_ssim(C.byref(ri), C.byref(ti), C.byref(ssim)))
    return psnr.value, ssim.value
