"""The denoise command line on real files: formats, bit depths, alpha, and errors."""
import shutil
from pathlib import Path

import numpy as np
import png  # pypng: Pillow cannot write 16-bit gray+alpha
from PIL import Image

from conftest import ROOT, kodak, noisy, psnr, run


def test_dct_denoises_a_photo(cli, tmp_path):
    clean = kodak()
    src, dst = tmp_path / "noisy.png", tmp_path / "out.png"
    Image.fromarray(noisy(clean, 25, 1)).save(src)
    r = run([cli, "dct", str(src), str(dst), "--sigma", "25"])
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(dst))
    assert out.shape == clean.shape and out.dtype == np.uint8
    # The IPOL reference reaches 31.9 dB on this image at sigma 25 under the same protocol.
    assert psnr(out, clean) > 31.5


def test_16_bit_gray_with_alpha_keeps_depth_and_alpha(cli, tmp_path):
    clean = kodak().mean(axis=2)
    n = np.clip(np.rint((clean + 20 * np.random.default_rng(2).standard_normal(clean.shape)) * 257), 0, 65535)
    alpha = (np.arange(clean.size).reshape(clean.shape) % 65536).astype(np.uint16)
    src, dst = tmp_path / "la16.png", tmp_path / "out16.png"
    write_png16(src, np.dstack([n.astype(np.uint16), alpha]))
    r = run([cli, "dct", str(src), str(dst), "--sigma", "20", "--quiet"])
    assert r.returncode == 0, r.stderr
    out = read_png16(dst)
    assert out.shape == (*clean.shape, 2) and out.dtype == np.uint16
    assert np.array_equal(out[..., 1], alpha)
    assert psnr(out[..., 0] / 257.0, clean) > psnr(n / 257.0, clean) + 6


def test_jpeg_and_tiff(cli, tmp_path):
    clean = kodak()
    src = tmp_path / "noisy.jpg"
    Image.fromarray(noisy(clean, 15, 3)).save(src, quality=98)
    for name in ("out.tif", "out.jpg"):
        r = run([cli, "dct", str(src), str(tmp_path / name), "--sigma", "15", "--patch", "16", "--scales", "2"])
        assert r.returncode == 0, r.stderr
        assert np.asarray(Image.open(tmp_path / name)).shape == clean.shape


def test_errors_are_clear_and_nonzero(cli, tmp_path):
    r = run([cli, "dct", str(tmp_path / "missing.png"), str(tmp_path / "o.png"), "--sigma", "10"])
    assert r.returncode != 0 and "cannot open" in r.stderr
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    r = run([cli, "dct", str(tmp_path / "junk.png"), str(tmp_path / "o.png"), "--sigma", "10"])
    assert r.returncode != 0 and "not a PNG, JPEG or TIFF" in r.stderr
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "z.png")
    for bad in (["--sigma", "-3"], ["--sigma", "10", "--patch", "12"], ["--sigma", "10", "--scales", "9"], ["--sigma", "10", "--frobnicate"], ["--noise", "laplace"], ["--noise", "poisson", "--peak", "0"], ["--sigma", "loud"]):
        r = run([cli, "dct", str(tmp_path / "z.png"), str(tmp_path / "o.png"), *bad])
        assert r.returncode != 0 and r.stderr.strip(), bad
    r = run([cli, "dct", str(tmp_path / "z.png"), str(tmp_path / "o.webp"), "--sigma", "10"])
    assert r.returncode != 0 and "unknown output format" in r.stderr
    truncated = tmp_path / "cut.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 100).save(tmp_path / "full.png")
    truncated.write_bytes((tmp_path / "full.png").read_bytes()[:60])
    r = run([cli, "dct", str(truncated), str(tmp_path / "o.png"), "--sigma", "10"])
    assert r.returncode != 0 and "PNG" in r.stderr


def test_outputs_are_never_clobbered_or_half_written(cli, tmp_path):
    """An existing output is refused before any work unless --overwrite; a failed write leaves
    neither the output nor a temporary file; --quality sets the JPEG's (4:4:4 from 90)."""
    img = noisy(kodak()[:96, :128], 15, 6)
    src, dst = tmp_path / "in.png", tmp_path / "out.jpg"
    Image.fromarray(img).save(src)
    dst.write_bytes(b"precious")
    r = run([cli, "dct", str(src), str(dst), "--sigma", "15"])
    assert r.returncode != 0 and "--overwrite" in r.stderr and dst.read_bytes() == b"precious"
    sizes = {}
    for q in ("60", "95"):
        r = run([cli, "dct", str(src), str(dst), "--sigma", "15", "--overwrite", "--quality", q])
        assert r.returncode == 0, r.stderr
        sizes[q] = dst.stat().st_size
        with Image.open(dst) as j:
            assert j.size == (128, 96) and (j.layer[0][1:3] == (1, 1)) == (q == "95")  # luma sampling 1x1 = 4:4:4
    assert sizes["60"] < sizes["95"]
    r = run([cli, "dct", str(src), str(src), "--sigma", "15", "--overwrite"])  # in place, through the rename
    assert r.returncode == 0 and np.asarray(Image.open(src)).shape == img.shape
    r = run([cli, "dct", str(dst), str(tmp_path / "gray.jpg"), "--quality", "0"])
    assert r.returncode != 0 and "quality" in r.stderr
    rgba = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([img, np.full(img.shape[:2], 200, np.uint8)])).save(rgba)
    r = run([cli, "dct", str(rgba), str(tmp_path / "alpha.jpg"), "--sigma", "15"])  # JPEG holds no alpha
    assert r.returncode != 0 and "JPEG" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.jpg", "rgba.png"]


