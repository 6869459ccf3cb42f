"""Training pipeline tests: data, noise, export round trip, converter, resume equality."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import safetensors_io  # noqa: E402
from convert_official import convert, infer_config  # noqa: E402
from mprnet import MPRNet, Config, OFFICIAL, grow, denoise  # noqa: E402

TINY = Config(8, 4, 4, 1, 4)


def fake_images(n=3, size=80):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (size, size + 7, 3), dtype=np.uint8) for _ in range(n)]


def test_batch_shapes_ranges_and_determinism():
    imgs = fake_images()
    noisy, clean = data.batch(imgs, seed=1, step=5, size=4, crop=32)
    assert noisy.shape == clean.shape == (4, 3, 32, 32) and noisy.dtype == np.float32
    assert 0 <= noisy.min() and noisy.max() <= 1
    assert np.allclose(noisy * 255, np.rint(noisy * 255), atol=1e-4)  # 8-bit values, as in files
    again = data.batch(imgs, seed=1, step=5, size=4, crop=32)
    assert np.array_equal(again[0], noisy)
    assert not np.array_equal(data.batch(imgs, seed=1, step=6, size=4, crop=32)[0], noisy)


def test_gray_crops_have_equal_channels_and_one_noise_draw():
    imgs = fake_images()
    noisy, clean = data.batch(imgs, seed=1, step=5, size=4, crop=32, gray_fraction=1.0)
    for a in (noisy, clean):
        assert np.array_equal(a[:, 0], a[:, 1]) and np.array_equal(a[:, 1], a[:, 2])
    assert np.abs(noisy - clean).mean() > 0.01  # noise was added
    mixed = data.batch(imgs, seed=1, step=5, size=4, crop=32, gray_fraction=0.5)[1]
    gray = [np.array_equal(m[0], m[1]) and np.array_equal(m[1], m[2]) for m in mixed]
    assert 0 < sum(gray) < 4  # some of each, with this seed


def test_gaussian_noise_statistics():
    clean = np.full((200, 200, 3), 128, np.uint8)
    sig = [np.std(data.synth_noise(clean, np.random.default_rng(k), poisson_fraction=0).astype(float) - 128)
           for k in range(200)]
    # sigma ~ U[0, 55]: mean 27.5, spread of a uniform.
    assert abs(np.mean(sig) - 27.5) < 3
    assert min(sig) < 5 and max(sig) > 50


def test_protocol_noise_matches_the_readme():
    clean = np.zeros((4, 5), np.uint8) + 100
    rng = np.random.default_rng(3 * 1000 + 25)
    want = np.clip(np.rint(100 + 25 * rng.standard_normal((4, 5))), 0, 255)
    assert np.array_equal(data.protocol_noisy(clean, 3, 25), want)


def test_model_names_and_sizes():
    assert sum(p.numel() for p in MPRNet(OFFICIAL).parameters()) == 15_741_025  # the official 15.74 M
    assert sum(p.numel() for p in MPRNet(Config(24, 16, 8, 2, 4)).parameters()) == 1_104_761
    x = torch.rand(1, 3, 37, 45)
    y = denoise(MPRNet(TINY).eval(), x)
    assert y.shape == x.shape


def test_export_import_round_trip(tmp_path):
    torch.manual_seed(0)
    m = MPRNet(TINY)
    for dtype, tol in ((np.float32, 0), (np.float16, 1e-3)):
        path = tmp_path / "w.safetensors"
        safetensors_io.save(path, m.state_dict(), m.cfg.as_metadata(), dtype)
        tensors, meta = safetensors_io.load(path)
        assert Config.from_metadata(meta) == TINY
        assert set(tensors) == set(m.state_dict())
        for k, v in m.state_dict().items():
            assert torch.allclose(tensors[k], v, atol=tol), k
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert (8 + n) % 8 == 0  # tensor data aligned


def test_converter_on_official_shaped_state_dict():
    torch.manual_seed(1)
    cfg = Config(16, 8, 8, 3, 4)
    sd = {"module." + k: v for k, v in MPRNet(cfg).state_dict().items()}
    assert infer_config({k[7:]: v for k, v in sd.items()}) == cfg
    model = convert({"state_dict": sd, "epoch": 3})
    assert model.cfg == cfg
    assert torch.equal(model.state_dict()["tail.weight"], sd["module.tail.weight"])
    sd.pop("module.tail.weight")
    with pytest.raises(RuntimeError):
        convert({"state_dict": sd})


def test_official_config_is_inferred():
    sd = MPRNet(OFFICIAL).state_dict()
    assert infer_config(sd) == OFFICIAL


def test_deepened_orbs_compute_the_same_function_and_then_learn():
    torch.manual_seed(2)
    m = MPRNet(Config(8, 4, 4, 1, 4)).eval()
    with torch.no_grad():
        m.shallow_feat1[1].body[1].weight.fill_(0.1)  # the shared PReLU, away from its default
    deep = grow(m, Config(8, 4, 4, 3, 4)).eval()
    assert deep.cfg == Config(8, 4, 4, 3, 4)
    assert sum(p.numel() for p in deep.parameters()) > sum(p.numel() for p in m.parameters())
    x = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        for a, b in zip(m(x), deep(x)):
            assert torch.allclose(a, b, atol=1e-6)
    # The ORB tail moved behind the new CABs, whose second convolutions start at zero.
    assert torch.equal(deep.stage3_orsnet.orb2.body[3].weight, m.stage3_orsnet.orb2.body[1].weight)
    assert torch.count_nonzero(deep.stage3_orsnet.orb2.body[1].body[2].weight) == 0
    assert deep.stage3_orsnet.orb2.body[1].body[1] is deep.shallow_feat1[1].body[1]
    # Their gradient is not zero, so training moves them.
    deep.train()
    sum(o.square().sum() for o in deep(x)).backward()
    assert deep.stage3_orsnet.orb1.body[2].body[2].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        grow(deep, Config(8, 4, 4, 2, 4))
    with pytest.raises(ValueError):
        grow(deep, Config(8, 4, 8, 3, 4))


def test_a_context_level_computes_the_same_function_and_then_learns():
    torch.manual_seed(3)
    m = MPRNet(Config(8, 4, 4, 1, 4)).eval()
    with torch.no_grad():
        m.shallow_feat1[1].body[1].weight.fill_(0.1)
    big = grow(m, Config(8, 4, 4, 1, 4, 2)).eval()
    assert big.stage2_decoder.context3.body[1].body[1] is big.shallow_feat1[1].body[1]
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        for a, b in zip(m(x[..., :32, :48]), big(x[..., :32, :48])):
            assert torch.allclose(a, b, atol=1e-6)
        # Sides that are multiples of 8 but not of 16 are padded to 16 by denoise().
        assert denoise(big, x).shape == x.shape
    # The new level sees the bottom at 1/8 resolution; its up-projection starts at zero and learns.
    assert torch.count_nonzero(big.stage1_decoder.context3.up.up[1].weight) == 0
    big.train()
    sum(o.square().sum() for o in big(x[..., :32, :48])).backward()
    assert big.stage1_decoder.context3.up.up[1].weight.grad.abs().sum() > 0
    assert big.stage2_decoder.context3.up.up[1].weight.grad.abs().sum() > 0
    # The export metadata names the level only when there is one.
    assert "context_cabs" not in m.cfg.as_metadata()
    assert Config.from_metadata(big.cfg.as_metadata()) == big.cfg
    assert Config.from_metadata(m.cfg.as_metadata()) == m.cfg


def train(run, steps, tmp_path, imgdir, *extra):
    cmd = [sys.executable, str(HERE / "train.py"), "--run", str(run), "--config", "8,4,4,1,4", "--train-dirs", str(imgdir),
           "--val-dir", str(imgdir), "--val-count", "1", "--batch", "2", "--crop", "32", "--warmup", "2",
           "--schedule", "6", "--steps", str(steps), "--threads", "1", "--device", "cpu", *extra]
    subprocess.run(cmd, check=True, capture_output=True, cwd=tmp_path)


def test_resume_equals_one_longer_run(tmp_path):
    from PIL import Image
    imgdir = tmp_path / "imgs"
    imgdir.mkdir()
    for i, im in enumerate(fake_images(2, 64)):
        Image.fromarray(im).save(imgdir / f"{i}.png")
    train(tmp_path / "a", 2, tmp_path, imgdir)
    train(tmp_path / "a", 4, tmp_path, imgdir)
    train(tmp_path / "b", 4, tmp_path, imgdir)
    # A fresh run folder continuing from a copied checkpoint (a new machine) matches too.
    train(tmp_path / "c", 2, tmp_path, imgdir)
    moved = tmp_path / "moved.pt"
    (tmp_path / "c" / "checkpoint.pt").rename(moved)
    train(tmp_path / "d", 4, tmp_path, imgdir, "--resume", str(moved))
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)
    for run in ("a", "d"):
        other = torch.load(tmp_path / run / "checkpoint.pt", weights_only=False)
        assert other["state"]["step"] == b["state"]["step"] == 4
        for k in b["model"]:
            assert torch.equal(other["model"][k], b["model"][k]), (run, k)


# ---- camera-pipeline noise synthesis ----

import camera_noise  # noqa: E402


def photo(size=96):
    """A smooth, photo-like colour crop (gradients and a disc), in gamut."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    disc = ((yy - 0.5) ** 2 + (xx - 0.4) ** 2 < 0.08).astype(float)
    rgb = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 - 0.3 * disc], axis=-1)
    return np.rint(rgb * 255).astype(np.uint8)


