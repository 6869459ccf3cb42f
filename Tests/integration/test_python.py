"""The Python package (python/denoise) over the installed library: results equal to the CLI's,
dtypes and shapes, errors as exceptions, the GIL released, and `pip install ./python`."""
import importlib
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, kodak, noisy, psnr, run

WEIGHTS = ROOT / "Tests/Fixtures/mprnet/weights.safetensors"


@pytest.fixture(scope="module")
def dn(prefix):
    os.environ["DENOISE_LIB"] = str(prefix / "lib" / "libdenoise.so")
    sys.path.insert(0, str(ROOT / "python"))
    try:
        yield importlib.import_module("denoise")
    finally:
        sys.path.remove(str(ROOT / "python"))


def cli_result(cli, tmp_path, array, *args):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(array).save(src)
    assert run([cli, *args, str(src), str(dst), "--overwrite"]).returncode == 0
    return np.asarray(Image.open(dst))


def test_dct_equals_the_cli_blind_and_at_a_sigma(dn, cli, tmp_path):
    clean = kodak()[:128, :160]
    n = noisy(clean, 20, 21)
    blind = dn.dct(n)
    assert blind.shape == n.shape and blind.dtype == np.uint8
    assert np.array_equal(blind, cli_result(cli, tmp_path, n, "dct"))
    fixed = dn.dct(n, sigma=20)
    assert np.array_equal(fixed, cli_result(cli, tmp_path, n, "dct", "--sigma", "20"))
    assert psnr(fixed, clean) > psnr(n, clean) + 6
    clean8 = clean.astype(np.uint8)  # kodak() is whole numbers in float
    assert dn.psnr(clean8, fixed) == pytest.approx(psnr(fixed, clean), abs=1e-9)
    assert 0 < dn.ssim(clean8, n) < dn.ssim(clean8, fixed) < 1


