"""install.sh: a second run is harmless, --uninstall removes what it installed."""
import os

import numpy as np
from PIL import Image

from conftest import ROOT, run


def test_install_twice_then_uninstall(tmp_path):
    prefix, gimp = tmp_path / "p", tmp_path / "gimp"
    env = dict(os.environ, GIMP2_DIRECTORY=str(gimp))
    for _ in range(2):
        r = run([str(ROOT / "install.sh"), "--prefix", str(prefix), "--no-deps", "--no-gimp"], env=env)
        assert r.returncode == 0, r.stderr
    files = ["lib/libdenoise.so", "lib/libdenoise.so.1", "include/denoise.h", "lib/pkgconfig/denoise.pc", "bin/denoise",
             "share/denoise/mprnet.safetensors", "share/denoise/mprnet-camera.safetensors"]
    assert all((prefix / f).exists() for f in files)
    assert os.readlink(prefix / "lib/libdenoise.so") == "libdenoise.so.1"
    # The installed models by name, found from the installed binary alone.
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(tmp_path / "in.png")
    clean_env = {"PATH": "/usr/bin:/bin"}
    outs = {}
    for name in ("default", "camera"):
        r = run([str(prefix / "bin/denoise"), "mprnet", str(tmp_path / "in.png"), str(tmp_path / f"{name}.png"),
                 "--model", name, "--precision", "float32", "--quiet"], env=clean_env)
        assert r.returncode == 0, r.stderr
        outs[name] = np.asarray(Image.open(tmp_path / f"{name}.png"), dtype=np.int16)
    assert np.abs(outs["default"] - outs["camera"]).max() > 0  # two different networks
    r = run([str(ROOT / "install.sh"), "--uninstall", "--prefix", str(prefix)], env=env)
    assert r.returncode == 0 and not any((prefix / f).exists() for f in files)
    r = run([str(ROOT / "install.sh"), "--bogus"], env=env)
    assert r.returncode == 2 and "unknown option" in r.stderr