def test_camera_pipeline_without_noise_returns_the_input():
    clean = photo()
    for k in range(10):
        rng = np.random.default_rng(k)
        r = camera_noise.random_rendering(rng)
        x = clean / 255.0
        assert np.abs(camera_noise.process(camera_noise.unprocess(x, r), r) - x).max() < 1e-6  # far below one 8-bit step
        noisy, target = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0, noise_scale=0)
        assert np.array_equal(noisy, target) and np.abs(target.astype(int) - clean).max() <= 1
        noisy, _ = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=1, noise_scale=0)
        assert 30 < data.psnr(noisy, clean) < 60  # JPEG alone (quality >= 60, 4:2:0 at the disc edge)


def test_raw_noise_variance_is_affine_in_the_signal():
    rng = np.random.default_rng(0)
    s = camera_noise.Sensor(shot=4e-3, read=2e-4, bayer=(0, 0), demosaic="bilinear")
    levels = np.array([0.02, 0.1, 0.3, 0.6, 0.9])
    measured = []
    for x in levels:
        raw = np.full((256, 256), x)
        noise = np.sqrt(s.shot * raw + s.read) * rng.standard_normal(raw.shape)
        measured.append(noise.var())
    gain, offset = np.polyfit(levels, measured, 1)
    assert abs(gain - 4e-3) < 2e-4 and abs(offset - 2e-4) < 5e-5