def test_batch_of_files_with_an_output_folder(cli, tmp_path):
    """Many inputs, one --output-dir: each written under its own name plus --suffix, the same
    result as one file at a time; a bad file is reported, the rest still done, exit non-zero."""
    clean = kodak()[:80, :96]
    inputs = []
    for i in range(3):
        p = tmp_path / f"shot{i}.png"
        Image.fromarray(noisy(clean, 10 + 5 * i, 20 + i)).save(p)
        inputs.append(p)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    out.mkdir()
    r = run([cli, "dct", *map(str, inputs), "--output-dir", str(out), "--suffix", "-dn", "--sigma", "12"])
    assert r.returncode == 0, r.stderr
    assert "3 of 3 files denoised" in r.stderr
    alone = tmp_path / "alone.png"
    assert run([cli, "dct", str(inputs[1]), str(alone), "--sigma", "12"]).returncode == 0
    assert np.array_equal(np.asarray(Image.open(out / "shot1-dn.png")), np.asarray(Image.open(alone)))
    r = run([cli, "dct", str(inputs[0]), str(tmp_path / "broken.png"), str(inputs[2]), "--output-dir", str(out),
             "--sigma", "12"])
    assert r.returncode != 0 and "broken.png" in r.stderr and "2 of 3 files denoised" in r.stderr
    assert (out / "shot0.png").exists() and (out / "shot2.png").exists() and not (out / "broken.png").exists()
    r = run([cli, "dct", str(inputs[0]), str(inputs[2]), "--output-dir", str(out), "--sigma", "12"])
    assert r.returncode != 0 and "--overwrite" in r.stderr  # refused before any work
    r = run([cli, "dct", *map(str, inputs)])
    assert r.returncode != 0 and "--output-dir" in r.stderr
    r = run([cli, "dct", *map(str, inputs), "--output-dir", str(tmp_path / "missing"), "--sigma", "12"])
    assert r.returncode != 0 and "is not a folder" in r.stderr
    r = run([cli, "dct", str(inputs[0]), "--output-dir", "/proc", "--sigma", "12"])  # nobody may create files there
    assert r.returncode != 0 and "cannot create a file beside /proc/shot0.png" in r.stderr
    r = run([cli, "dct", *map(str, inputs), "--output-dir", str(out), "--format", "tif", "--sigma", "12"])
    assert r.returncode == 0 and sorted(p.name for p in out.glob("*.tif")) == ["shot0.tif", "shot1.tif", "shot2.tif"]


def test_help(cli):
    r = run([cli, "dct", "--help"])
    assert r.returncode == 0 and "--sigma" in r.stdout and "--no-wiener" in r.stdout


def write_png16(path, arr):
    h, w, c = arr.shape
    with open(path, "wb") as f:
        png.Writer(w, h, greyscale=c < 3, alpha=c in (2, 4), bitdepth=16).write(f, arr.reshape(h, w * c).tolist())


def read_png16(path):
    w, h, rows, info = png.Reader(filename=str(path)).asDirect()
    assert info["bitdepth"] == 16
    return np.array([list(r) for r in rows], np.uint16).reshape(h, w, info["planes"])


def test_shipped_model_denoises_as_pytorch_does(cli, tmp_path):
    """The model install.sh ships, found with no --model, on the photo of the DCT test: PyTorch
    (Training/mprnet.py, the same weights) scores 33.79 dB there (the IPOL DCT 31.9); float32 must
    agree with it; bfloat16 and int8 (each float32 where the CPU lacks it) and the default, fast,
    within #17's 0.05 dB."""
    clean = kodak()
    src = tmp_path / "noisy.png"
    Image.fromarray(noisy(clean, 25, 1)).save(src)
    for precision, tolerance in (("float32", 0.01), ("bfloat16", 0.05), ("int8", 0.05), ("fast", 0.05)):
        dst = tmp_path / f"{precision}.png"
        r = run([cli, "mprnet", str(src), str(dst), "--precision", precision, "--quiet"], env={"PATH": "/usr/bin:/bin"})
        assert r.returncode == 0, r.stderr
        assert abs(psnr(np.asarray(Image.open(dst)), clean) - 33.79) < tolerance


