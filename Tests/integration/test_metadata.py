"""A photo's metadata through `denoise`: EXIF (orientation kept), the ICC profile (a large one split
over several JPEG APP2 markers), XMP and IPTC, into every output format that can hold each."""
import numpy as np
from PIL import Image

from conftest import kodak, noisy, run


def exif_block():
    """A real EXIF block made by Pillow: orientation 6, a camera model and a date."""
    e = Image.Exif()
    e[0x0112] = 6                        # Orientation: rotate 90 CW to view (we never rotate pixels)
    e[0x0110] = "Denoise Test Camera"    # Model
    e[0x0132] = "2026:12:01 10:00:00"    # DateTime
    return e.tobytes()


def undefined_maker_note(exif):
    """Pillow writes a bytes MakerNote as BYTE; cameras (and libtiff, which drops it otherwise) use
    UNDEFINED, the same one-byte layout: the entry's type field is changed from 1 to 7."""
    import struct
    order = "<" if exif[6:8] == b"II" else ">"
    entry = struct.pack(order + "HH", 0x927C, 1)
    at = exif.index(entry)
    return exif[:at] + struct.pack(order + "HH", 0x927C, 7) + exif[at + 4:]


def srgb_profile():
    """A valid ICC profile (littleCMS's sRGB, through Pillow): libpng checks a profile before it
    writes one."""
    from PIL import ImageCms
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_exif_icc_xmp_and_iptc_survive_every_format(cli, tmp_path):
    img = noisy(kodak()[:64, :96], 12, 13)
    exif, xmp = exif_block(), b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    small = srgb_profile()
    large = bytes((i * 7) % 251 for i in range(150_000))  # JPEG splits it over three APP2 markers
    iptc = b"8BIM\x04\x04\x00\x00\x00\x00\x00\x0b\x1c\x02\x05\x00\x05Title\x00"  # a Photoshop IRB: IPTC title
    src = tmp_path / "photo.jpg"
    Image.fromarray(img).save(src, quality=95, exif=exif, icc_profile=large, xmp=xmp)
    with Image.open(src) as j:
        assert j.info["icc_profile"] == large and len([m for m in j.applist if m[0] == "APP2"]) == 3
    r = run([cli, "dct", str(src), str(tmp_path / "out.jpg"), "--sigma", "12"])
    assert r.returncode == 0, r.stderr
    with Image.open(tmp_path / "out.jpg") as j:
        assert j.info["icc_profile"] == large and len([m for m in j.applist if m[0] == "APP2"]) == 3
        assert j.info.get("exif", b"")[6:] == exif[6:] and j.info["xmp"] == xmp
        assert j.getexif()[0x0112] == 6 and j.getexif()[0x0110] == "Denoise Test Camera"
        assert j.size == (96, 64)  # orientation kept as a tag, pixels not rotated

    src = tmp_path / "srgb.jpg"
    Image.fromarray(img).save(src, quality=95, exif=exif, icc_profile=small, xmp=xmp)
    outs = {}
    for ext in ("png", "tif"):
        r = run([cli, "dct", str(src), str(tmp_path / f"out.{ext}"), "--sigma", "12"])
        assert r.returncode == 0, r.stderr
        outs[ext] = Image.open(tmp_path / f"out.{ext}")
    p, t = outs["png"], outs["tif"]
    assert p.info["icc_profile"] == small and p.getexif()[0x0112] == 6 and p.info["XML:com.adobe.xmp"].encode() == xmp
    assert t.info["icc_profile"] == small and t.tag_v2[700] == xmp

    # PNG and TIFF in: the blocks they carry come back out; IPTC through TIFF.
    src_png = tmp_path / "photo.png"
    Image.fromarray(img).save(src_png, exif=exif, icc_profile=small)
    r = run([cli, "dct", str(src_png), str(tmp_path / "back.jpg"), "--sigma", "12"])
    assert r.returncode == 0, r.stderr
    with Image.open(tmp_path / "back.jpg") as b:
        assert b.info["icc_profile"] == small and b.getexif()[0x0110] == "Denoise Test Camera"
    src_tif = tmp_path / "photo.tif"
    Image.fromarray(img).save(src_tif, tiffinfo={34675: small, 34377: iptc, 700: xmp})
    for ext in ("tif", "jpg"):
        r = run([cli, "dct", str(src_tif), str(tmp_path / f"tback.{ext}"), "--sigma", "12"])
        assert r.returncode == 0, r.stderr
    with Image.open(tmp_path / "tback.tif") as b:
        assert b.info["icc_profile"] == small and bytes(b.tag_v2[34377]) == iptc and b.tag_v2[700] == xmp
    with Image.open(tmp_path / "tback.jpg") as b:
        app13 = [m[1] for m in b.applist if m[0] == "APP13"]
        assert b.info["icc_profile"] == small and app13 == [b"Photoshop 3.0\x00" + iptc]


