"""Trains MPRNet for blind denoising on CPU (or CUDA), resumably.

    python train.py --run runs/compact                 # starts, or resumes if runs/compact has a checkpoint
    python train.py --run runs/compact --steps 200     # stops after step 200 (schedule length unchanged)
    python train.py --run runs/compact --resume models/mprnet-compact.checkpoint.pt   # on a new machine

Loss and schedule as the paper: Charbonnier (eps 1e-3) summed over the three stage outputs, Adam,
linear warm-up then cosine annealing. The checkpoint holds model, optimiser, step and the log, and
batches are a pure function of (seed, step), so a resumed run continues exactly.
"""
import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

import camera_noise
import data
import safetensors_io
from mprnet import MPRNet, Config, grow, denoise


def charbonnier(x, y, eps=1e-3):
    return torch.mean(torch.sqrt((x - y) ** 2 + eps * eps))


def mse(x, y):
    return torch.mean((x - y) ** 2)


LOSSES = {"charbonnier": charbonnier, "l2": mse}


def learning_rate(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = (step - a.warmup) / max(1, a.schedule - a.warmup)
    return a.lr_min + 0.5 * (a.lr - a.lr_min) * (1 + math.cos(math.pi * min(1.0, t)))


def validate(model, pairs, device):
    """Mean PSNR over (noisy, clean) uint8 pairs."""
    model.eval()
    scores = []
    for noisy, clean in pairs:
        x = torch.from_numpy(noisy.transpose(2, 0, 1)[None].astype(np.float32) / 255).to(device)
        y = denoise(model, x)[0].cpu().numpy().transpose(1, 2, 0)
        scores.append(data.psnr(np.clip(np.rint(y * 255), 0, 255).astype(np.uint8), clean))
    model.train()
    return float(np.mean(scores))


def export(model, path, note):
    meta = model.cfg.as_metadata() | {"arch": "mprnet-denoise", "note": note}
    safetensors_io.save(path, model.state_dict(), meta)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", required=True, help="folder for checkpoint, log and exports")
    p.add_argument("--resume", default=None,
                   help="checkpoint to continue from when the run folder has none (e.g. the committed one)")
    p.add_argument("--init", default=None,
                   help="weights to start a new run from (fine-tuning: fresh optimiser and schedule)")
    p.add_argument("--config", default="24,16,8,2,4", help="n_feat,scale_unetfeats,scale_orsnetfeats,num_cab,reduction[,context_cabs]")
    p.add_argument("--train-dirs", nargs="*", default=[str(data.SHARED / "train" / s) for s in data.TRAIN_SETS])
    p.add_argument("--val-dir", default=str(data.SHARED / "eval" / "CBSD68"))
    p.add_argument("--val-count", type=int, default=8, help="first N images of the val folder")
    p.add_argument("--val-sigma", type=int, default=25)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lr-min", type=float, default=1e-6)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--schedule", type=int, default=60000, help="steps of the cosine schedule")
    p.add_argument("--steps", type=int, default=None, help="stop after this step (default: the schedule)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--gray-fraction", type=float, default=0.25,
                   help="share of gray crops (three equal channels, one noise draw); 0 before step 4671")
    p.add_argument("--camera-fraction", type=float, default=0.0,
                   help="share of crops with camera-pipeline noise (camera_noise.py); the rest white/Poisson")
    p.add_argument("--in-camera", nargs="?", const="mild", default=None, choices=sorted(camera_noise.PROFILES),
                   help="camera-pipeline noise (training and validation) also gets in-camera noise "
                        "reduction and sharpening: the profile (camera_noise.PROFILES; mild in phases 2-4)")
    p.add_argument("--camera-zoom", type=float, default=1.0,
                   help="camera crops (--zoom-share of them) show a region up to this many times smaller, "
                        "enlarged (data.zoomed_crop): the per-pixel smoothness of full-resolution photos")
    p.add_argument("--zoom-share", type=float, default=0.5,
                   help="share of the camera crops that are zoomed when --camera-zoom > 1")
    p.add_argument("--shot-range", type=float, nargs=2, default=camera_noise.SHOT_RANGE, metavar=("LO", "HI"),
                   help="bounds of the camera crops' shot noise (log-uniform; validation keeps the default)")
    p.add_argument("--reference-shots", type=int, default=0,
                   help="camera crops' target (training and validation): the mean of this many more shots of the "
                        "scene through the same camera, as real-noise sets make their references; 0: the "
                        "noise-free rendering")
    p.add_argument("--noise-field", type=float, default=0.0, metavar="S",
                   help="camera crops' noise level varies across the crop by a smooth log-normal gain of "
                        "log-deviation up to S (camera_noise.noise_field: heavier tails); validation keeps none")
    p.add_argument("--camera-val-dir", default=str(data.SHARED / "eval" / "CBSD68"))
    p.add_argument("--camera-val", default="8:16",
                   help="slice of the camera validation folder: camera-pipeline noise, fixed seed")
    p.add_argument("--loss", default="charbonnier", choices=sorted(LOSSES),
                   help="charbonnier (the paper's) or l2 (what PSNR measures, for the last steps)")
    p.add_argument("--autocast", action="store_true", help="bfloat16 autocast (CPU)")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--checkpoint-minutes", type=float, default=10)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    run = Path(a.run)
    run.mkdir(parents=True, exist_ok=True)
    ckpt_path = run / "checkpoint.pt"

    torch.manual_seed(a.seed)
    cfg = Config(*map(int, a.config.split(",")))
    model = MPRNet(cfg).to(a.device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    state = {"step": 0, "train_seconds": 0.0, "best_psnr": -1.0, "log": []}
    source = ckpt_path if ckpt_path.exists() else Path(a.resume) if a.resume else None
    if source:
        ck = torch.load(source, map_location=a.device, weights_only=False)
        if ck["args"]["config"] != a.config or ck["args"]["seed"] != a.seed:
            raise SystemExit(f"{source} was made with another config or seed")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        print(f"resumed from {source} at step {state['step']}", flush=True)
    elif a.init:
        from export import load_any
        init = load_any(a.init)[0]
        if init.cfg != cfg:
            init = grow(init, cfg)  # a larger config starts as the same function
        model.load_state_dict(init.state_dict())
        print(f"initialised from {a.init} ({init.cfg})", flush=True)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)

    images = data.load_folders(a.train_dirs, a.crop)
    val_files = data.image_files(a.val_dir)[:a.val_count]
    val = [(data.protocol_noisy(c, i, a.val_sigma), c) for i, c in enumerate(map(data.read_rgb, val_files))]
    lo, hi = map(int, a.camera_val.split(":"))
    camera_val = data.camera_validation([data.read_rgb(f) for f in data.image_files(a.camera_val_dir)[lo:hi]],
                                        in_camera=a.in_camera, zoom=min(a.camera_zoom, 2.0),
                                        reference_shots=a.reference_shots)
    print(f"{len(images)} training images, {len(val)} validation images, "
          f"{sum(t.numel() for t in model.parameters())} parameters, config {cfg}", flush=True)

    def save():
        tmp = run / "checkpoint.tmp"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "args": vars(a)}, tmp)
        os.replace(tmp, ckpt_path)
        (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in state["log"]))

    def checkpoint():
        v = validate(model, val, a.device)
        rec = {"step": state["step"], "hours": round(state["train_seconds"] / 3600, 4),
               "loss": round(running / max(1, count), 6), "val_psnr": round(v, 4),
               "lr": learning_rate(state["step"], a), "gray_fraction": a.gray_fraction}
        score, what = v, f"val {v:.3f} dB on CBSD68[:{a.val_count}] sigma {a.val_sigma}"
        if a.camera_fraction:
            # With camera noise in the mixture, the best export is the best mean of both validations.
            cv = validate(model, camera_val, a.device)
            rec |= {"camera_val_psnr": round(cv, 4), "camera_fraction": a.camera_fraction}
            score, what = (v + cv) / 2, what + f", camera val {cv:.3f} dB"
        state["log"].append(rec)
        print(json.dumps(rec), flush=True)
        if score > state["best_psnr"]:
            state["best_psnr"] = score
            export(model, run / "best.safetensors", f"step {state['step']}, {what}")
        save()

    last = time.time()
    running, count = 0.0, 0
    end = a.steps if a.steps is not None else a.schedule
    model.train()
    while state["step"] < end:
        t0 = time.time()
        noisy, clean = data.batch(images, a.seed, state["step"], a.batch, a.crop, a.gray_fraction,
                                  a.camera_fraction, a.in_camera, a.camera_zoom, a.zoom_share,
                                  tuple(a.shot_range), a.reference_shots, a.noise_field)
        noisy, clean = torch.from_numpy(noisy).to(a.device), torch.from_numpy(clean).to(a.device)
        if a.channels_last:
            noisy, clean = noisy.to(memory_format=torch.channels_last), clean.to(memory_format=torch.channels_last)
        for g in opt.param_groups:
            g["lr"] = learning_rate(state["step"], a)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            outs = model(noisy)
        loss = sum(LOSSES[a.loss](out.float(), clean) for out in outs)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state["step"] += 1
        state["train_seconds"] += time.time() - t0
        running += loss.item()
        count += 1
        if time.time() - last > a.checkpoint_minutes * 60:
            checkpoint()
            last, running, count = time.time(), 0.0, 0
    if count or not state["log"] or state["log"][-1]["step"] != state["step"]:
        checkpoint()


if __name__ == "__main__":
    main()
