"""Fixtures for the end-to-end tests: an installed prefix, GIMP, and images with known noise.

Tests/run.sh installs the project into a temporary prefix and GIMP folder and passes them in
DENOISE_PREFIX and GIMP2_DIRECTORY.
"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EVAL = Path(os.environ.get("DENOISE_DATA") or ROOT.parent / "shared" / "data") / "eval"


def pytest_sessionstart(session):
    if not (EVAL / "Kodak24").is_dir():
        pytest.exit(f"the evaluation images are missing (no {EVAL / 'Kodak24'}): put the project's shared/ "
                    "folder beside the repository or point DENOISE_DATA at its data/ folder", returncode=1)


@pytest.fixture(scope="session")
def prefix():
    p = os.environ.get("DENOISE_PREFIX")
    if not p:
        pytest.fail("DENOISE_PREFIX is not set: run the tests through Tests/run.sh")
    return Path(p)


@pytest.fixture(scope="session")
def cli(prefix):
    return str(prefix / "bin" / "denoise")


def noisy(clean, sigma, seed):
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(clean + sigma * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)


def psnr(a, b, peak=255.0):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return 10 * np.log10(peak ** 2 / mse)


def kodak(name="kodim03.png"):
    return np.asarray(Image.open(EVAL / "Kodak24" / name).convert("RGB")).astype(np.float64)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