def test_exif_goes_into_tiff_as_tiff_keeps_it(cli, tmp_path):
    """A camera JPEG's EXIF into a TIFF: the camera's tags in the image's directory, the EXIF and
    GPS directories as directories of their own (rationals, a version, a maker note), orientation
    kept as a tag; and from that TIFF into JPEG, PNG and TIFF again."""
    from PIL import TiffImagePlugin
    r = TiffImagePlugin.IFDRational
    e = Image.Exif()
    e[0x010F], e[0x0110], e[0x0112], e[0x0132] = "Maker", "Denoise Test Camera", 6, "2026:12:01 10:00:00"
    e[0x011A], e[0x011B], e[0x0128] = r(300, 1), r(300, 1), 2
    ex = e.get_ifd(0x8769)
    maker_note = bytes(range(200))
    ex[0x829A], ex[0x829D], ex[0x8827], ex[0x9000], ex[0x927C] = r(1, 125), r(28, 10), 3200, b"0232", maker_note
    gps = e.get_ifd(0x8825)
    gps[1], gps[2] = "N", (r(22, 1), r(18, 1), r(3, 2))
    img = noisy(kodak()[:48, :64], 10, 14)
    src, dst = tmp_path / "camera.jpg", tmp_path / "out.tif"
    Image.fromarray(img).save(src, quality=95, exif=undefined_maker_note(e.tobytes()))
    res = run([cli, "dct", str(src), str(dst), "--sigma", "10"])
    assert res.returncode == 0 and not res.stderr.count("Warning"), res.stderr
    with Image.open(dst) as t:
        x = t.getexif()
        assert (x[256], x[257]) == (64, 48)  # pixels not rotated (Pillow turns TIFFs by the tag when it opens them)
        assert (x[0x010F], x[0x0110], x[0x0112], x[0x0132]) == ("Maker", "Denoise Test Camera", 6, "2026:12:01 10:00:00")
        assert (float(x[0x011A]), float(x[0x011B]), x[0x0128]) == (300, 300, 2)
        exif = x.get_ifd(0x8769)
        assert abs(float(exif[0x829A]) - 1 / 125) < 1e-8 and abs(float(exif[0x829D]) - 2.8) < 1e-6
        assert exif[0x8827] == 3200 and exif[0x9000] == b"0232" and bytes(exif[0x927C]) == maker_note
        g = x.get_ifd(0x8825)
        assert g[1] == "N" and [float(v) for v in g[2]] == [22, 18, 1.5]
    # And back: a TIFF's EXIF directories become the EXIF block of JPEG and PNG, and stay in TIFF.
    for ext in ("jpg", "png", "tif"):
        back = tmp_path / f"back.{ext}"
        res = run([cli, "dct", str(dst), str(back), "--sigma", "10"])
        assert res.returncode == 0, res.stderr
        with Image.open(back) as b:
            x = b.getexif()
            assert (x[0x010F], x[0x0110], x[0x0112]) == ("Maker", "Denoise Test Camera", 6), ext
            exif = x.get_ifd(0x8769)
            assert exif[0x8827] == 3200 and bytes(exif[0x927C]) == maker_note, ext
            assert x.get_ifd(0x8825)[1] == "N", ext
    # A block libtiff cannot parse is left out; the photo is still written.
    bad = tmp_path / "bad.jpg"
    Image.fromarray(img).save(bad, quality=95, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f")
    res = run([cli, "dct", str(bad), str(tmp_path / "bad.tif"), "--sigma", "10"])
    assert res.returncode == 0 and Image.open(tmp_path / "bad.tif").getexif()[256] == 64, res.stderr
