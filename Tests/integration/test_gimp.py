"""The plug-in inside the real GIMP 2.10: Script-Fu batch mode, and the dialog under Xvfb.

gimp-console exits 0 even when a batch command fails, so every test checks the output file and
the log. The plug-in was installed by install.sh into $GIMP2_DIRECTORY.
"""
import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import EVAL, ROOT, kodak, noisy, psnr, run

GIMP_DIR = os.environ.get("GIMP2_DIRECTORY", "")
PREFIX = Path(os.environ.get("DENOISE_PREFIX", ""))
pytestmark = pytest.mark.skipif(not GIMP_DIR or not shutil.which("gimp-console-2.10"),
                                reason="GIMP 2.10 or GIMP2_DIRECTORY missing")


def batch(script, tmp_path):
    job = f'(let* ({script}) (gimp-quit 0))'
    r = run(["gimp-console-2.10", "-i", "-d", "-f", "-b", job, "-b", "(gimp-quit 0)"],
            env=dict(os.environ, GIMP2_DIRECTORY=GIMP_DIR), cwd=tmp_path)
    return r.stdout + r.stderr


def load(path):
    return f'(image (car (gimp-file-load RUN-NONINTERACTIVE "{path}" "{path}"))) ' \
           f'(drawable (car (gimp-image-get-active-drawable image)))'


def save(path):
    return f'(saved (gimp-file-save RUN-NONINTERACTIVE image drawable "{path}" "{path}"))'


def test_procedure_is_registered(tmp_path):
    log = batch('(found (car (gimp-procedural-db-proc-exists "plug-in-denoise-dct"))) '
                '(shown (gimp-message (if (= found 1) "DENOISE-FOUND" "DENOISE-MISSING")))', tmp_path)
    assert "DENOISE-FOUND" in log, log


def test_batch_denoises_only_the_selection_and_keeps_alpha(tmp_path):
    clean = kodak()
    alpha = np.tile((np.arange(clean.shape[1]) % 200 + 50).astype(np.uint8), (clean.shape[0], 1))
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    noisy_rgb = noisy(clean, 25, 7)
    Image.fromarray(np.dstack([noisy_rgb, alpha])).save(src)
    x, y, w, h = 60, 40, 300, 220
    log = batch(f'{load(src)} '
                f'(sel (gimp-image-select-rectangle image CHANNEL-OP-REPLACE {x} {y} {w} {h})) '
                f'(ok (plug-in-denoise-dct RUN-NONINTERACTIVE image drawable 25.0 8 4)) {save(dst)}', tmp_path)
    assert dst.exists(), log
    out = np.asarray(Image.open(dst))
    inside = (slice(y, y + h), slice(x, x + w))
    before, after = psnr(noisy_rgb[inside], clean[inside]), psnr(out[inside][..., :3], clean[inside])
    assert after > before + 9, (before, after)
    outside = np.ones(alpha.shape, bool)
    outside[inside] = False
    assert np.array_equal(out[outside][:, :3], noisy_rgb[outside])
    assert np.array_equal(out[..., 3], alpha)


def test_batch_gray_16_bit_and_last_values(tmp_path):
    clean = kodak().mean(axis=2)
    src, dst = tmp_path / "gray.png", tmp_path / "gray-out.png"
    n = noisy(clean, 15, 8)
    Image.fromarray(n).save(src)
    # First call sets the values (sigma 15, patch 16, 2 scales); the second repeats them.
    log = batch(f'{load(src)} (p (gimp-image-convert-precision image PRECISION-U16-GAMMA)) '
                f'(a (plug-in-denoise-dct RUN-NONINTERACTIVE image drawable 15.0 16 2)) '
                f'(b (plug-in-denoise-dct RUN-WITH-LAST-VALS image drawable 0 0 0)) {save(dst)}', tmp_path)
    assert dst.exists(), log
    out = np.asarray(Image.open(dst)).astype(np.float64)
    if out.max() > 255:
        out = out / 257
    assert psnr(out, clean) > psnr(n, clean) + 5


