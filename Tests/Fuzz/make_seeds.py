"""Writes the fuzz targets' seed corpora (small files, committed): Tests/Fuzz/corpus/{weights,codecs,api}.

weights: the smallest MPRNet that loads (F32 and F16), plus headers that probe each check.
codecs: 5x4 PNG (gray, gray+alpha, RGB, RGBA, palette, 16-bit), JPEG (gray, RGB, progressive, with
EXIF: IFD0, EXIF and GPS directories, rationals, a maker note), TIFF (8/16-bit; with that EXIF, as the
CLI writes it, when its build is there).
api: byte strings that pick each function of fuzz_api.c (its first field) with small images.
"""
import io
import json
import struct
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "Training"))


def safetensors_bytes(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def weights(out):
    import torch
    import mprnet
    import safetensors_io
    cfg = mprnet.Config(4, 2, 2, 1, 4)
    torch.manual_seed(0)
    model = mprnet.MPRNet(cfg)
    for dtype, name in ((np.float32, "tiny-f32"), (np.float16, "tiny-f16")):
        safetensors_io.save(out / f"{name}.safetensors", model.state_dict(), cfg.as_metadata(), dtype=dtype)
    t = {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    (out / "one-tensor.safetensors").write_bytes(safetensors_bytes({"w": t, "__metadata__": {"n_feat": "4"}}, bytes(24)))
    (out / "negative-offsets.safetensors").write_bytes(
        safetensors_bytes({"w": dict(t, data_offsets=[-100, -76])}, bytes(24)))
    (out / "nested.safetensors").write_bytes(safetensors_bytes({"__metadata__": {"a": [[[[1]]]]}}))


def camera_exif():
    """EXIF as a camera writes it: rationals, a version, a maker note, GPS."""
    from PIL import TiffImagePlugin
    r = TiffImagePlugin.IFDRational
    e = Image.Exif()
    e[0x010F], e[0x0110], e[0x0112], e[0x0132] = "Maker", "Model", 6, "2026:12:01 10:00:00"
    e[0x011A], e[0x011B], e[0x0128] = r(300, 1), r(300, 1), 2
    ex = e.get_ifd(0x8769)
    ex[0x829A], ex[0x829D], ex[0x8827], ex[0x9000], ex[0x920A] = r(1, 125), r(28, 10), 3200, b"0232", r(35, 1)
    ex[0x927C] = bytes(range(40))  # MakerNote
    gps = e.get_ifd(0x8825)
    gps[1], gps[2] = "N", (r(22, 1), r(18, 1), r(3, 2))
    return e.tobytes()


def codecs(out):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    for mode, name in (("L", "gray"), ("LA", "gray-alpha"), ("RGB", "rgb"), ("RGBA", "rgba"), ("P", "palette")):
        Image.fromarray(rgb).convert(mode).save(out / f"{name}.png", optimize=True)
    Image.fromarray(rng.integers(0, 65536, (4, 5), dtype=np.uint16).astype(np.int32), "I").convert("I;16").save(out / "gray16.png")
    Image.fromarray(rgb).save(out / "rgb.jpg", quality=50)
    Image.fromarray(rgb).convert("L").save(out / "gray.jpg", quality=50)
    Image.fromarray(rgb).save(out / "progressive.jpg", quality=50, progressive=True)
    Image.fromarray(rgb).save(out / "exif.jpg", quality=50, exif=camera_exif())
    Image.fromarray(rgb).save(out / "rgb.tif")
    Image.fromarray(rng.integers(0, 65536, (4, 5), dtype=np.uint16)).save(out / "gray16.tif")
    cli = Path(__file__).resolve().parents[2] / ".build" / "release" / "denoise-cli"
    if cli.exists():  # a TIFF with EXIF, IFD0 and GPS directories, written by our TIFF writer
        import subprocess
        subprocess.run([str(cli), "dct", str(out / "exif.jpg"), str(out / "exif.tif"), "--sigma", "1", "--overwrite",
                        "--quiet"], check=True)


def api(out):
    rng = np.random.default_rng(2)
    for function in range(6):
        for k in range(3):
            head = struct.pack("<HHHH", function, k, 7, 1)  # function, output kind, no cancel, params
            (out / f"f{function}-{k}").write_bytes(head + rng.integers(0, 256, 400, dtype=np.uint8).tobytes())


if __name__ == "__main__":
    for name, make in (("weights", weights), ("codecs", codecs), ("api", api)):
        d = HERE / "corpus" / name
        d.mkdir(parents=True, exist_ok=True)
        make(d)
    print("seeds in", HERE / "corpus")
