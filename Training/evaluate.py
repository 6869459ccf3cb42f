"""PSNR/SSIM of an MPRNet weights file on the project's protocol (../shared/data/README.md).

    python evaluate.py models/mprnet-compact.safetensors --sets CBSD68 Kodak24 Set12 --sigmas 15 25 50
    python evaluate.py cbm3d --sets CBSD68 --sigmas 25      # the CBM3D peer (`bm3d` package), told sigma
    python evaluate.py models/mprnet-default.safetensors --sets PolyU100 Kodak24-JPEG30
    python evaluate.py models/mprnet-camera14-final.safetensors --sets PolyU100 --every 4   # 25 photos

PolyU100 is real camera noise: each noisy JPEG is scored against its mean-of-many-shots reference
(sigma does not apply). Kodak24-JPEG30 is Kodak24 compressed by Pillow at quality 30 (4:2:0), no
noise added: the network must not make JPEG artefacts worse.

Noisy input: round(clip(clean + sigma N(0,1))) 8-bit, default_rng(index*1000+sigma) per image in
sorted order; gray sets run as three equal channels and are scored on one; PSNR peak 255 and SSIM
(Gaussian window 11, sigma 1.5) on the 8-bit output.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.metrics import structural_similarity

import data
from export import load_any
from mprnet import denoise


def mprnet_denoiser(model, device="cpu"):
    """Blind: ignores sigma. float HxWx3 in [0, 1] -> float HxWx3."""
    def run(x, sigma):
        t = torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32)).to(device)
        return denoise(model, t)[0].cpu().numpy().transpose(1, 2, 0)
    return run


def cbm3d_denoiser(x, sigma):
    """CBM3D (bm3d package, default profile), told the true sigma; BM3D on one channel for gray
    input (its colour transform divides by the chroma range, which is zero there)."""
    import bm3d
    if np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2]):
        return np.repeat(np.asarray(bm3d.bm3d(x[..., 0], sigma / 255.0))[..., None], 3, axis=2)
    return bm3d.bm3d_rgb(x, sigma / 255.0)


def pairs(name, sigma, limit=None, every=1):
    """(noisy, clean) uint8 pairs of a set: protocol noise, real noise (PolyU100) or JPEG only; every
    Nth file."""
    if name == "PolyU100":
        root = data.SHARED / "eval" / name
        for f in data.image_files(root / "noisy")[::every][:limit]:
            yield data.read_rgb(f), data.read_rgb(root / "clean" / f.name)
        return
    if name.startswith("Kodak24-JPEG"):
        import io
        for f in data.image_files(data.SHARED / "eval" / "Kodak24")[::every][:limit]:
            clean = data.read_rgb(f)
            buf = io.BytesIO()
            Image.fromarray(clean).save(buf, format="JPEG", quality=int(name[len("Kodak24-JPEG"):]), subsampling=2)
            yield np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")), clean
        return
    gray = name in ("Set12", "BSD68")
    # The protocol's seed is each image's index in the whole sorted set, whichever are taken.
    for i, f in list(enumerate(data.image_files(data.SHARED / "eval" / name)))[::every][:limit]:
        clean = np.asarray(Image.open(f).convert("L" if gray else "RGB"))
        yield data.protocol_noisy(clean, i, sigma), clean


def dct_denoiser(cli):
    """Our multi-scale DCT through the CLI, blind (its default): float HxWx3 in [0, 1] -> same."""
    import subprocess
    import tempfile
    from pathlib import Path

    def run(x, sigma):
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "in.png", Path(tmp) / "out.png"
            Image.fromarray(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)).save(src)
            subprocess.run([cli, "dct", str(src), str(dst), "--overwrite", "--quiet"], check=True)
            return np.asarray(Image.open(dst).convert("RGB"), dtype=np.float64) / 255
    return run


def run_set(denoiser, name, sigma, limit=None, every=1):
    if name == "PolyU100" or name.startswith("Kodak24-JPEG"):
        ps, ss, ps_in = [], [], []
        for noisy, clean in pairs(name, sigma, limit, every):
            out = np.clip(np.rint(denoiser(noisy.astype(np.float64) / 255, 0) * 255), 0, 255).astype(np.uint8)
            ps.append(data.psnr(out, clean))
            ps_in.append(data.psnr(noisy, clean))
            ss.append(structural_similarity(out, clean, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=255))
        print(f"  {name}: input {np.mean(ps_in):.2f} dB", flush=True)
        return float(np.mean(ps)), float(np.mean(ss))
    gray = name in ("Set12", "BSD68")
    ps, ss = [], []
    for noisy, clean in pairs(name, sigma, limit, every):
        x = noisy[..., None].repeat(3, 2) if gray else noisy
        y = denoiser(x.astype(np.float64) / 255, sigma)
        out = np.clip(np.rint(y * 255), 0, 255).astype(np.uint8)
        out = out.mean(axis=2).round().astype(np.uint8) if gray else out
        ps.append(data.psnr(out, clean))
        ss.append(structural_similarity(out, clean, channel_axis=None if gray else 2, gaussian_weights=True,
                                        sigma=1.5, use_sample_covariance=False, data_range=255))
    return float(np.mean(ps)), float(np.mean(ss))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights", help="an MPRNet weights file, `cbm3d` for the CBM3D peer (told sigma), "
                   "or `dct` for our multi-scale DCT, blind")
    p.add_argument("--cli", default=str(Path(__file__).resolve().parent.parent / ".build" / "release" / "denoise-cli"))
    p.add_argument("--sets", nargs="+", default=["CBSD68", "Kodak24", "Set12"])
    p.add_argument("--sigmas", type=int, nargs="+", default=[15, 25, 50])
    p.add_argument("--limit", type=int, default=None, help="the first N images (after --every)")
    p.add_argument("--every", type=int, default=1, help="every Nth image only, in sorted order")
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.weights == "dct":
        denoiser = dct_denoiser(a.cli)
        print("multi-scale DCT (our CLI, blind: noise measured from the image)")
    elif a.weights == "cbm3d":
        denoiser = cbm3d_denoiser
        print("CBM3D (bm3d package, profile np, given the true sigma)")
    else:
        model, meta = load_any(a.weights)
        model.eval()
        denoiser = mprnet_denoiser(model)
        print(f"{a.weights}: {model.cfg} {meta.get('note', '')}")
    print("| set | " + " | ".join(f"σ={s}" for s in a.sigmas) + " |")
    print("|---|" + "---|" * len(a.sigmas))
    for name in a.sets:
        t = time.time()
        real = name == "PolyU100" or name.startswith("Kodak24-JPEG")
        cells = [run_set(denoiser, name, s, a.limit, a.every) for s in (a.sigmas[:1] if real else a.sigmas)]
        print(f"| {name} | " + " | ".join(f"{p:.3f} / {s:.4f}" for p, s in cells) + f" |  ({time.time() - t:.0f} s)",
              flush=True)


if __name__ == "__main__":
    main()