def test_bad_parameters_fail_and_keep_the_image(tmp_path):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    n = noisy(kodak()[:64, :64], 10, 9)
    Image.fromarray(n).save(src)
    log = batch(f'{load(src)} (bad (catch "FAILED-AS-EXPECTED" '
                f'(plug-in-denoise-dct RUN-NONINTERACTIVE image drawable 10.0 12 4))) '
                f'(said (gimp-message (if (equal? bad "FAILED-AS-EXPECTED") "PLUGIN-FAILED" "PLUGIN-RAN"))) {save(dst)}',
                tmp_path)
    assert "PLUGIN-FAILED" in log and "patch size must be 8 or 16" in log, log
    assert np.array_equal(np.asarray(Image.open(dst)), n)


@pytest.mark.skipif(not shutil.which("Xvfb") or not shutil.which("xdotool"), reason="Xvfb/xdotool missing")
def test_dialog_opens_changes_a_value_and_applies(tmp_path):
    """Opens the real dialog in gimp-2.10 under Xvfb: it opens in automatic mode with what it
    measured; turning that off and typing a sigma of 30, then OK, applies 30."""
    clean = kodak()[:200, :200]
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    n = noisy(clean, 30, 10)
    Image.fromarray(n).save(src)
    job = f'{load(src)} (ok (plug-in-denoise-dct RUN-INTERACTIVE image drawable 5.0 8 4)) {save(dst)}'
    with gimp_dialog(tmp_path, job, "Denoise (DCT)", display=":97") as (win, env, gimp):
        if os.environ.get("DENOISE_UPDATE_SCREENSHOT"):  # refreshes docs/dialog-dct.png (ImageMagick)
            time.sleep(3)  # the preview renders
            subprocess.run(["import", "-window", win, str(ROOT / "docs" / "dialog-dct.png")], env=env, check=True)
        xdo = lambda *a: subprocess.run(["xdotool", *a], env=env, check=True)
        # No window manager runs under Xvfb: focus the dialog directly, then type as a user would.
        # Alt+A toggles "_Automatic" off; Alt+S (the "_Sigma" mnemonic) focuses the sigma entry;
        # Alt+O presses "_OK".
        xdo("windowfocus", "--sync", win)
        for keys in (["key", "alt+a"], ["sleep", "0.3"], ["key", "alt+s"], ["key", "ctrl+a"], ["type", "30"],
                     ["key", "Tab"], ["sleep", "0.5"], ["key", "alt+o"]):
            xdo(*keys)
        wait_for_result(dst, gimp)
        out = np.asarray(Image.open(dst))[..., :3]
        # Sigma 30 as typed, not the 5 that the call passed: the result is the CLI's at sigma 30.
        ref = {}
        for s in (5, 30):
            path = tmp_path / f"cli{s}.png"
            assert run([str(PREFIX / "bin" / "denoise"), "dct", str(src), str(path), "--sigma", str(s)]).returncode == 0
            ref[s] = np.abs(np.asarray(Image.open(path))[..., :3].astype(float) - out).mean()
        assert ref[30] < 0.2 < ref[5], ref
        assert psnr(out, clean) > psnr(n, clean) + 7