def test_read_noise_follows_the_log_linear_relation():
    rng = np.random.default_rng(1)
    sensors = [camera_noise.random_sensor(rng) for _ in range(2000)]
    x, y = np.log([s.shot for s in sensors]), np.log([s.read for s in sensors])
    slope, intercept = np.polyfit(x, y, 1)
    assert abs(slope - 2.18) < 0.05 and abs(intercept - 1.20) < 0.3


def test_shot_range_bounds_the_draw_and_keeps_the_other_draws():
    full = [camera_noise.random_sensor(np.random.default_rng(k)) for k in range(300)]
    low = [camera_noise.random_sensor(np.random.default_rng(k), (3e-5, 3e-3)) for k in range(300)]
    assert all(3e-5 <= s.shot <= 3e-3 for s in low)
    assert max(s.shot for s in full) > 6e-3  # the default reaches above the narrowed bound
    assert [(s.bayer, s.demosaic) for s in full] == [(s.bayer, s.demosaic) for s in low]
    # Each draw moves by the same log-uniform map: log(shot) keeps its rank and place in the range.
    frac = lambda s, lo, hi: (np.log(s.shot) - np.log(lo)) / (np.log(hi) - np.log(lo))
    assert np.allclose([frac(s, 3e-5, 1.2e-2) for s in full], [frac(s, 3e-5, 3e-3) for s in low])
    imgs = fake_images()
    rms = lambda b: np.sqrt(np.mean((b[0] - b[1]) ** 2))
    wide = data.batch(imgs, seed=1, step=3, size=6, crop=32, camera_fraction=1.0)
    narrow = data.batch(imgs, seed=1, step=3, size=6, crop=32, camera_fraction=1.0, shot_range=(3e-5, 3e-3))
    assert np.array_equal(wide[1], narrow[1]) and rms(narrow) < rms(wide)


