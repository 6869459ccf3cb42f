"""The noise tools from the command line: estimate, add-noise, metrics, and dct's noise models."""
import json

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

from conftest import kodak, noisy, psnr, run


def test_estimate_json_and_auto_sigma(cli, tmp_path):
    clean = kodak()
    src = tmp_path / "noisy.png"
    Image.fromarray(noisy(clean, 30, seed=4)).save(src)
    r = run([cli, "estimate", str(src), "--json"])
    assert r.returncode == 0, r.stderr
    e = json.loads(r.stdout)
    assert abs(e["sigma"] - 30) < 1.0 and len(e["curve"]) >= 4 and not e["signal_dependent"]
    assert all(abs(p["sigma"] - 30) < 3 for p in e["curve"])
    # Without --sigma (or with --sigma auto) the estimate is used, and says so.
    r = run([cli, "dct", str(src), str(tmp_path / "auto.png")])
    assert r.returncode == 0 and "sigma" in r.stderr
    r = run([cli, "dct", str(src), str(tmp_path / "auto2.png"), "--sigma", "auto", "--quiet"])
    assert r.returncode == 0 and r.stderr == ""
    assert np.array_equal(np.asarray(Image.open(tmp_path / "auto.png")), np.asarray(Image.open(tmp_path / "auto2.png")))
    r2 = run([cli, "dct", str(src), str(tmp_path / "given.png"), "--sigma", str(e["sigma"]), "--quiet"])
    assert r2.returncode == 0
    auto = np.asarray(Image.open(tmp_path / "auto.png"))
    given = np.asarray(Image.open(tmp_path / "given.png"))  # sigma as printed, to 2 decimals
    assert abs(psnr(auto, clean) - psnr(given, clean)) < 0.01 and psnr(auto, clean) > 29.5
    r = run([cli, "estimate", str(tmp_path / "missing.png")])
    assert r.returncode != 0 and "cannot open" in r.stderr


def test_add_noise_then_metrics(cli, tmp_path):
    clean = kodak()
    Image.fromarray(clean.astype(np.uint8)).save(tmp_path / "clean.png")
    for opt, value in (("--gaussian", "20"), ("--poisson", "30"), ("--salt-pepper", "0.2")):
        out = tmp_path / f"n{opt}.png"
        r = run([cli, "add-noise", str(tmp_path / "clean.png"), str(out), opt, value, "--seed", "3"])
        assert r.returncode == 0, r.stderr
        n = np.asarray(Image.open(out)).astype(np.float64)
        if opt == "--gaussian":
            assert abs(np.std(n - clean) - 20) < 1.0
        if opt == "--salt-pepper":
            assert abs(np.mean(np.all(n != clean, axis=2) & np.all((n == 0) | (n == 255), axis=2)) - 0.2) < 0.02
        r = run([cli, "metrics", str(tmp_path / "clean.png"), str(out), "--json"])
        m = json.loads(r.stdout)
        assert abs(m["psnr"] - psnr(n, clean)) < 1e-6  # full precision, not 2 decimals
        ref = structural_similarity(clean.astype(np.uint8), n.astype(np.uint8), gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, data_range=255, channel_axis=-1)
        assert abs(m["ssim"] - ref) < 1e-4
    same = run([cli, "add-noise", str(tmp_path / "clean.png"), str(tmp_path / "again.png"), "--gaussian", "20", "--seed", "3"])
    assert same.returncode == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")), np.asarray(Image.open(tmp_path / "n--gaussian.png")))
    for bad in ([], ["--gaussian", "5", "--poisson", "3"], ["--poisson", "0"], ["--salt-pepper", "1.5"]):
        r = run([cli, "add-noise", str(tmp_path / "clean.png"), str(tmp_path / "x.png"), *bad])
        assert r.returncode != 0 and r.stderr.strip(), bad
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "small.png")
    r = run([cli, "metrics", str(tmp_path / "clean.png"), str(tmp_path / "small.png")])
    assert r.returncode != 0 and "differ" in r.stderr


def test_impulse_and_poisson_models(cli, tmp_path):
    clean = kodak()
    Image.fromarray(clean.astype(np.uint8)).save(tmp_path / "clean.png")
    run([cli, "add-noise", str(tmp_path / "clean.png"), str(tmp_path / "sp.png"), "--salt-pepper", "0.3"])
    sp = np.asarray(Image.open(tmp_path / "sp.png"))
    for noise in ("impulse", "auto"):
        r = run([cli, "dct", str(tmp_path / "sp.png"), str(tmp_path / f"{noise}.png"), "--noise", noise])
        assert r.returncode == 0, r.stderr
        out = np.asarray(Image.open(tmp_path / f"{noise}.png"))
        # OpenCV's 5x5 median gets about 25.6 dB on Kodak24 at 30%.
        assert psnr(out, clean) > 29, noise
        assert np.array_equal(out[(sp > 0) & (sp < 255)], sp[(sp > 0) & (sp < 255)])
    run([cli, "add-noise", str(tmp_path / "clean.png"), str(tmp_path / "p.png"), "--poisson", "30"])
    p = np.asarray(Image.open(tmp_path / "p.png"))
    r = run([cli, "dct", str(tmp_path / "p.png"), str(tmp_path / "out.png"), "--noise", "poisson", "--peak", "30"])
    assert r.returncode == 0, r.stderr
    assert psnr(np.asarray(Image.open(tmp_path / "out.png")), clean) > psnr(p, clean) + 8
