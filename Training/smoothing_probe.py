"""What a network leaves on real photos, probed by smoothing its output (for understanding: PolyU100
is evaluation only, so nothing measured here is tuned or shipped).

    python smoothing_probe.py models/mprnet-camera14-final.safetensors --every 4

Prints the mean PSNR over PolyU100 (every Nth photo) of the network's output y = f(x), and of:
f(f(x)) (denoised twice); y blurred by a Gaussian of 0.4 and 0.6 pixels; y with its low frequencies
(below a Gaussian of 2 pixels) from the network run on x downscaled 2x ("half-res lows"), on all
three channels or on chroma only (luma = the channels' mean, kept from y). A gain in a column says
what the network lacks: smoothing overall, or at coarse scales, or in colour.
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

import data
from evaluate import pairs
from export import load_any
from mprnet import denoise


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights")
    p.add_argument("--every", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = load_any(a.weights)[0].eval()

    def net(x):  # float H x W x 3 on 0..255 -> the same
        t = torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32) / 255)
        return denoise(model, t)[0].numpy().transpose(1, 2, 0).astype(np.float64) * 255

    def upsampled_half(x):
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        half = net(x[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3)))
        t = torch.from_numpy(half.transpose(2, 0, 1)[None])
        up = F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)[0].numpy().transpose(1, 2, 0)
        return np.pad(up, ((0, x.shape[0] - h), (0, x.shape[1] - w), (0, 0)), mode="edge")

    def blur(v, s):
        return gaussian_filter(v, (s, s, 0))

    def rgb8(v):
        return np.clip(np.rint(v), 0, 255).astype(np.uint8)

    columns = ["noisy", "f(x)", "f(f(x))", "blur 0.4", "blur 0.6", "half-res lows", "chroma lows"]
    rows = []
    for noisy, clean in pairs("PolyU100", 0, None, a.every):
        x = noisy.astype(np.float64)
        y = net(x)
        lows = y - blur(y, 2) + blur(upsampled_half(x), 2)
        chroma = y.mean(2, keepdims=True) + lows - lows.mean(2, keepdims=True)
        outs = [x, y, net(np.rint(np.clip(y, 0, 255))), blur(y, 0.4), blur(y, 0.6), lows, chroma]
        rows.append([data.psnr(rgb8(o), clean) for o in outs])
    print(f"{a.weights}, {len(rows)} PolyU100 photos, mean PSNR dB")
    print(" | ".join(columns))
    print(" | ".join(f"{v:.3f}" for v in np.mean(rows, axis=0)))


if __name__ == "__main__":
    main()
