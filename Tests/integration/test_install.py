"""install.sh: a second run is harmless, --uninstall removes what it installed."""
import os

from conftest import ROOT, run


def test_install_twice_then_uninstall(tmp_path):
    prefix, gimp = tmp_path / "p", tmp_path / "gimp"
    env = dict(os.environ, GIMP2_DIRECTORY=str(gimp))
    for _ in range(2):
        r = run([str(ROOT / "install.sh"), "--prefix", str(prefix), "--no-deps", "--no-gimp"], env=env)
        assert r.returncode == 0, r.stderr
    files = ["lib/libdenoise.so", "lib/libdenoise.so.1", "include/denoise.h", "lib/pkgconfig/denoise.pc", "bin/denoise"]
    assert all((prefix / f).exists() for f in files)
    assert os.readlink(prefix / "lib/libdenoise.so") == "libdenoise.so.1"
    r = run([str(ROOT / "install.sh"), "--uninstall", "--prefix", str(prefix)], env=env)
    assert r.returncode == 0 and not any((prefix / f).exists() for f in files)
    r = run([str(ROOT / "install.sh"), "--bogus"], env=env)
    assert r.returncode == 2 and "unknown option" in r.stderr