def test_demosaicked_noise_is_spatially_correlated():
    for method in ("bilinear", "mhc"):
        s = camera_noise.Sensor(shot=0, read=1.0, bayer=(1, 0), demosaic=method)
        white = np.random.default_rng(2).standard_normal((256, 256))
        n = camera_noise.demosaic(white, s)
        for c in range(3):
            ch = n[8:-8, 8:-8, c]
            corr = np.corrcoef(ch[:, :-1].ravel(), ch[:, 1:].ravel())[0, 1]
            assert corr > 0.1, (method, c, corr)
        assert abs(np.corrcoef(white[:, :-1].ravel(), white[:, 1:].ravel())[0, 1]) < 0.02


def test_demosaicing_keeps_constant_images_and_sampled_values():
    for method in ("bilinear", "mhc"):
        for bayer in ((0, 0), (0, 1), (1, 0), (1, 1)):
            s = camera_noise.Sensor(shot=0, read=0, bayer=bayer, demosaic=method)
            rgb = np.ones((20, 22, 3)) * np.array([0.2, 0.5, 0.7])
            out = camera_noise.demosaic(camera_noise.mosaic(rgb, bayer), s)
            assert np.abs(out - rgb).max() < 1e-12
            raw = np.random.default_rng(3).random((20, 22))
            out = camera_noise.demosaic(raw, s)
            red, green, blue = camera_noise.bayer_masks(20, 22, bayer)
            assert np.allclose(out[..., 0][red], raw[red]) and np.allclose(out[..., 1][green], raw[green])


def test_camera_batches_mix_and_stay_deterministic():
    imgs = fake_images()
    a = data.batch(imgs, seed=1, step=3, size=6, crop=32, gray_fraction=0.3, camera_fraction=0.5)
    b = data.batch(imgs, seed=1, step=3, size=6, crop=32, gray_fraction=0.3, camera_fraction=0.5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].shape == (6, 3, 32, 32) and 0 <= a[0].min() and a[0].max() <= 1
    # camera_fraction 0 draws exactly the batches of before (a resumed run stays exact).
    old = data.batch(imgs, seed=1, step=3, size=6, crop=32, gray_fraction=0.3)
    new = data.batch(imgs, seed=1, step=3, size=6, crop=32, gray_fraction=0.3, camera_fraction=0.0)
    assert np.array_equal(old[0], new[0])


def test_in_camera_processing_reduces_chroma_noise_and_sharpens_luma():
    white = np.random.default_rng(4).standard_normal((128, 128, 3))
    y, c1, c2 = camera_noise.to_opponent(white)
    assert np.allclose(camera_noise.from_opponent(y, c1, c2), white)
    none = camera_noise.InCamera(0, 1, 0, 0, 0, 1)
    assert np.allclose(camera_noise.apply_in_camera(white, none), white)
    chroma = camera_noise.apply_in_camera(white, camera_noise.InCamera(1.5, 0.5, 0, 0, 0, 1))
    y2, c1b, _ = camera_noise.to_opponent(chroma)
    assert np.allclose(y2, y)  # luma untouched
    assert c1b.var() < 0.05 * c1.var()  # blur sigma 1.5 keeps ~1/(4 pi 1.5^2) of white noise, gain 0.5 a quarter
    corr = lambda a: np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]
    assert corr(c1b[8:-8, 8:-8]) > 0.8  # coarse
    sharp = camera_noise.apply_in_camera(white, camera_noise.InCamera(0, 1, 0, 0, 1.0, 1.0))
    y3, _, _ = camera_noise.to_opponent(sharp)
    assert y3.var() > 1.5 * y.var() and corr(y3[8:-8, 8:-8]) < -0.05  # stronger and finer (white: 0)


def test_in_camera_pairs_keep_the_target_and_weaken_the_noise():
    clean = photo()
    for k in range(5):
        noisy, target = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0, noise_scale=0,
                                                 in_camera=True)
        assert np.array_equal(noisy, target) and np.abs(target.astype(int) - clean).max() <= 1
    plain, processed = [], []
    for k in range(40):
        for store, flag in ((plain, False), (processed, True)):
            n, t = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0, in_camera=flag)
            store.append(np.mean((n.astype(float) - t) ** 2))
    assert np.median(processed) < 0.9 * np.median(plain)


