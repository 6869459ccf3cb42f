"""Int8 MPRNet, simulated in PyTorch: how far from float32 are the 3x3 convolutions in int8?

    python quantize_int8.py models/mprnet-default.safetensors --calib-batches 16 --threads 1

The scheme is the one an int8 kernel computes, so the simulation is exact up to float rounding of
the final rescale:
  activations, per input channel c: q = clamp(round(x / s_c) + z_c, 0, qmax), unsigned with a zero
    point (real 0 is exactly z_c, so zero padding stays exact). qmax = 255 where the CPU has VNNI
    (vpdpbusd sums u8 x s8 products in int32); 127 on plain AVX2, whose vpmaddubsw adds pairs of
    u8 x s8 products in int16 and saturates above 32767 (2 x 255 x 127 does, 2 x 127 x 127 does not).
  weights: the activation scales folded in (w[o, c] s_c), then per output channel symmetric int8
    in [-127, 127] with scale t_o.
  sums: int32, exact; out[o] = t_o (sum w_q q - sum w_q z), then PReLU and residual in float.
The ranges come from calibration crops of the training mixture (white, Poisson-Gaussian and camera
noise, never an evaluation set): per channel, the min and max, or a percentile of each tail.
It prints, for each variant, the PSNR in float32 and in int8 on CBSD68 sigma 25 and on every 4th
PolyU100 photo (real noise), and the difference; #17's bound is 0.05 dB on both.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import data
from evaluate import pairs
from export import load_any
from mprnet import denoise


class QuantConv(nn.Module):
    """A bias-free Conv2d with int8 weights and unsigned per-channel activations (see the module doc)."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = conv
        self.samples = []       # calibration: random samples of the input, per channel
        self.lo = self.hi = None
        self.qmax = None        # None: float (calibrating or switched off)
        self.gen = None         # while calibrating: the generator that picks the samples

    def observe(self, x, per_channel=4096, gen=None):
        flat = x.detach().transpose(0, 1).reshape(x.shape[1], -1)
        pick = torch.randint(flat.shape[1], (per_channel,), generator=gen)
        self.samples.append(flat[:, pick])
        lo, hi = flat.min(1).values, flat.max(1).values
        self.lo = lo if self.lo is None else torch.minimum(self.lo, lo)
        self.hi = hi if self.hi is None else torch.maximum(self.hi, hi)

    def calibrate(self, qmax, tail, wmax=127):
        """Ranges from the extremes seen (tail 0) or from the `tail` quantile of each side's samples."""
        if tail > 0:
            s = torch.cat(self.samples, 1)
            lo, hi = torch.quantile(s, tail, dim=1), torch.quantile(s, 1 - tail, dim=1)
        else:
            lo, hi = self.lo, self.hi
        lo, hi = torch.clamp(lo, max=0), torch.clamp(hi, min=0)   # real 0 must be representable
        scale = torch.clamp((hi - lo) / qmax, min=1e-8)
        self.scale, self.zero = scale, torch.round(-lo / scale)
        self.qmax = qmax
        w = self.conv.weight.detach() * scale[None, :, None, None]
        t = torch.clamp(w.abs().amax(dim=(1, 2, 3)) / wmax, min=1e-12)
        self.wq = torch.clamp(torch.round(w / t[:, None, None, None]), -wmax, wmax)
        self.wscale = t

    def forward(self, x):
        if self.qmax is None:
            if self.gen is not None:
                self.observe(x, gen=self.gen)
            return self.conv(x)
        s, z = self.scale[None, :, None, None], self.zero[None, :, None, None]
        q = torch.clamp(torch.round(x / s) + z, 0, self.qmax) - z      # integers, zero padding = real 0
        y = F.conv2d(q, self.wq, padding=self.conv.padding)           # integer sums (< 2^24: exact)
        return y * self.wscale[None, :, None, None]


