"""The C declarations of CHeaders/denoise.h that the binding uses, and the library itself."""
import ctypes as C
import ctypes.util
import os
import shutil
from pathlib import Path

DN_U8, DN_U16, DN_F32 = 1, 2, 3
NOISE = {"gaussian": 0, "poisson": 1, "poisson-gaussian": 2, "impulse": 3, "auto": 4, "camera": 5}
PRECISION = {"fast": 0, "float32": 1}
MAX_SCALES, CURVE_POINTS = 6, 8

PROGRESS = C.CFUNCTYPE(C.c_int, C.c_float, C.c_void_p)


class Image(C.Structure):
    _fields_ = [("data", C.c_void_p), ("width", C.c_int32), ("height", C.c_int32), ("channels", C.c_int32),
                ("type", C.c_int), ("stride", C.c_size_t)]


class NoiseLevels(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("model", C.c_int), ("sigma", C.c_float), ("poisson_gain", C.c_float),
                ("channels", C.c_int32), ("scales", C.c_int32), ("camera", (C.c_float * 3) * MAX_SCALES)]


class DCTParams(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("sigma", C.c_float), ("patch_size", C.c_int32), ("scales", C.c_int32),
                ("wiener", C.c_int32), ("threads", C.c_int32), ("progress", PROGRESS), ("progress_user", C.c_void_p),
                ("noise", C.c_int), ("poisson_peak", C.c_float), ("strength", C.c_float),
                ("levels", C.POINTER(NoiseLevels))]


class NoiseEstimate(C.Structure):
    _fields_ = [("sigma", C.c_float), ("gain", C.c_float), ("offset", C.c_float), ("signal_dependent", C.c_int32),
                ("curve_points", C.c_int32), ("curve_intensity", C.c_float * CURVE_POINTS),
                ("curve_sigma", C.c_float * CURVE_POINTS)]


class MPRNetParams(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("tile", C.c_int32), ("threads", C.c_int32), ("progress", PROGRESS),
                ("progress_user", C.c_void_p), ("residual", C.POINTER(Image)), ("attention", C.POINTER(Image)),
                ("precision", C.c_int32), ("strength", C.c_float)]


class Parameter(C.Structure):
    _fields_ = [("name", C.c_char_p), ("description", C.c_char_p), ("default_value", C.c_double),
                ("minimum", C.c_double), ("maximum", C.c_double), ("is_integer", C.c_int32),
                ("choice_count", C.c_int32), ("choices", C.POINTER(C.c_double)),
                ("extra_count", C.c_int32), ("extra", C.POINTER(C.c_double))]


def _find_library():
    if os.environ.get("DENOISE_LIB"):
        return os.environ["DENOISE_LIB"]
    cli = shutil.which("denoise")
    if cli:
        beside = Path(cli).resolve().parent.parent / "lib" / "libdenoise.so"
        if beside.exists():
            return str(beside)
    found = ctypes.util.find_library("denoise")
    if found:
        return found
    raise OSError("libdenoise not found: set DENOISE_LIB to its path, or put the installed `denoise` "
                  "command (install.sh --prefix P puts it in P/bin, the library in P/lib) on PATH")


# CDLL releases the GIL around every call (PyDLL would not).
LIB = C.CDLL(_find_library())

_signatures = {
    "dn_last_error": (C.c_char_p, []),
    "dn_status_name": (C.c_char_p, [C.c_int]),
    "dn_version": (C.c_char_p, []),
    "dn_dct_params_init": (None, [C.POINTER(DCTParams)]),
    "dn_dct_denoise": (C.c_int, [C.POINTER(Image), C.POINTER(Image), C.POINTER(DCTParams)]),
    "dn_noise_levels_init": (None, [C.POINTER(NoiseLevels)]),
    "dn_measure_noise": (C.c_int, [C.POINTER(Image), C.POINTER(NoiseLevels)]),
    "dn_estimate_noise": (C.c_int, [C.POINTER(Image), C.POINTER(NoiseEstimate)]),
    "dn_psnr": (C.c_int, [C.POINTER(Image), C.POINTER(Image), C.POINTER(C.c_double)]),
    "dn_ssim": (C.c_int, [C.POINTER(Image), C.POINTER(Image), C.POINTER(C.c_double)]),
    "dn_mprnet_load": (C.c_int, [C.c_char_p, C.POINTER(C.c_void_p)]),
    "dn_mprnet_load_installed": (C.c_int, [C.c_char_p, C.POINTER(C.c_void_p)]),
    "dn_mprnet_free": (None, [C.c_void_p]),
    "dn_mprnet_params_init": (None, [C.POINTER(MPRNetParams)]),
    "dn_mprnet_denoise": (C.c_int, [C.c_void_p, C.POINTER(Image), C.POINTER(Image), C.POINTER(MPRNetParams)]),
    "dn_dct_parameter": (C.POINTER(Parameter), [C.c_char_p]),
    "dn_mprnet_parameter": (C.POINTER(Parameter), [C.c_char_p]),
}
for _name, (_res, _args) in _signatures.items():
    _fn = getattr(LIB, _name)
    _fn.restype, _fn.argtypes = _res, _args