def test_strong_luma_noise_reduction_leaves_less_fine_luma_noise():
    clean = photo()
    fine = lambda n, t: np.mean(np.diff((n.astype(float) - t).mean(axis=2), axis=1) ** 2)
    mild, strong = [], []
    for k in range(40):
        for store, profile in ((mild, "mild"), (strong, "strong")):
            n, t = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0, in_camera=profile)
            store.append(fine(n, t))
    assert np.median(strong) < 0.8 * np.median(mild)
    # "mild" is what in_camera=True has always drawn.
    a = camera_noise.camera_pair(clean, np.random.default_rng(3), in_camera=True)
    b = camera_noise.camera_pair(clean, np.random.default_rng(3), in_camera="mild")
    assert np.array_equal(a[0], b[0])


def test_coarse_profile_blurs_chroma_noise_wider_and_leaves_luma_alone():
    from scipy.ndimage import gaussian_filter
    clean = photo()
    def chroma_kept(n, t):  # share of the chroma noise's RMS a blur of sigma 3 keeps
        d = n.astype(float) - t
        c = np.stack([d[..., 0] - d[..., 1], d[..., 2] - d[..., 1]])
        return np.sqrt(np.mean(gaussian_filter(c, (0, 3, 3)) ** 2) / np.mean(c ** 2))
    mild, coarse = [], []
    for k in range(20):
        a = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0, in_camera="mild")
        b = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0, in_camera="coarse")
        mild.append(chroma_kept(*a))
        coarse.append(chroma_kept(*b))
        # Same draws, same luma processing: luma differs by 8-bit rounding (and clipping) only.
        assert np.mean(np.abs(a[0].astype(float).mean(axis=2) - b[0].astype(float).mean(axis=2))) < 0.4
    assert np.median(coarse) > 1.15 * np.median(mild)


def test_blotchy_chroma_keeps_its_share_of_the_rms_and_is_coarse():
    white = np.random.default_rng(6).standard_normal((128, 128, 3))
    _, c1, _ = camera_noise.to_opponent(white)
    p = camera_noise.InCamera(4.0, 0.5, 0, 0, 0, 1, chroma_keeps_rms=True)
    _, c1b, _ = camera_noise.to_opponent(camera_noise.apply_in_camera(white, p))
    assert abs(np.sqrt(np.mean(c1b ** 2) / np.mean(c1 ** 2)) - 0.5) < 1e-9  # the gain is a share of the RMS before the blur
    corr = lambda a, k: np.corrcoef(a[:, :-k].ravel(), a[:, k:].ravel())[0, 1]
    assert corr(c1b[16:-16, 16:-16], 3) > 0.6  # white noise blurred by 4: exp(-9 / 64) = 0.87
    # Whole pairs: blotchy chroma noise is stronger than coarse's from the same draws.
    clean = photo()
    rms = lambda n, t: np.std((n.astype(float) - t)[..., 0] - (n.astype(float) - t)[..., 1])
    coarse, blotchy = [], []
    for k in range(20):
        coarse.append(rms(*camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0,
                                                    in_camera="coarse")))
        blotchy.append(rms(*camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=0,
                                                     in_camera="blotchy")))
    assert np.median(blotchy) > 1.3 * np.median(coarse)


def test_zoomed_crops_are_smoother_and_leave_other_batches_alone():
    rng = np.random.default_rng(5)
    texture = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    hf = lambda a: np.mean(np.diff(a.astype(float), axis=1) ** 2)
    native = data.zoomed_crop(texture, np.random.default_rng(1), 32, 1.0)
    assert native.shape == (32, 32, 3)
    assert any(np.array_equal(native, texture[y:y + 32, x:x + 32]) for y in range(65) for x in range(65))
    zoomed = [data.zoomed_crop(texture, np.random.default_rng(k), 32, 3.0) for k in range(20)]
    assert all(z.shape == (32, 32, 3) for z in zoomed)
    # White texture enlarged z times keeps about 1/z of its neighbour-difference energy.
    assert np.median([hf(z) for z in zoomed]) < 0.8 * hf(native)
    imgs = fake_images()
    old = data.batch(imgs, seed=1, step=3, size=6, crop=32, camera_fraction=0.5)
    same = data.batch(imgs, seed=1, step=3, size=6, crop=32, camera_fraction=0.5, camera_zoom=1.0)
    assert np.array_equal(old[0], same[0])
    z = data.batch(imgs, seed=1, step=3, size=6, crop=32, camera_fraction=0.5, camera_zoom=2.5)
    assert z[0].shape == (6, 3, 32, 32)