def wrap(model, keep):
    """Replaces each 3x3 Conv2d whose name is not in `keep` by a QuantConv; returns them by name."""
    wrapped = {}
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            full = f"{parent_name}.{name}" if parent_name else name
            if isinstance(child, nn.Conv2d) and child.kernel_size == (3, 3) and full not in keep:
                q = QuantConv(child)
                setattr(parent, name, q)
                wrapped[full] = q
    return wrapped


def calibrate(model, convs, batches, seed=11):
    images = data.load_folders([data.SHARED / "train" / s for s in data.TRAIN_SETS], 96)
    gen = torch.Generator().manual_seed(seed)
    for q in convs.values():
        q.gen = gen
    with torch.no_grad():
        for step in range(batches):
            noisy, _ = data.batch(images, seed, step, 8, 96, gray_fraction=0.25, camera_fraction=0.5,
                                  in_camera="strong", camera_zoom=3)
            model(torch.from_numpy(noisy))
    for q in convs.values():
        q.gen = None


def set_mode(convs, qmax, tail, wmax=127):
    for q in convs.values():
        if qmax is None:
            q.qmax = None
        else:
            q.calibrate(qmax, tail, wmax)


def scores(model, polyu_every, cbsd_count):
    def run(x):
        t = torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32) / 255)
        y = denoise(model, t)[0].numpy().transpose(1, 2, 0)
        return np.clip(np.rint(y * 255), 0, 255).astype(np.uint8)
    cbsd = [data.psnr(run(n), c) for n, c in pairs("CBSD68", 25, cbsd_count)]
    polyu = [data.psnr(run(n), c) for n, c in pairs("PolyU100", 0, every=polyu_every)]
    return float(np.mean(cbsd)), float(np.mean(polyu))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights")
    p.add_argument("--calib-batches", type=int, default=16, help="batches of 8 crops of 96 x 96")
    p.add_argument("--variants", nargs="+", default=["255:0", "255:1e-4", "127:0", "127:1e-4"],
                   help="qmax:tail[:wmax] (tail 0: min and max; wmax 127 unless given, 63 for the AVX2 kernel\n"
                        "that sums four u7 x s7 products in int16)")
    p.add_argument("--keep-float", nargs="*", default=["tail"],
                   help="3x3 convolutions left in float (those of < 8 input channels always are)")
    p.add_argument("--polyu-every", type=int, default=4)
    p.add_argument("--cbsd-count", type=int, default=68)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    model, _ = load_any(a.weights)
    model.eval()
    keep = set(a.keep_float) | {n for n, m in model.named_modules()
                                if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) and m.in_channels < 8}
    convs = wrap(model, keep)
    t = time.time()
    calibrate(model, convs, a.calib_batches)
    print(f"{a.weights}: {len(convs)} 3x3 convolutions in int8, float: {sorted(keep)}; "
          f"calibrated on {a.calib_batches * 8} crops in {time.time() - t:.0f} s", flush=True)
    set_mode(convs, None, 0)
    ref = scores(model, a.polyu_every, a.cbsd_count)
    print(f"| variant | CBSD68 σ25 | Δ | PolyU100 every {a.polyu_every}th | Δ |\n|---|---|---|---|---|")
    print(f"| float32 | {ref[0]:.3f} | | {ref[1]:.3f} | |", flush=True)
    for v in a.variants:
        qmax, tail, wmax = (v.split(":") + ["127"])[:3]
        set_mode(convs, int(qmax), float(tail), int(wmax))
        s = scores(model, a.polyu_every, a.cbsd_count)
        name = (f"u{8 if qmax == '255' else 7} x s{8 if wmax == '127' else 7}, "
                f"{'min/max' if float(tail) == 0 else f'tails {tail}'}")
        print(f"| {name} | {s[0]:.3f} | {s[0] - ref[0]:+.3f} | {s[1]:.3f} | {s[1] - ref[1]:+.3f} |", flush=True)


if __name__ == "__main__":
    main()
