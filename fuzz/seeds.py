#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target: `seeds.py OUT_DIR` fills OUT_DIR/<target>/.

Nothing here is a photo. The wire seeds are the golden encodings of every message variant, in every
version read, in shared/tests/wire.rs, read from that file so new variants are seeded as soon as they are pinned.
The image seeds are an 8x8 synthetic gradient in every supported format and the variants the
decoders treat differently (bit depths, palettes, interlacing, progressive JPEG, restart
markers, WebP lossy/lossless/alpha, TIFF byte orders and PackBits, EXIF orientation). PNG, BMP and TIFF are built here; the JPEG and
WebP bytes were written once by libjpeg-turbo's cjpeg and libwebp's cwebp from that gradient.
Inputs that once broke the image path (models/tests/fixtures/*.jpg, grown by the fuzzer from
these seeds) are seeds too, so every run checks them again.
"""

import re
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIDE = 8


def wire_seeds():
    text = (ROOT / "shared/tests/wire.rs").read_text()
    seeds = {}
    # Every version the build reads: `const GOLDEN_V<n>: … = &[ … ];`.
    for version, golden in re.findall(r"const GOLDEN_V(\d+)[^=]*= &\[(.*?)\];", text, re.S):
        # A run of zeros is written `<N zero floats>` (an embedding's padding): expanded here.
        pairs = re.findall(r'\(\s*"([a-z-]+)",\s*"((?:[0-9a-f]|<\d+ zero floats>)+)",?\s*\)', golden)
        if len(pairs) < 7:
            sys.exit(f"seeds.py: found {len(pairs)} version-{version} golden messages in shared/tests/wire.rs")
        seeds.update({f"v{version}-{name}.bin": bytes.fromhex(expand_zeros(h)) for name, h in pairs})
    if not seeds:
        sys.exit("seeds.py: no golden messages in shared/tests/wire.rs")
    return seeds


def expand_zeros(golden):
    """`golden` with each `<N zero floats>` written out as N little-endian 0.0s."""
    return re.sub(r"<(\d+) zero floats>", lambda m: "00000000" * int(m.group(1)), golden)


def pixel(x, y):
    return (x * 32, y * 32, (x + y) * 16, 255 - x * 16)


def exif_orientation(value):
    """A big-endian TIFF block holding one tag: Orientation = value."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, value, 0) + bytes(4)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + ifd


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_rows(depth, samples, xs, ys):
    """Filter-0 scanlines of the gradient for the pixels at xs × ys."""
    out = b""
    for y in ys:
        row = b""
        for x in xs:
            values = pixel(x, y)[:samples] if samples != 1 else (pixel(x, y)[0],)
            for v in values:
                row += struct.pack(">H", v * 257) if depth == 16 else bytes([v])
        out += b"\x00" + row
    return out


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(colour, depth=8, interlace=False, extra=b"", palette=False):
    samples = {0: 1, 2: 3, 6: 4}.get(colour, 1)
    side = range(SIDE)
    if palette:
        raw = b"".join(b"\x00" + bytes((x + y) % 4 for x in side) for y in side)
        extra += png_chunk(b"PLTE", bytes(v for i in range(4) for v in pixel(i * 2, i)[:3]))
        extra += png_chunk(b"tRNS", bytes([0, 128]))
    elif interlace:
        raw = b"".join(
            png_rows(depth, samples, range(x0, SIDE, dx), range(y0, SIDE, dy))
            for x0, y0, dx, dy in ADAM7
        )
    else:
        raw = png_rows(depth, samples, side, side)
    header = struct.pack(">IIBBBBB", SIDE, SIDE, depth, colour, 0, 0, int(interlace))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + extra
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def bmp(bits):
    palette = b"".join(bytes([i * 32, i * 16, 255 - i * 32, 0]) for i in range(8)) if bits == 8 else b""
    stride = (SIDE * bits // 8 + 3) & ~3
    rows = b""
    for y in reversed(range(SIDE)):
        if bits == 8:
            row = bytes((x + y) % 8 for x in range(SIDE))
        else:
            row = b"".join(bytes(reversed(pixel(x, y)[:3])) for x in range(SIDE))
        rows += row.ljust(stride, b"\x00")
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, SIDE, SIDE, 1, bits, 0, len(rows), 2835, 2835, len(palette) // 4, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + palette + rows


def tiff(samples, depth, compression=1, big_endian=False):
    """A one-strip TIFF of the gradient: grey or RGB, 8 or 16 bits, uncompressed (1) or
    PackBits (32773, each row one literal run)."""
    e = ">" if big_endian else "<"
    rows = []
    for y in range(SIDE):
        values = [v for x in range(SIDE) for v in (pixel(x, y)[:3] if samples == 3 else pixel(x, y)[:1])]
        row = b"".join(struct.pack(e + ("H" if depth == 16 else "B"), v * 257 if depth == 16 else v) for v in values)
        rows.append(bytes([len(row) - 1]) + row if compression == 32773 else row)
    strip = b"".join(rows)
    bits_at = 8 + len(strip)
    bits = struct.pack(e + "H" * samples, *[depth] * samples)
    ifd_at = bits_at + len(bits) + (len(bits) % 2)
    entries = [
        (256, 3, 1, SIDE), (257, 3, 1, SIDE),
        (258, 3, samples, bits_at if samples > 2 else depth),
        (259, 3, 1, compression), (262, 3, 1, 2 if samples == 3 else 1),
        (273, 4, 1, 8), (277, 3, 1, samples), (278, 3, 1, SIDE), (279, 4, 1, len(strip)),
    ]
    ifd = struct.pack(e + "H", len(entries))
    for tag, kind, count, value in entries:
        field = struct.pack(e + ("HH" if kind == 3 and count == 1 else "I"), *((value, 0) if kind == 3 and count == 1 else (value,)))
        ifd += struct.pack(e + "HHI", tag, kind, count) + field
    ifd += bytes(4)
    head = (b"MM\x00\x2a" if big_endian else b"II\x2a\x00") + struct.pack(e + "I", ifd_at)
    return head + strip + bits + bytes(len(bits) % 2) + ifd


JPEG = {
    # cjpeg -quality 50 -optimize (4:2:0)
    "baseline.jpg": (
        "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
        "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
        "63ffdb0043011112121815182f1a1a2f63423842636363636363636363636363636363636363636363636363"
        "6363636363636363636363636363636363636363636363636363ffc000110800080008030122000211010311"
        "01ffc4001500010100000000000000000000000000000004ffc4001710010101010000000000000000000000"
        "0000052231ffc4001501010100000000000000000000000000000002ffc4001b110001040300000000000000"
        "00000000000001020304111321ffda000c03010002110311003f009e640e6001ae5c154ae4ba93a7ffd9"
    ),
    # cjpeg -quality 50 -grayscale -optimize
    "grey.jpg": (
        "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
        "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
        "63ffc0000b080008000801011100ffc40014000100000000000000000000000000000004ffc4001710010003"
        "0000000000000000000000000005002231ffda0008010100003f0039806527ffd9"
    ),
    # cjpeg -quality 50 -progressive
    "progressive.jpg": (
        "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
        "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
        "63ffdb0043011112121815182f1a1a2f63423842636363636363636363636363636363636363636363636363"
        "6363636363636363636363636363636363636363636363636363ffc200110800080008030122000211010311"
        "01ffc4001500010100000000000000000000000000000003ffc4001501010100000000000000000000000000"
        "000001ffda000c03010002100310000001985fffc4001510010100000000000000000000000000000300ffda"
        "000801010001050230bfffc40017110003010000000000000000000000000000020312ffda0008010301013f"
        "018d9b27ffc4001511010100000000000000000000000000000100ffda0008010201013f011bffc400141001"
        "00000000000000000000000000000000ffda0008010100063f027fffc4001510010100000000000000000000"
        "000000000061ffda0008010100013f219bffda000c0301000200030000001003ffc400161100030000000000"
        "000000000000000000001121ffda0008010301013f10574fffc4001611000300000000000000000000000000"
        "00000111ffda0008010201013f10643fffc4001510010100000000000000000000000000000031ffda000801"
        "0100013f109bffd9"
    ),
    # cjpeg -quality 50 -restart 1B -sample 1x1 -optimize (4:4:4, restart markers)
    "restart-444.jpg": (
        "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
        "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
        "63ffdb0043011112121815182f1a1a2f63423842636363636363636363636363636363636363636363636363"
        "6363636363636363636363636363636363636363636363636363ffc000110800080008030111000211010311"
        "01ffc40014000100000000000000000000000000000004ffc400171001000300000000000000000000000000"
        "05002231ffc40014010100000000000000000000000000000000ffc400181100030101000000000000000000"
        "0000000002042131ffdd00040001ffda000c03010002110311003f00398065211c417f34ffd9"
    ),
}
WEBP = {
    # cwebp -q 50
    "lossy.webp": (
        "5249464640000000574542505650382034000000d001009d012a0800080002c04c25a8027400f431ae280000"
        "fef4b8006a1c47a6fb6d1119b4d293ff6aeffebb7c8afb7f65000000"
    ),
    # cwebp -lossless
    "lossless.webp": (
        "524946462c000000574542505650384c200000002f07c00100998ce87f6c0a518882f73f2024204cf17fa7e6"
        "c080444c00d8de00"
    ),
    # cwebp -q 50 -alpha_q 50, from an RGBA PNG of the gradient
    "alpha.webp": (
        "524946467a00000057454250565038580a00000010000000070000070000414c504821000000113fa0906d04"
        "c8df7606f74244448a0761b691c258c63296f3ff9e4144ff03db07005650382032000000b001009d012a0800"
        "080002c04c25a8027400f431ada800fef4b8006a1c47a6fb6d1119b527e9ffb577fee11d68fc577b0000"
    ),
}


def image_seeds():
    seeds = {
        "grey8.png": png(0),
        "grey16.png": png(0, depth=16),
        "rgb8.png": png(2),
        "rgba8.png": png(6),
        "rgba16.png": png(6, depth=16),
        "palette-trns.png": png(3, palette=True),
        "interlaced.png": png(2, interlace=True),
        "exif-rotated.png": png(2, extra=png_chunk(b"eXIf", exif_orientation(6))),
        "rgb24.bmp": bmp(24),
        "palette8.bmp": bmp(8),
        "rgb8.tif": tiff(3, 8),
        "rgb16-big-endian.tif": tiff(3, 16, big_endian=True),
        "grey8-packbits.tif": tiff(1, 8, compression=32773),
    }
    seeds.update({name: bytes.fromhex(h) for name, h in JPEG.items()})
    seeds.update({name: bytes.fromhex(h) for name, h in WEBP.items()})
    app1 = b"Exif\x00\x00" + exif_orientation(6)
    base = seeds["baseline.jpg"]
    seeds["exif-rotated.jpg"] = base[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + base[2:]
    fixtures = ROOT / "models/tests/fixtures"
    for fixture in sorted([*fixtures.glob("*.jpg"), *fixtures.glob("*.png")]):
        seeds[f"regression-{fixture.name}"] = fixture.read_bytes()
    return seeds


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py OUT_DIR")
    out = Path(sys.argv[1])
    for target, seeds in [("wire_decode", wire_seeds()), ("image_input", image_seeds())]:
        (out / target).mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (out / target / f"seed-{name}").write_bytes(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