def test_camera_validation_adds_enlarged_centres_when_zooming():
    imgs = [np.random.default_rng(k).integers(0, 256, (40, 48, 3), dtype=np.uint8) for k in range(2)]
    plain = data.camera_validation(imgs)
    zoomed = data.camera_validation(imgs, zoom=2.0)
    assert len(plain) == 2 and len(zoomed) == 4
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(plain, zoomed[:2]))  # the native ones unchanged
    centre = data.enlarged_centre(imgs[0], 2.0)
    assert centre.shape == imgs[0].shape
    hf = lambda a: np.mean(np.diff(a.astype(float), axis=1) ** 2)
    assert hf(centre) < 0.6 * hf(imgs[0])


def test_int8_convolution_is_the_integer_scheme_it_simulates():
    # QuantConv against the scheme written out in int64 numpy: u8 activations with a per-channel
    # zero point (zero padding = the zero point), s8 weights per output channel, exact sums.
    from quantize_int8 import QuantConv
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(5, 4, 3, padding=1, bias=False)
    x = torch.randn(1, 5, 7, 9) * torch.tensor([0.1, 1, 3, 0.5, 2])[None, :, None, None] + 0.3
    q = QuantConv(conv)
    q.observe(x, gen=torch.Generator().manual_seed(1))
    q.calibrate(255, 0)
    got = q(x).detach().numpy()[0]
    s, z = q.scale.numpy().astype(np.float64), q.zero.numpy().astype(np.int64)
    xq = np.clip(np.rint(x.numpy()[0] / s[:, None, None]) + z[:, None, None], 0, 255).astype(np.int64)
    assert xq.min() == 0 and xq.max() == 255   # min/max calibration uses the whole range
    padded = np.broadcast_to(z[:, None, None], (5, 9, 11)).copy()
    padded[:, 1:-1, 1:-1] = xq
    w = conv.weight.detach().numpy().astype(np.float64) * s[None, :, None, None]
    t = np.abs(w).max(axis=(1, 2, 3)) / 127
    wq = np.rint(w / t[:, None, None, None]).astype(np.int64)
    assert np.abs(wq).max() == 127
    sums = np.zeros((4, 7, 9), np.int64)
    for dy in range(3):
        for dx in range(3):
            sums += np.einsum("oc,chw->ohw", wq[:, :, dy, dx], padded[:, dy:dy + 7, dx:dx + 9] - z[:, None, None])
    np.testing.assert_allclose(got, sums * t[:, None, None], rtol=1e-5, atol=1e-6)
    # and it approximates the float convolution to within the quantisation steps
    assert np.abs(got - conv(x).detach().numpy()[0]).max() < 0.05 * np.abs(conv(x).detach().numpy()).max()


def test_adaptive_profile_keeps_noise_in_texture_and_removes_it_where_flat():
    # Half flat grey, half fine stripes: the same white noise field through the edge-aware reduction.
    image = np.full((64, 128, 3), 0.5)
    image[:, 64:] += 0.2 * np.sign(np.sin(np.arange(64) * 1.7))[None, :, None]
    white = np.random.default_rng(7).standard_normal(image.shape)
    p = camera_noise.InCamera(3.0, 0.3, 1.2, 1.0, 0, 1, texture_scale=0.02)
    out = camera_noise.apply_in_camera(white, p, image)
    flat, textured = out[8:-8, 8:56], out[8:-8, 72:120]
    assert np.std(textured) > 0.75 * np.std(white[8:-8, 72:120])  # texture keeps most of it
    assert np.std(flat) < 0.3 * np.std(white[8:-8, 8:56])         # flat areas lose most of it
    # Without a texture scale the same processing is uniform (what the other profiles do).
    uniform = camera_noise.apply_in_camera(white, camera_noise.InCamera(3.0, 0.3, 1.2, 1.0, 0, 1))
    assert np.std(uniform[8:-8, 72:120]) < 0.5 * np.std(white[8:-8, 72:120])
    # Whole pairs: the profile's draws and the target are those of any camera pair.
    clean = photo()
    n, t = camera_noise.camera_pair(clean, np.random.default_rng(3), jpeg_probability=0, in_camera="adaptive")
    _, t0 = camera_noise.camera_pair(clean, np.random.default_rng(3), jpeg_probability=0, in_camera="coarse")
    assert np.array_equal(t, t0) and np.abs(n.astype(float) - t).mean() > 0


