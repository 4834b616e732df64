#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target to fuzz/seeds/.

Each seed is a valid input its target accepts (tests/fuzz_replay.rs checks
that). Images lose their trailing zeros: the targets zero-extend them again.
Needs xz, zstd, mkfs.fat and mcopy (dosfstools, mtools).
"""

import io
import lzma
import os
import struct
import subprocess
import tempfile
import zipfile
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def save(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "valid-" + name), "wb") as f:
        f.write(data)


def run(args, data=None):
    return subprocess.run(args, input=data, check=True, capture_output=True).stdout


def trimmed(data):
    return data.rstrip(b"\0")


def pattern(n):
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


# sniff: one per format.
for name, head in [
    ("xz", b"\xfd7zXZ\x00\x00\x04"),
    ("gzip", b"\x1f\x8b\x08\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd\x24\x00"),
    ("zstd-skippable", b"\x50\x2a\x4d\x18\x04\x00"),
    ("bzip2", b"BZh91AY&SY"),
    ("zip", b"PK\x03\x04\x14\x00"),
    ("zip-empty", b"PK\x05\x06\x00\x00"),
]:
    save("sniff", name, head)

# xz_index: one stream, blocks, concatenated streams with padding.
save("xz_index", "one-stream", run(["xz", "-c", "-0"], pattern(5000)))
save("xz_index", "empty", run(["xz", "-c"], b""))
save("xz_index", "blocks", run(["xz", "-c", "-0", "--block-size=1000"], pattern(4000)))
save(
    "xz_index",
    "two-streams-padded",
    run(["xz", "-c", "-0"], b"a" * 300) + b"\0" * 8 + run(["xz", "-c", "-0"], b"b" * 40),
)

# zstd_frames: content size in the header, several frames, a skippable frame.
def zstd(data, *args):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return run(["zstd", "-q", "-c", *args, f.name])


save("zstd_frames", "one-frame", zstd(pattern(200_000), "-1"))
save("zstd_frames", "rle", zstd(b"\0" * 70_000, "-1"))
save("zstd_frames", "checksum", zstd(b"tail" * 10, "-19", "--check"))
save(
    "zstd_frames",
    "skippable-and-frames",
    struct.pack("<II", 0x184D2A50, 3) + b"xyz" + zstd(b"one", "-1") + zstd(b"two" * 100, "-3"),
)

# zip_archive: each method, with the clutter real archives hold.
for method, name in [
    (zipfile.ZIP_STORED, "stored"),
    (zipfile.ZIP_DEFLATED, "deflated"),
    (zipfile.ZIP_BZIP2, "bzip2"),
    (zipfile.ZIP_LZMA, "lzma"),
]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr("dist/", b"")
        z.writestr("__MACOSX/dist/._balena.img", b"\0\5\26\7")
        z.writestr("dist/balena.img", pattern(3000))
        z.writestr("dist/balena.img.sha256", b"0" * 64)
    save("zip_archive", name, buf.getvalue())


# partition_table: MBR primaries with FAT boot sectors, an EBR chain, GPT.
def mbr_entry(image, base, slot, sys, start, sectors):
    at = base + 446 + slot * 16
    image[at + 4] = sys
    image[at + 8 : at + 16] = struct.pack("<II", start, sectors)
    image[base + 510 : base + 512] = b"\x55\xaa"


def fat(size_kib, label, files=(), fat_bits=12, extra=()):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fat.img")
        run(["mkfs.fat", "-C", "-F", str(fat_bits), "-n", label, *extra, path, str(size_kib)])
        for name, contents in files:
            src = os.path.join(tmp, name.replace("/", "_"))
            with open(src, "wb") as f:
                f.write(contents)
            if "/" in name:
                run(["mmd", "-i", path, "::" + name.split("/")[0]])
            run(["mcopy", "-i", path, src, "::" + name])
        with open(path, "rb") as f:
            return f.read()


small_fat = fat(64, "RESIN-BOOT")
image = bytearray(48 << 10)
mbr_entry(image, 0, 0, 0x0C, 8, 64)
mbr_entry(image, 0, 1, 0x05, 72, 20)
mbr_entry(image, 72 * 512, 0, 0x83, 1, 9)
mbr_entry(image, 72 * 512, 1, 0x05, 10, 10)
mbr_entry(image, 82 * 512, 0, 0x0C, 1, 9)
image[8 * 512 : 9 * 512] = small_fat[:512]
image[83 * 512 : 84 * 512] = small_fat[:512]
save("partition_table", "mbr-logical", trimmed(bytes(image)))

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "gpt.img")
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    run(
        ["sfdisk", "--no-reread", "--no-tell-kernel", "-q", path],
        b"label: gpt\nfirst-lba: 34\nstart=34, size=128, name=resin-boot\nstart=162, size=64\n",
    )
    with open(path, "rb") as f:
        gpt = bytearray(f.read())
    gpt[34 * 512 : 35 * 512] = small_fat[:512]
    save("partition_table", "gpt", trimmed(bytes(gpt[: 64 << 10])))

# find_boot: labelled FAT; unlabelled FATs found by /device-type.json, one
# naming another partition; GPT names.
DEVICE_TYPE = b'{"slug":"raspberrypi4-64","configuration":{"config":{"partition":%d}}}'


def mbr_image(parts):
    """parts: (sys, fat bytes) from LBA 1 on, in order."""
    image = bytearray(512)
    lba = 1
    for slot, (sys, volume) in enumerate(parts):
        mbr_entry(image, 0, slot, sys, lba, len(volume) // 512)
        image += volume
        lba += len(volume) // 512
    return trimmed(bytes(image))


save("find_boot", "label", mbr_image([(0x0E, fat(64, "RESIN-BOOT"))]))
save(
    "find_boot",
    "device-type-json",
    mbr_image(
        [
            (0x83, b"\1" * 4096),
            (0x0C, fat(64, "NO NAME", [("device-type.json", DEVICE_TYPE % 3)])),
            (0x0C, fat(64, "DATA", [("system-connections/old", b"[connection]\n")])),
        ]
    ),
)
save("find_boot", "first-fat", mbr_image([(0x0B, fat(64, "NO NAME"))]))

# fat_configure: FAT12, FAT16 and FAT32 boot partitions, with a device-type
# and an existing connections folder.
save("fat_configure", "fat12", trimmed(fat(64, "RESIN-BOOT", [("device-type.json", DEVICE_TYPE % 1)])))
save(
    "fat_configure",
    "fat12-existing-dir",
    trimmed(fat(128, "BALENA-BOOT", [("system-connections/x", b"[wifi]\n"), ("config.json", b"{}")])),
)
save("fat_configure", "fat16", trimmed(fat(2100, "FLASH-BOOT", fat_bits=16, extra=["-s", "1"])))
save(
    "fat_configure",
    "fat32",
    trimmed(fat(33 * 1024, "RESIN-BOOT", fat_bits=32, extra=["-s", "1", "-f", "1", "-R", "8"])),
)

# config_json: configs as balena-cli writes them.
save("config_json", "minimal", b"{}")
save(
    "config_json",
    "balena",
    b'{\n  "applicationId": 1234567,\n  "deviceType": "raspberrypi4-64",\n  "userId": 1,\n'
    b'  "apiEndpoint": "https://api.balena-cloud.com",\n  "persistentLogging": false,\n'
    b'  "os": {"network": {"wifi": {"randomMacAddressScan": false}}},\n'
    b'  "uuid": "\\u00e9t\\u00e9", "float": -1.5e-7, "list": [null, true, {}]\n}\n',
)
save(
    "config_json",
    "device-type",
    b'{"slug":"fincm3","configuration":{"config":{"partition":{"primary":4,"logical":1}}}}',
)

# bmap: bmap files as bmaptool writes them (format 1.2 without checksums,
# 1.3 with SHA-1, 2.0 with SHA-256), for a 10-block image of a pattern.
def bmap_file(version, image, ranges, block=4096):
    import hashlib

    kind, element, attribute = {
        "1.2": (None, None, None),
        "1.3": ("sha1", "BmapFileSHA1", "sha1"),
        "2.0": ("sha256", "BmapFileChecksum", "chksum"),
    }[version]
    blocks = -(-len(image) // block)
    mapped = sum(last - first + 1 for first, last in ranges)
    text = '<?xml version="1.0" ?>\n<!-- a block map -->\n<bmap version="%s">\n' % version
    text += "    <ImageSize> %d </ImageSize>\n    <BlockSize> %d </BlockSize>\n" % (len(image), block)
    text += "    <BlocksCount> %d </BlocksCount>\n" % blocks
    text += "    <MappedBlocksCount> %d    </MappedBlocksCount>\n" % mapped
    zeros = None
    if kind:
        zeros = "0" * len(hashlib.new(kind).hexdigest())
        if version != "1.3":
            text += "    <ChecksumType> %s </ChecksumType>\n" % kind
        text += "    <%s> %s </%s>\n" % (element, zeros, element)
    text += "    <BlockMap>\n"
    for first, last in ranges:
        name = "%d" % first if first == last else "%d-%d" % (first, last)
        checksum = ""
        if kind:
            data = image[first * block : (last + 1) * block]
            checksum = ' %s="%s"' % (attribute, hashlib.new(kind, data).hexdigest())
        text += "        <Range%s> %s </Range>\n" % (checksum, name)
    text += "    </BlockMap>\n</bmap>\n"
    if kind:
        text = text.replace(zeros, hashlib.new(kind, text.encode()).hexdigest(), 1)
    return text.encode()


# The checker runs the seeds over a zero image: zero blocks make the ranges
# match, so the whole checker is covered.
BMAP_IMAGE = bytes(10 * 4096 - 100)
for version in ["1.2", "1.3", "2.0"]:
    save("bmap", "v" + version, bmap_file(version, BMAP_IMAGE, [(0, 1), (4, 4), (6, 9)]))