def test_installed_cli_finds_its_model_when_run_from_path(prefix, tmp_path):
    """Run by bare name from PATH, from another folder, directly or through a symlink: the binary
    finds the model install.sh put in PREFIX/share (argv[0] alone says nothing of where it is)."""
    src = tmp_path / "in.png"
    Image.fromarray(noisy(kodak()[:64, :64], 20, 5)).save(src)
    links = tmp_path / "links"
    links.mkdir()
    (links / "dn").symlink_to(prefix / "bin" / "denoise")
    for name, path in (("denoise", prefix / "bin"), ("dn", links)):
        dst = tmp_path / f"{name}.png"
        r = run([name, "mprnet", str(src), str(dst), "--quiet"], cwd=tmp_path / "links",
                env={"PATH": f"{path}:/usr/bin:/bin", "HOME": str(tmp_path)})
        assert r.returncode == 0, r.stderr
        assert np.asarray(Image.open(dst)).shape == (64, 64, 3)


def test_forced_kernel_paths_agree(cli, tmp_path):
    """DENOISE_KERNELS forces a kernel path (to measure or test another CPU's): each one this CPU has
    gives float32's result to 8-bit rounding, for MPRNet and the DCT; one it lacks, or a bad name,
    is an error."""
    weights = ROOT / "Tests/Fixtures/mprnet/weights.safetensors"
    src = tmp_path / "in.png"
    Image.fromarray(noisy(kodak()[:72, :88], 20, 7)).save(src)
    base = tmp_path / "default.png"
    assert run([cli, "mprnet", str(src), str(base), "--model", str(weights), "--precision", "float32"]).returncode == 0
    ran = []
    for path in ("baseline", "avx2", "avx512", "amx"):
        dst = tmp_path / f"{path}.png"
        r = run([cli, "mprnet", str(src), str(dst), "--model", str(weights), "--precision", "float32"],
                env={"DENOISE_KERNELS": path, "PATH": "/usr/bin:/bin"})
        if r.returncode != 0:
            assert "lacks" in r.stderr, r.stderr
            continue
        ran.append(path)
        diff = np.abs(np.asarray(Image.open(dst)).astype(int) - np.asarray(Image.open(base)).astype(int))
        assert diff.max() <= 1, (path, diff.max())
    assert "baseline" in ran
    r = run([cli, "mprnet", str(src), str(tmp_path / "x.png"), "--model", str(weights)],
            env={"DENOISE_KERNELS": "sse9", "PATH": "/usr/bin:/bin"})
    assert r.returncode != 0 and "DENOISE_KERNELS=sse9" in r.stderr
    # The DCT's patch kernels too (baseline, and AVX2 + FMA for every wider path): the same photo
    # blind and at a fixed sigma, to 8-bit rounding.
    for args in ([], ["--sigma", "20"]):
        outs = {}
        for path in ran:
            dst = tmp_path / f"dct-{path}.png"
            r = run([cli, "dct", str(src), str(dst), "--overwrite", *args], env={"DENOISE_KERNELS": path, "PATH": "/usr/bin:/bin"})
            assert r.returncode == 0, r.stderr
            outs[path] = np.asarray(Image.open(dst)).astype(int)
        assert all(np.abs(o - outs["baseline"]).max() <= 1 for o in outs.values()), args
    r = run([cli, "dct", str(src), str(tmp_path / "y.png"), "--sigma", "20"], env={"DENOISE_KERNELS": "sse9", "PATH": "/usr/bin:/bin"})
    assert r.returncode != 0 and "DENOISE_KERNELS=sse9" in r.stderr, r.stderr