@contextlib.contextmanager
def gimp_dialog(tmp_path, job, title, display, **env_extra):
    """GIMP under Xvfb on `display` (its own copy of the GIMP folder) running the Script-Fu `job`
    (let* bindings) then quitting; yields the window titled `title`, the environment and GIMP's
    process; kills both at the end."""
    gimp_dir = tmp_path / "gimp-gui"
    shutil.copytree(GIMP_DIR, gimp_dir, ignore=shutil.ignore_patterns("backups", "sessionrc"))
    env = dict(os.environ, GIMP2_DIRECTORY=str(gimp_dir), DISPLAY=display, **env_extra)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x1024x24"], stderr=subprocess.DEVNULL)
    gimp = None
    try:
        time.sleep(1)
        gimp = subprocess.Popen(["gimp-2.10", "-n", "-d", "-f", "-s", "--no-splash", "-b", f"(let* ({job}) (gimp-quit 0))"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        win = wait_for_window("^" + title.replace("(", "\\(").replace(")", "\\)") + "$", env)
        assert win, "the dialog did not appear"
        yield win, env, gimp
    finally:
        if gimp and gimp.poll() is None:
            gimp.kill()
        xvfb.kill()


def wait_for_result(dst, gimp, seconds=60):
    for _ in range(seconds * 2):
        if dst.exists() and gimp.poll() is not None:
            break
        time.sleep(0.5)
    assert dst.exists(), "GIMP wrote no result"


def wait_for_window(name, env, seconds=60):
    for _ in range(seconds * 2):
        r = subprocess.run(["xdotool", "search", "--name", name], env=env, capture_output=True, text=True)
        ids = r.stdout.split()
        if ids:
            return ids[-1]
        time.sleep(0.5)
    return None


def test_mprnet_batch_runs_with_a_model_from_the_environment(tmp_path):
    """plug-in-denoise-mprnet in batch mode, on the parity fixture's (random) weights: the network's
    numbers are the Swift tests' business; here the selection, alpha and the error path are."""
    img = np.dstack([noisy(kodak()[:120, :140], 20, 11), np.full((120, 140), 180, np.uint8)])
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(img).save(src)
    script = (f'{load(src)} (sel (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 20 10 80 60)) '
              f'(ok (plug-in-denoise-mprnet RUN-NONINTERACTIVE image drawable)) {save(dst)}')
    env_model = ROOT / "Tests/Fixtures/mprnet/weights.safetensors"
    os.environ["DENOISE_MPRNET_MODEL"] = str(env_model)
    try:
        log = batch(script, tmp_path)
    finally:
        del os.environ["DENOISE_MPRNET_MODEL"]
    assert dst.exists(), log
    out = np.asarray(Image.open(dst))
    outside = np.ones((120, 140), bool)
    outside[10:70, 20:100] = False
    assert np.array_equal(out[outside], img[outside]) and np.array_equal(out[..., 3], img[..., 3])
    assert not np.array_equal(out[10:70, 20:100], img[10:70, 20:100])

    os.environ["DENOISE_MPRNET_MODEL"] = str(tmp_path / "missing.safetensors")
    try:
        log = batch(f'{load(src)} (r (catch "MPRNET-FAILED" (plug-in-denoise-mprnet RUN-NONINTERACTIVE image drawable))) '
                    f'(m (gimp-message (if (equal? r "MPRNET-FAILED") "MPRNET-FAILED" "MPRNET-RAN")))', tmp_path)
    finally:
        del os.environ["DENOISE_MPRNET_MODEL"]
    assert "MPRNET-FAILED" in log and "cannot open" in log, log


def test_automatic_procedure_on_a_camera_photo(tmp_path):
    """plug-in-denoise-dct-auto measures the camera noise of a real photo and removes it; strength
    scales it; sigma 0 in plug-in-denoise-dct is the same automatic model."""
    polyu = EVAL / "PolyU100"
    name = "Canon80D_8_8_12800_printer_16.JPG"
    src = tmp_path / "photo.png"
    Image.open(polyu / "noisy" / name).convert("RGB").save(src)
    clean = np.asarray(Image.open(polyu / "clean" / name).convert("RGB"))
    before = psnr(np.asarray(Image.open(src)), clean)
    outs = {}
    for tag, call in [("auto", "(plug-in-denoise-dct-auto RUN-NONINTERACTIVE image drawable 1.0)"),
                      ("strong", "(plug-in-denoise-dct-auto RUN-NONINTERACTIVE image drawable 2.0)"),
                      ("zero", "(plug-in-denoise-dct RUN-NONINTERACTIVE image drawable 0.0 8 4)")]:
        dst = tmp_path / f"{tag}.png"
        log = batch(f'{load(src)} (ok {call}) {save(dst)}', tmp_path)
        assert dst.exists(), log
        outs[tag] = np.asarray(Image.open(dst))[..., :3]
    assert psnr(outs["auto"], clean) > before + 2, (before, psnr(outs["auto"], clean))
    assert np.array_equal(outs["auto"], outs["zero"])
    assert not np.array_equal(outs["auto"], outs["strong"])


def test_estimate_and_noise_models_in_batch_mode(tmp_path):
    """plug-in-denoise-estimate returns the sigma; sigma 0 estimates it; the noise-model procedure
    restores salt and pepper."""
    clean = kodak()[:256, :256]
    src, auto_dst = tmp_path / "in.png", tmp_path / "auto.png"
    n = noisy(clean, 20, 12)
    Image.fromarray(n).save(src)
    log = batch(f'{load(src)} (sigma (car (plug-in-denoise-estimate RUN-NONINTERACTIVE image drawable))) '
                f'(shown (gimp-message (string-append "SIGMA=" (number->string sigma) ";"))) '
                f'(ok (plug-in-denoise-dct RUN-NONINTERACTIVE image drawable 0.0 8 4)) '
                f'(saved (gimp-file-save RUN-NONINTERACTIVE image drawable "{auto_dst}" "{auto_dst}"))', tmp_path)
    assert "SIGMA=" in log, log
    sigma = float(log.split("SIGMA=")[1].split(";")[0])
    assert abs(sigma - 20) < 1.5, sigma
    assert psnr(np.asarray(Image.open(auto_dst))[..., :3], clean) > psnr(n, clean) + 7

    sp = clean.astype(np.uint8).copy()
    hit = np.random.default_rng(3).random(sp.shape[:2]) < 0.2
    sp[hit] = np.where(np.random.default_rng(4).random(sp.shape[:2]) < 0.5, 0, 255)[hit][:, None]
    sp_src, sp_dst = tmp_path / "sp.png", tmp_path / "sp-out.png"
    Image.fromarray(sp).save(sp_src)
    log = batch(f'{load(sp_src)} (ok (plug-in-denoise-dct-noise RUN-NONINTERACTIVE image drawable 3 0.0 0.0 8 4)) '
                f'{save(sp_dst)}', tmp_path)
    assert sp_dst.exists(), log
    out = np.asarray(Image.open(sp_dst))[..., :3]
    assert psnr(out, clean) > 32 and np.array_equal(out[~hit], sp[~hit])


def test_failures_keep_the_image_and_gimp_up(tmp_path):
    """A crafted weights file (negative tensor offsets: once a crash of the plug-in's library) and
    an image whose working memory cannot be had (GIMP under a 4 GB address-space limit, a
    16384 x 8192 layer): the procedure fails with the library's message, the image is as it was,
    and GIMP runs the rest of the batch."""
    import struct
    img = noisy(kodak()[:64, :80], 20, 12)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(img).save(src)
    header = b'{"w":{"dtype":"F32","shape":[24,48,3,3],"data_offsets":[-100000000,-99958528]}}'
    crafted = tmp_path / "crafted.safetensors"
    crafted.write_bytes(struct.pack("<Q", len(header)) + header + bytes(41472))
    os.environ["DENOISE_MPRNET_MODEL"] = str(crafted)
    try:
        log = batch(f'{load(src)} (r (catch "MPRNET-FAILED" (plug-in-denoise-mprnet RUN-NONINTERACTIVE image drawable))) '
                    f'(m (gimp-message (if (equal? r "MPRNET-FAILED") "MPRNET-FAILED" "MPRNET-RAN"))) {save(dst)} '
                    f'(up (gimp-message "STILL-UP"))', tmp_path)
    finally:
        del os.environ["DENOISE_MPRNET_MODEL"]
    assert "MPRNET-FAILED" in log and "outside the data section" in log and "STILL-UP" in log, log
    assert np.array_equal(np.asarray(Image.open(dst)), img)

    import resource
    limit = 4 << 30
    job = ('(let* ((image (car (gimp-image-new 16384 8192 RGB))) '
           '(layer (car (gimp-layer-new image 16384 8192 RGB-IMAGE "big" 100 LAYER-MODE-NORMAL))) '
           '(added (gimp-image-insert-layer image layer 0 0)) '
           '(filled (gimp-drawable-fill layer FILL-WHITE)) '
           '(r (catch "DCT-FAILED" (plug-in-denoise-dct RUN-NONINTERACTIVE image layer 10.0 8 4))) '
           '(m (gimp-message (if (equal? r "DCT-FAILED") "DCT-FAILED" "DCT-RAN"))) '
           '(pixel (cadr (gimp-drawable-get-pixel layer 5000 4000))) '
           '(p (gimp-message (string-append "PIXEL " (number->string (vector-ref pixel 0)) " "'
           ' (number->string (vector-ref pixel 2)))))) (gimp-quit 0))')
    r = run(["gimp-console-2.10", "-i", "-d", "-f", "-b", job, "-b", "(gimp-quit 0)"],
            env=dict(os.environ, GIMP2_DIRECTORY=GIMP_DIR), cwd=tmp_path,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    log = r.stdout + r.stderr
    assert "DCT-FAILED" in log and "out of memory" in log and "PIXEL 255 255" in log, log


def test_mprnet_strength_in_batch_mode(tmp_path):
    """plug-in-denoise-mprnet-strength gives the CLI's result at that strength; out of range it
    fails with the library's message and the image stays as it was."""
    img = noisy(kodak()[:96, :128], 20, 12)
    src = tmp_path / "in.png"
    Image.fromarray(img).save(src)
    model = ROOT / "Tests/Fixtures/mprnet/weights.safetensors"
    os.environ["DENOISE_MPRNET_MODEL"] = str(model)
    try:
        outs = {}
        for s in (0.3, 1.0):
            dst = tmp_path / f"gimp{s}.png"
            log = batch(f'{load(src)} (ok (plug-in-denoise-mprnet-strength RUN-NONINTERACTIVE image drawable {s})) '
                        f'{save(dst)}', tmp_path)
            assert dst.exists(), log
            cli = tmp_path / f"cli{s}.png"
            assert run([str(PREFIX / "bin" / "denoise"), "mprnet", str(src), str(cli), "--model", str(model),
                        "--strength", str(s)]).returncode == 0
            outs[s] = np.asarray(Image.open(dst))[..., :3].astype(float)
            assert np.abs(outs[s] - np.asarray(Image.open(cli))[..., :3]).mean() < 0.2, s
        assert np.abs(outs[0.3] - outs[1.0]).mean() > 0.5  # the strength changed the result
        bad = tmp_path / "bad.png"
        log = batch(f'{load(src)} (r (catch "STRENGTH-FAILED" (plug-in-denoise-mprnet-strength RUN-NONINTERACTIVE '
                    f'image drawable 1.5))) (m (gimp-message (if (equal? r "STRENGTH-FAILED") "STRENGTH-FAILED" "RAN"))) '
                    f'{save(bad)}', tmp_path)
    finally:
        del os.environ["DENOISE_MPRNET_MODEL"]
    assert "STRENGTH-FAILED" in log and "strength must be 0-1" in log, log
    assert np.array_equal(np.asarray(Image.open(bad))[..., :3], img)


def test_mprnet_camera_model_in_batch_mode(tmp_path):
    """plug-in-denoise-mprnet-camera runs the installed camera model (here the environment's: the
    context-level parity fixture) and gives the CLI's `--model camera` result; with that model
    missing it fails with the library's message and the image stays as it was."""
    img = noisy(kodak()[:96, :128], 20, 14)
    src, dst, cli = tmp_path / "in.png", tmp_path / "gimp.png", tmp_path / "cli.png"
    Image.fromarray(img).save(src)
    os.environ["DENOISE_MPRNET_CAMERA_MODEL"] = str(ROOT / "Tests/Fixtures/mprnet-context/weights.safetensors")
    try:
        log = batch(f'{load(src)} (ok (plug-in-denoise-mprnet-camera RUN-NONINTERACTIVE image drawable 0.7)) {save(dst)}',
                    tmp_path)
        assert dst.exists(), log
        assert run([str(PREFIX / "bin" / "denoise"), "mprnet", str(src), str(cli), "--model", "camera",
                    "--strength", "0.7"]).returncode == 0
        out = np.asarray(Image.open(dst))[..., :3].astype(float)
        assert np.abs(out - np.asarray(Image.open(cli))[..., :3]).mean() < 0.2
        assert np.abs(out - img).mean() > 0.5
        os.environ["DENOISE_MPRNET_CAMERA_MODEL"] = str(tmp_path / "missing.safetensors")
        bad = tmp_path / "bad.png"
        log = batch(f'{load(src)} (r (catch "CAMERA-FAILED" (plug-in-denoise-mprnet-camera RUN-NONINTERACTIVE '
                    f'image drawable 1.0))) (m (gimp-message (if (equal? r "CAMERA-FAILED") "CAMERA-FAILED" "RAN"))) '
                    f'{save(bad)}', tmp_path)
    finally:
        del os.environ["DENOISE_MPRNET_CAMERA_MODEL"]
    assert "CAMERA-FAILED" in log and "cannot open" in log, log
    assert np.array_equal(np.asarray(Image.open(bad))[..., :3], img)


@pytest.mark.skipif(not shutil.which("Xvfb") or not shutil.which("xdotool"), reason="Xvfb/xdotool missing")
def test_mprnet_dialog_previews_and_applies_the_strength_typed(tmp_path):
    """Opens the real MPRNet dialog under Xvfb: it previews (on its worker thread) while a strength
    of 0.4 is typed, and OK applies 0.4, not the 1.0 the call passed."""
    img = noisy(kodak()[:160, :200], 20, 13)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(img).save(src)
    # The parity fixture's random weights are quick; the screenshot shows the shipped model.
    shot = os.environ.get("DENOISE_UPDATE_SCREENSHOT")
    model = ROOT / ("Training/models/mprnet-default.safetensors" if shot else "Tests/Fixtures/mprnet/weights.safetensors")
    typed = 0.8 if shot else 0.4
    job = f'{load(src)} (ok (plug-in-denoise-mprnet-strength RUN-INTERACTIVE image drawable 1.0)) {save(dst)}'
    with gimp_dialog(tmp_path, job, "Denoise (MPRNet)", display=":98", DENOISE_MPRNET_MODEL=str(model)) as (win, env, gimp):
        xdo = lambda *a: subprocess.run(["xdotool", *a], env=env, check=True)
        # Alt+T (the "S_trength" mnemonic) focuses the strength entry; typing restarts the preview.
        xdo("windowfocus", "--sync", win)
        for keys in (["key", "alt+t"], ["key", "ctrl+a"], ["type", str(typed)], ["key", "Tab"],
                     ["sleep", "8" if shot else "3"]):
            xdo(*keys)
        if shot:  # refreshes docs/dialog-mprnet.png (ImageMagick)
            subprocess.run(["import", "-window", win, str(ROOT / "docs" / "dialog-mprnet.png")], env=env, check=True)
        xdo("key", "alt+o")
        wait_for_result(dst, gimp)
        out = np.asarray(Image.open(dst))[..., :3].astype(float)
        ref = {}
        for s in (typed, 1.0):
            path = tmp_path / f"cli{s}.png"
            assert run([str(PREFIX / "bin" / "denoise"), "mprnet", str(src), str(path), "--model", str(model),
                        "--strength", str(s)]).returncode == 0
            ref[s] = np.abs(np.asarray(Image.open(path))[..., :3] - out).mean()
        assert ref[typed] < 0.2 < ref[1.0], ref