def test_dtypes_shapes_and_channels(dn):
    clean = kodak()[:96, :96]
    n = noisy(clean, 15, 22)
    gray = n[..., 1]
    out = dn.dct(gray, sigma=15)
    assert out.shape == gray.shape and out.dtype == np.uint8
    # 16-bit and float: the same image at another scale gives the same result to rounding.
    out16 = dn.dct(n.astype(np.uint16) * 257, sigma=15)
    out32 = dn.dct(n.astype(np.float32) / 255, sigma=15)
    base = dn.dct(n, sigma=15).astype(float)
    assert out16.dtype == np.uint16 and np.abs(out16 / 257 - base).max() <= 1
    # Float is not clipped (nor is its noise, near white): compare away from the 8-bit limits.
    inside = (base > 8) & (base < 247)
    assert out32.dtype == np.float32 and np.abs(out32 * 255 - base)[inside].max() <= 1
    rgba = np.dstack([n, np.full(n.shape[:2], 77, np.uint8)])
    assert np.all(dn.dct(rgba, sigma=15)[..., 3] == 77)
    view = n[:, ::-1]  # not contiguous: copied on the way in
    assert np.array_equal(dn.dct(view, sigma=15), dn.dct(np.ascontiguousarray(view), sigma=15))
    with pytest.raises(TypeError, match="float64"):
        dn.dct(n.astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        dn.dct(np.zeros((2, 3, 4, 5), np.uint8))


def test_errors_carry_the_library_message(dn):
    n = noisy(kodak()[:64, :64], 10, 23)
    with pytest.raises(dn.DenoiseError, match="scales must be 1-6") as e:
        dn.dct(n, scales=9)
    assert e.value.status == "DN_ERROR_INVALID_ARGUMENT"
    with pytest.raises(dn.DenoiseError) as e:
        dn.dct(np.full((8, 8, 3), np.nan, np.float32), sigma=5)
    assert e.value.status == "DN_ERROR_NONFINITE"
    with pytest.raises(dn.DenoiseError, match="cannot open"):
        dn.load_model("/nonexistent.safetensors")
    with pytest.raises(ValueError):
        dn.dct(n, noise="pink")


def test_progress_reports_and_cancels(dn):
    n = noisy(kodak()[:128, :128], 20, 24)
    seen = []
    dn.dct(n, sigma=20, progress=lambda f: seen.append(f) is None)
    assert seen and seen[-1] == pytest.approx(1.0)
    with pytest.raises(dn.DenoiseError) as e:
        dn.dct(n, sigma=20, progress=lambda f: False)
    assert e.value.status == "DN_ERROR_CANCELLED"

    class Stop(Exception):
        pass

    def boom(f):
        raise Stop()
    with pytest.raises(Stop):  # the callback's own exception, in the caller's thread
        dn.dct(n, sigma=20, progress=boom)


def test_mprnet_equals_the_cli_and_strength(dn, cli, tmp_path):
    n = noisy(kodak()[:80, :96], 20, 25)
    with dn.load_model(str(WEIGHTS)) as model:
        out = dn.mprnet(n, model=model, precision="float32")
        weak = dn.mprnet(n, model=model, precision="float32", strength=0.5)
    assert np.array_equal(out, cli_result(cli, tmp_path, n, "mprnet", "--model", str(WEIGHTS), "--precision", "float32"))
    assert np.array_equal(weak, cli_result(cli, tmp_path, n, "mprnet", "--model", str(WEIGHTS), "--precision",
                                           "float32", "--strength", "0.5"))
    assert dn.mprnet(n, model=str(WEIGHTS)).shape == n.shape
    with pytest.raises(dn.DenoiseError, match="strength must be 0-1"):
        dn.mprnet(n, model=str(WEIGHTS), strength=2)


def test_installed_models_by_name(dn, cli, tmp_path, monkeypatch):
    """load_model(installed="camera") is the CLI's --model camera; an unknown name is the library's error."""
    n = noisy(kodak()[:64, :80], 20, 26)
    monkeypatch.setenv("DENOISE_MPRNET_CAMERA_MODEL", str(ROOT / "Tests/Fixtures/mprnet-context/weights.safetensors"))
    with dn.load_model(installed="camera") as model:
        out = dn.mprnet(n, model=model, precision="float32")
    assert np.array_equal(out, cli_result(cli, tmp_path, n, "mprnet", "--model", "camera", "--precision", "float32"))
    with pytest.raises(dn.DenoiseError, match='no model named "film"'):
        dn.load_model(installed="film")
    with pytest.raises(ValueError):
        dn.load_model(str(WEIGHTS), installed="camera")


def test_estimates_and_declarations(dn):
    clean = kodak()[:256, :256]
    e = dn.estimate_noise(noisy(clean, 20, 26))
    assert abs(e.sigma - 20) < 1.5 and not e.signal_dependent and e.curve
    m = dn.measure_noise(noisy(clean, 20, 26))
    assert m["model"] == "gaussian" and abs(m["sigma"] - 20) < 1.5
    scales = dn.parameter("dct", "scales")
    assert (scales["default"], scales["minimum"], scales["maximum"], scales["integer"]) == (4, 1, 6, True)
    assert dn.parameter("dct", "patch_size")["choices"] == [8, 16]
    assert dn.parameter("mprnet", "tile")["extra"] == [0]
    with pytest.raises(KeyError):
        dn.parameter("dct", "nope")


def test_the_gil_is_released_during_a_call(dn):
    """A long call on one thread: the main thread keeps running Python meanwhile."""
    big = noisy(np.tile(kodak(), (2, 2, 1)), 20, 27)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (dn.dct(big, sigma=20, threads=1), done.set()))
    worker.start()
    time.sleep(0.05)
    ticks, t0 = 0, time.perf_counter()
    while not done.is_set() and time.perf_counter() - t0 < 0.5:
        ticks += 1
    busy = not done.is_set()
    worker.join()
    assert busy, "the call ended before it could be observed"
    assert ticks > 10000, f"the main thread ran {ticks} loop turns in 0.5 s beside the call"


def test_pip_installs_the_package(prefix, tmp_path):
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if pip.returncode:
        pytest.skip("pip is not installed for this python")
    target = tmp_path / "site"
    r = run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
             str(target), str(ROOT / "python")])
    assert r.returncode == 0, r.stdout + r.stderr
    code = "import denoise, numpy as np; print(denoise.version(), denoise.dct(np.zeros((16, 16), np.uint8)).sum())"
    r = run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(target),
                                                   DENOISE_LIB=str(prefix / "lib" / "libdenoise.so")))
    assert r.returncode == 0 and r.stdout.split() == [r.stdout.split()[0], "0"], r.stdout + r.stderr