def test_kernels_command_reports_the_path_each_filter_takes(cli):
    """`denoise kernels` names the builds this CPU runs (as its /proc/cpuinfo flags say) and the one
    each filter takes: the widest float build unless DENOISE_KERNELS forces one, the DCT's AVX2 build
    for every path wider than baseline, AMX for bfloat16 only where the CPU has it, int8 on VNNI
    ("+vnni") of the float path's width (avx512 and amx: AVX-512 VNNI; avx2: AVX-VNNI or AVX-512
    VNNI's encoding of the 256-bit code), and fast the first of AMX, VNNI, float."""
    flags = set(next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")).split())
    # x86-64-v3 and v4, the levels the library checks, and AMX with its bfloat16 products.
    v3 = {"avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"} <= flags
    has = {"baseline": True, "avx2": v3, "avx512": v3 and {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= flags,
           "amx": {"amx_tile", "amx_bf16"} <= flags}
    vnni512 = has["avx512"] and "avx512_vnni" in flags
    vnni = {"baseline": False, "avx2": has["avx2"] and ("avx_vnni" in flags or vnni512),
            "avx512": vnni512, "amx": vnni512}

    def mprnet(got):
        return tuple(got[f"mprnet {p}"] for p in ("float32", "bfloat16", "int8", "fast"))

    def report(path):
        r = run([cli, "kernels"], env={"DENOISE_KERNELS": path, "PATH": "/usr/bin:/bin"})
        return r, dict(line.split(": ", 1) for line in r.stdout.splitlines()) if r.returncode == 0 else {}

    r, got = report("")
    assert r.returncode == 0, r.stderr
    assert got["supported"].split() == [p for p, ok in has.items() if ok]
    widest = "avx512" if has["avx512"] else "avx2" if has["avx2"] else "baseline"
    int8 = widest + "+vnni" if vnni[widest] else widest
    assert mprnet(got) == (widest, "amx" if has["amx"] else widest, int8, "amx" if has["amx"] else int8)
    assert got["dct"] == ("avx2" if has["avx2"] else "baseline")
    for path, ok in has.items():
        r, got = report(path)
        if not ok:
            assert r.returncode != 0 and f"DENOISE_KERNELS={path}: this CPU lacks it" in r.stderr, r.stderr
            continue
        float_build = widest if path == "amx" else path
        int8 = float_build + "+vnni" if vnni[path] else float_build
        bfloat16 = "amx" if path == "amx" else path
        assert mprnet(got) == (float_build, bfloat16, int8, "amx" if path == "amx" else int8)
        assert got["dct"] == ("baseline" if path == "baseline" else "avx2")
    r, _ = report("sse9")
    assert r.returncode != 0 and "DENOISE_KERNELS=sse9 is not one of" in r.stderr, r.stderr


def test_mprnet_with_fixture_weights(cli, tmp_path):
    """The network command end to end, on the parity fixture's (random) weights: it must run tiled
    and untiled, keep size and alpha, and write the optional residual and attention images."""
    weights = ROOT / "Tests/Fixtures/mprnet/weights.safetensors"
    img = np.dstack([noisy(kodak()[:150, :170], 20, 4), np.full((150, 170), 200, np.uint8)])
    src = tmp_path / "in.png"
    Image.fromarray(img).save(src)
    outs = {}
    for tile in ("0", "64"):
        dst = tmp_path / f"out{tile}.png"
        r = run([cli, "mprnet", str(src), str(dst), "--model", str(weights), "--tile", tile,
                 "--residual", str(tmp_path / f"res{tile}.png"), "--attention-map", str(tmp_path / f"att{tile}.png")])
        assert r.returncode == 0, r.stderr
        outs[tile] = np.asarray(Image.open(dst))
        assert outs[tile].shape == img.shape and np.array_equal(outs[tile][..., 3], img[..., 3])
    assert np.asarray(Image.open(tmp_path / "att0.png")).shape == (150, 170)
    assert np.asarray(Image.open(tmp_path / "res0.png")).shape == (150, 170, 3)
    # float32 and the default (bfloat16 on AMX, int8 on VNNI, where the CPU has them) agree to their rounding.
    exact = tmp_path / "exact.png"
    r = run([cli, "mprnet", str(src), str(exact), "--model", str(weights), "--tile", "0", "--precision", "float32"])
    assert r.returncode == 0, r.stderr
    diff = np.abs(np.asarray(Image.open(exact)).astype(int) - outs["0"].astype(int))
    assert diff.max() <= 3, diff.max()
    r = run([cli, "mprnet", str(src), str(exact), "--model", str(weights), "--precision", "half"])
    assert r.returncode != 0 and "precision" in r.stderr
    missing = str(tmp_path / "missing.safetensors")
    r = run([cli, "mprnet", str(src), str(tmp_path / "x.png")], env={"PATH": "/usr/bin:/bin", "DENOISE_MPRNET_MODEL": missing})
    assert r.returncode != 0 and "missing.safetensors" in r.stderr
    lone = tmp_path / "lone" / "denoise"  # a copy of the binary with no installed model near it
    lone.parent.mkdir()
    shutil.copy(cli, lone)
    r = run([str(lone), "mprnet", str(src), str(tmp_path / "x.png")], env={"PATH": "/usr/bin:/bin"})
    assert r.returncode != 0 and "no model" in r.stderr
    r = run([str(lone), "mprnet", str(src), str(tmp_path / "x.png"), "--model", "camera"], env={"PATH": "/usr/bin:/bin"})
    assert r.returncode != 0 and "camera model is not installed" in r.stderr
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(weights.read_bytes()[:5000])
    r = run([cli, "mprnet", str(src), str(tmp_path / "x.png"), "--model", str(bad)])
    assert r.returncode != 0 and "truncated" in r.stderr