def test_mean_of_shots_reference_is_the_mean_a_camera_gives_not_the_rendering():
    # A dark flat grey under strong shot noise: gamma and the tone curve are concave there, so the
    # mean of shots lies below the noise-free rendering, and the noisy shot's mean lies with it.
    flat = np.full((128, 128, 3), 40, np.uint8)
    for k in range(3):
        pair = lambda shots: camera_noise.camera_pair(flat, np.random.default_rng(k), jpeg_probability=0,
                                                      shot_range=(1e-2, 1.2e-2), reference_shots=shots)
        (noisy, mean8), (noisy0, rendering) = pair(8), pair(0)
        assert np.array_equal(noisy, noisy0)  # the reference's draws come after all the others
        n, t, r = (a.reshape(-1, 3).astype(float).mean(axis=0) for a in (noisy, mean8, rendering))
        assert np.abs(n - t).max() < 1.5 and (r - t)[1] > 3  # green: 40 -> about 33
        # 8 more independent shots: the reference keeps 1/sqrt(8) of the noise
        assert 0.85 < mean8.astype(float).std() / (noisy.astype(float).std() / np.sqrt(8)) < 1.15
    # Without noise every shot is the rendering, JPEG included: the reference is the noisy shot.
    clean = photo()
    for k in range(4):
        noisy, target = camera_noise.camera_pair(clean, np.random.default_rng(k), jpeg_probability=1, noise_scale=0,
                                                 in_camera="adaptive", reference_shots=3)
        assert np.array_equal(noisy, target)
    # Batches pass it on to their camera crops, and stay deterministic.
    images = fake_images()
    a = data.batch(images, 5, 2, 4, 32, camera_fraction=1.0, reference_shots=2)
    b = data.batch(images, 5, 2, 4, 32, camera_fraction=1.0, reference_shots=2)
    c = data.batch(images, 5, 2, 4, 32, camera_fraction=1.0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.array_equal(a[0][0], c[0][0]) and not np.array_equal(a[1][0], c[1][0])  # first crop: same shot


def test_noise_field_makes_a_scale_mixture_with_the_closed_form_tails():
    # The gain has mean 1 and, for a fixed s, E[f^2] = exp(s^2) and E[f^4] = exp(6 s^2): white noise
    # times it has kurtosis 3 exp(4 s^2). Checked with s pinned by a strength that only allows it.
    rng = np.random.default_rng(5)
    fields = [camera_noise.noise_field((256, 256), rng, 1e-9) for _ in range(2)]
    assert all(np.abs(f - 1).max() < 1e-6 for f in fields)
    for s in (0.3, 0.5):
        f = np.concatenate([camera_noise.noise_field((256, 256), np.random.default_rng([k, 1]), s, (4.0, 4.0)).ravel()
                            for k in range(200)])
        # s is uniform in [0, S]: E[f^2] is the mean of exp(s^2) over it
        grid = np.linspace(0, s, 10001)
        assert abs(f.mean() - 1) < 0.01
        assert abs(np.mean(f ** 2) / np.mean(np.exp(grid ** 2)) - 1) < 0.02
        z = f * np.random.default_rng(9).standard_normal(f.size)
        kurtosis = np.mean(z ** 4) / np.mean(z ** 2) ** 2
        assert abs(kurtosis / (3 * np.mean(np.exp(6 * grid ** 2)) / np.mean(np.exp(grid ** 2)) ** 2) - 1) < 0.05
        assert kurtosis > 3.3
    # In a pair: the target and the draws before the field are unchanged; strength 0 draws nothing.
    clean = photo()
    n0, t0 = camera_noise.camera_pair(clean, np.random.default_rng(2), jpeg_probability=0, in_camera="adaptive")
    n1, t1 = camera_noise.camera_pair(clean, np.random.default_rng(2), jpeg_probability=0, in_camera="adaptive",
                                      field_strength=0.0)
    n2, t2 = camera_noise.camera_pair(clean, np.random.default_rng(2), jpeg_probability=0, in_camera="adaptive",
                                      field_strength=0.6)
    assert np.array_equal(n0, n1) and np.array_equal(t0, t2) and not np.array_equal(n0, n2)
