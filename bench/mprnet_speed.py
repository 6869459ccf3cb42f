#!/usr/bin/env python3
"""Speed of our MPRNet engine beside PyTorch on the same weights, same image, same thread count.

    python3 bench/mprnet_speed.py --configs tiny compact medium --size 384 --threads 2

For each config: random weights (seed 0) exported to safetensors; a Kodak crop with sigma-25 noise;
PyTorch (Training/mprnet.py, float32, torch.no_grad, after one warm-up) times the forward pass. Ours is
timed the same way, in the same process: the library through the `denoise` package (python/, the
build's libdenoise.so unless $DENOISE_LIB says otherwise), the model loaded once, one warm-up, then
one call on the image with tile 0, in float32 and in the default precision, fast (AMX bfloat16, else
VNNI int8, else float32); the ratios are those pairs. Beside them, the whole `denoise mprnet`
process (start, loading, PNG coding) for the fast precision, what a user of the command waits. The
runs alternate `--repeat` times and each keeps its fastest run, so a noisy neighbour slows all
alike. Each output is compared with PyTorch's (PSNR between them) to show they compute the same thing.
The process keeps freed memory (glibc mallopt, as our CLI and GIMP plug-in do for themselves), so
that neither engine's steady state pays for faulting its buffers back in on every call; with
--default-malloc it does not (both engines then run as in a plain Python process).

It prints the CPU, our kernel path (DENOISE_KERNELS, or the one the library picks) and PyTorch's
(ONEDNN_MAX_CPU_ISA limits it), and per config the network's multiply-adds as GMAC/s (counted as
direct convolutions, so Winograd shows as the speed it is worth) with the share of the FMA peak of
our float path on that many cores, and for an int8 fast path the share of its VPDPBUSD peak
(`conv-speed --peak`, measured before and after the configs: on a shared host the integer peak can
move by 2x from one minute to the next while the float one holds).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DENOISE_LIB", str(ROOT / ".build" / "release" / "libdenoise.so"))
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "Training"))
import denoise as library  # noqa: E402

PRECISIONS = ("float32", "fast")
CONFIGS = {"tiny": (16, 8, 8, 2, 4), "compact": (24, 16, 8, 2, 4), "medium": (40, 24, 16, 4, 4),
           "official": (80, 48, 32, 8, 4)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=["tiny", "compact", "medium"])
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cli", default=str(ROOT / ".build" / "release" / "denoise-cli"))
    p.add_argument("--conv-speed", default=str(ROOT / ".build" / "release" / "conv-speed"),
                   help="the conv-speed benchmark, for the FMA peak (the share reads nan if it cannot run)")
    p.add_argument("--default-malloc", action="store_true", help="leave glibc's malloc settings as they are")
    a = p.parse_args()

    if not a.default_malloc:
        keep_freed_memory()
    import torch
    import safetensors_io
    from mprnet import MPRNet, Config, denoise
    torch.set_num_threads(a.threads)

    clean = np.asarray(Image.open(ROOT.parent / "shared/data/eval/Kodak24/kodim05.png").convert("RGB"))
    clean = clean[:a.size, :a.size].astype(np.float64)
    noisy = np.clip(np.rint(clean + 25 * np.random.default_rng(25).standard_normal(clean.shape)), 0, 255).astype(np.uint8)
    mp = noisy.shape[0] * noisy.shape[1] / 1e6
    cpuinfo = Path("/proc/cpuinfo").read_text()
    paths = kernel_paths(a.cli)
    path, fast_path = paths["mprnet float32"], paths["mprnet fast"]
    peaks = kernel_peaks(a.conv_speed)
    peak = peaks.get(path, float("nan")) * a.threads
    fast_peak = peaks.get(fast_path, float("nan")) * a.threads   # VPDPBUSD's for int8, FMA's for float32
    model_name = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")), "?")
    print(f"{model_name}; our float32 kernels: {path} (FMA peak {peak:.0f} GMAC/s on {a.threads} threads); "
          f"PyTorch {torch.__version__}, capability {torch.backends.cpu.get_cpu_capability()}, "
          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset')}; "
          f"malloc {'as glibc sets it' if a.default_malloc else 'keeping freed memory'}")
    print(f"{a.size}x{a.size} image, {a.threads} threads, best of {a.repeat}; s/MP (lower is better), GMAC/s and "
          f"share of the peak; fast runs {fast_path}" + (f" (peak {fast_peak:.0f} GMAC/s on {a.threads} threads)"
                                                          if fast_path in peaks else ""))
    print(f"{'config':>10} {'params':>8} {'GMAC':>6} {'PyTorch':>9} {'GMAC/s':>7} | {'float32':>9} {'ratio':>7} "
          f"{'GMAC/s':>7} {'of peak':>7} {'agree dB':>9} | {'fast':>9} {'ratio':>7} {'GMAC/s':>7} {'of peak':>7} {'agree dB':>9} "
          f"| {'fast CLI':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "noisy.png")
        Image.fromarray(noisy).save(src)
        for name in a.configs:
            torch.manual_seed(0)
            model = MPRNet(Config(*CONFIGS[name])).eval()
            weights = os.path.join(tmp, f"{name}.safetensors")
            safetensors_io.save(weights, model.state_dict(), model.cfg.as_metadata())
            x = torch.from_numpy(noisy.transpose(2, 0, 1)[None].astype(np.float32) / 255)
            denoise(model, x[..., :64, :64])
            ours_model = library.load_model(weights)
            for precision in PRECISIONS:
                library.mprnet(noisy[:64, :64], model=ours_model, tile=0, threads=a.threads, precision=precision)
            gmac = count_macs(model, x) / 1e9
            torch_s, cli_s = float("inf"), float("inf")
            ours_s, outputs = {p: float("inf") for p in PRECISIONS}, {}
            for _ in range(a.repeat):
                settle()
                t = time.perf_counter()
                y = denoise(model, x)[0].numpy().transpose(1, 2, 0)
                torch_s = min(torch_s, (time.perf_counter() - t) / mp)
                for precision in PRECISIONS:
                    settle()
                    t = time.perf_counter()
                    outputs[precision] = library.mprnet(noisy, model=ours_model, tile=0, threads=a.threads,
                                                        precision=precision)
                    ours_s[precision] = min(ours_s[precision], (time.perf_counter() - t) / mp)
                settle()
                t = time.perf_counter()
                subprocess.run([a.cli, "mprnet", src, os.path.join(tmp, "cli.png"), "--overwrite", "--model", weights,
                                "--tile", "0", "--threads", str(a.threads), "--quiet"], check=True)
                cli_s = min(cli_s, (time.perf_counter() - t) / mp)
            ours_model.close()
            ref = np.clip(np.rint(y * 255), 0, 255)
            row = (f"{name:>10} {sum(v.numel() for v in model.parameters()) / 1e6:>7.2f}M {gmac:>6.1f} "
                   f"{torch_s:>8.2f}s {gmac / (torch_s * mp):>7.1f}")
            for precision, seconds in ours_s.items():
                mse = np.mean((outputs[precision].astype(np.float64) - ref) ** 2)
                agree = 10 * np.log10(255 ** 2 / mse) if mse else float("inf")
                speed = gmac / (seconds * mp)
                share = f" {100 * speed / (peak if precision == 'float32' else fast_peak):>6.0f}%"
                row += f" | {seconds:>8.2f}s {torch_s / seconds:>6.2f}x {speed:>7.1f}{share} {agree:>9.1f}"
            row += f" | {cli_s:>8.2f}s {torch_s / cli_s:>6.2f}x"
            print(row, flush=True)
    after = kernel_peaks(a.conv_speed)
    print(f"peaks after the run, one thread: {path} {after.get(path, float('nan')):.1f}, "
          f"{fast_path} {after.get(fast_path, float('nan')):.1f} GMAC/s")


def keep_freed_memory():
    """glibc: serve big blocks from the heap and never trim it (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD)."""
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    if hasattr(libc, "mallopt"):
        libc.mallopt(m_mmap_threshold, 2 ** 31 - 1)
        libc.mallopt(m_trim_threshold, 2 ** 31 - 1)


def settle():
    """Waits out PyTorch's OpenMP workers, which spin for a while after each parallel region and
    would take cores from the next run."""
    time.sleep(0.5)


def kernel_paths(cli):
    """{"mprnet float32": build, "mprnet fast": ..., "dct": ...} as `denoise kernels` reports them
    (honouring DENOISE_KERNELS; it fails for a build this CPU lacks)."""
    out = subprocess.run([cli, "kernels"], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{cli} kernels: {out.stderr.strip()}")
    return dict(line.split(": ", 1) for line in out.stdout.splitlines())


def kernel_peaks(conv_speed):
    """{build or int8 path: one thread's peak in GMAC/s (FMA, or VPDPBUSD for avx2+vnni and avx512+vnni)}
    from `conv-speed --peak`; empty if it cannot run."""
    try:
        out = subprocess.run([conv_speed, "--peak"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {name: float(v) for name, v in (line.split() for line in out.splitlines() if line.strip())}


def count_macs(model, x):
    """Multiply-adds of the network's convolutions on `x`, as direct convolutions."""
    import torch
    from mprnet import denoise
    total = [0]

    def hook(conv, _, out):
        total[0] += out.numel() * conv.in_channels // conv.groups * conv.kernel_size[0] * conv.kernel_size[1]
    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        denoise(model, x)
    for h in hooks:
        h.remove()
    return total[0]


if __name__ == "__main__":
    main()
