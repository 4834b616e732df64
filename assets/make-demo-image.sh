#!/usr/bin/env bash
# Makes assets/demo.img.xz: a small balenaOS-shaped disk image for trying
# Imprint and for tests that need a boot partition to configure.
#
#   8 MiB, MBR (disk id 0x1d1e2f3a)
#   p1  1 MiB..5 MiB  type 0x0e  FAT16 labelled "resin-boot" (volume id
#                                1D1E-2F3A): config.json,
#                                device-type.json (raspberrypi4-64,
#                                configuration.config.partition = 1),
#                                os-release, system-connections/README.ignore
#   p2  5 MiB..8 MiB  type 0x83  ext4 labelled "resin-rootA": a tiny /etc
#
# Reproducible: the same bytes on every run with the same tool versions.
# Every identifier is fixed (volume id, UUIDs, hash seed) and every timestamp
# comes from SOURCE_DATE_EPOCH (mtools, touch) or E2FSPROGS_FAKE_TIME
# (mke2fs); xz runs single-threaded so block layout does not depend on the
# machine. Needs no root: the filesystems are built in files and copied in.
#
# Usage: assets/make-demo-image.sh [OUTPUT.img.xz]   (default: assets/demo.img.xz)
# Tools: sfdisk (fdisk), mkfs.fat (dosfstools), mmd/mcopy (mtools),
#        mkfs.ext4 and debugfs (e2fsprogs), xz (xz-utils).

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
output="${1:-$here/demo.img.xz}"

# 2024-01-01 00:00:00 UTC: an arbitrary fixed instant.
export SOURCE_DATE_EPOCH=1704067200
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
export TZ=UTC LC_ALL=C
# mtools refuses images whose geometry it cannot check; ours has none.
export MTOOLS_SKIP_CHECK=1

for tool in sfdisk mkfs.fat mmd mcopy mkfs.ext4 debugfs xz; do
    command -v "$tool" >/dev/null || {
        echo "make-demo-image: $tool not found (apt-get install fdisk dosfstools mtools e2fsprogs xz-utils)" >&2
        exit 1
    }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

readonly sector_bytes=512
readonly mib_sectors=$((1024 * 1024 / sector_bytes))
readonly disk_mib=8 boot_start_mib=1 boot_mib=4 root_start_mib=5 root_mib=3

# ---- boot partition contents ------------------------------------------------
boot="$work/boot"
mkdir -p "$boot/system-connections"

# What an unconfigured balenaOS image ships: no application, no API key.
cat >"$boot/config.json" <<'JSON'
{"deviceType":"raspberrypi4-64","persistentLogging":false,"localMode":true,"hostname":"balena"}
JSON

cat >"$boot/device-type.json" <<'JSON'
{
  "slug": "raspberrypi4-64",
  "name": "Raspberry Pi 4 (using 64bit OS)",
  "arch": "aarch64",
  "state": "released",
  "version": 1,
  "instructions": [
    "Write the OS file you downloaded to your SD card.",
    "Insert the freshly burnt SD card into the Raspberry Pi 4.",
    "Connect power to the Raspberry Pi 4 to boot the device."
  ],
  "yocto": {
    "machine": "raspberrypi4-64",
    "image": "balena-image",
    "fstype": "balenaos-img",
    "deployArtifact": "balena-image-raspberrypi4-64.balenaos-img"
  },
  "configuration": {
    "config": {
      "partition": 1,
      "path": "/config.json"
    }
  },
  "initialization": {
    "options": [
      { "isDataOption": true, "name": "network", "message": "Network", "type": "list", "choices": ["ethernet", "wifi"] }
    ],
    "operations": []
  }
}
JSON

cat >"$boot/os-release" <<'EOF_OS'
ID="balena-os"
NAME="balenaOS"
VERSION="6.0.0"
VERSION_ID="6.0.0"
PRETTY_NAME="balenaOS 6.0.0 (Imprint demo image)"
MACHINE="raspberrypi4-64"
VARIANT="development"
VARIANT_ID=dev
META_BALENA_VERSION="6.0.0"
SLUG="raspberrypi4-64"
EOF_OS

cat >"$boot/system-connections/README.ignore" <<'EOF_README'
Put NetworkManager connection profiles (keyfiles) in this folder to configure
networking on first boot, for example a WiFi profile named balena-wifi-01.
Files ending in .ignore are not read.

This is the Imprint demo image: it boots nothing, it only looks like
balenaOS so that configuring it can be tried.
EOF_README

# ---- root partition contents ------------------------------------------------
root="$work/root"
mkdir -p "$root/etc"
cp "$boot/os-release" "$root/etc/os-release"
echo balena >"$root/etc/hostname"
cat >"$root/README" <<'EOF_ROOT'
Imprint demo image, root filesystem. Nothing to run here.
EOF_ROOT

# Every file and folder gets the fixed timestamp and fixed permissions.
find "$boot" "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
find "$boot" "$root" -type d -exec chmod 0755 {} +
find "$boot" "$root" -type f -exec chmod 0644 {} +

# ---- filesystems ------------------------------------------------------------
boot_img="$work/boot.fat"
truncate -s "${boot_mib}M" "$boot_img"
# --invariant fixes mkfs.fat's time-based fields (and a volume id, which the
# -i after it overrides). The hidden-sectors field (-h) must say where the
# partition starts.
# balenaOS spells its label in lower case; mkfs.fat warns about that.
mkfs.fat -F 16 -s 1 -n resin-boot --invariant -i 1D1E2F3A \
    -h $((boot_start_mib * mib_sectors)) "$boot_img" >/dev/null 2>&1
mmd -i "$boot_img" ::/system-connections
mcopy -m -i "$boot_img" "$boot/config.json" "$boot/device-type.json" "$boot/os-release" ::/
mcopy -m -i "$boot_img" "$boot/system-connections/README.ignore" ::/system-connections/
# The oracle the engine's own FAT edits are held to.
if command -v fsck.fat >/dev/null; then
    fsck.fat -n "$boot_img" >/dev/null
fi

root_img="$work/root.ext4"
truncate -s "${root_mib}M" "$root_img"
mkfs.ext4 -q -F -b 1024 -L resin-rootA -d "$root" \
    -U 6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f \
    -E root_owner=0:0,hash_seed=0b5e3a1c-2d4f-4a6b-8c7d-9e0f1a2b3c4d \
    -O ^has_journal "$root_img"
# mke2fs -d copies each inode's times from the source file: a ctime cannot
# be set on the host, and reading a folder moves its atime (relatime). Rewrite
# them all; debugfs recomputes the inode checksums.
(cd "$root" && find . -mindepth 1) | sed 's|^\.||' | while read -r path; do
    for field in atime ctime mtime; do
        echo "set_inode_field $path $field @$SOURCE_DATE_EPOCH"
    done
done >"$work/ctimes.debugfs"
debugfs -w -f "$work/ctimes.debugfs" "$root_img" >/dev/null 2>&1

# ---- the disk -----------------------------------------------------------------
disk="$work/demo.img"
truncate -s "${disk_mib}M" "$disk"
sfdisk --quiet --no-reread --no-tell-kernel "$disk" <<EOF_TABLE
label: dos
label-id: 0x1d1e2f3a
unit: sectors

start=$((boot_start_mib * mib_sectors)), size=$((boot_mib * mib_sectors)), type=e, bootable
start=$((root_start_mib * mib_sectors)), size=$((root_mib * mib_sectors)), type=83
EOF_TABLE
dd if="$boot_img" of="$disk" bs=1M seek="$boot_start_mib" conv=notrunc status=none
dd if="$root_img" of="$disk" bs=1M seek="$root_start_mib" conv=notrunc status=none

xz -9e --threads=1 --check=crc64 -c "$disk" >"$work/demo.img.xz"
mv "$work/demo.img.xz" "$output"
echo "$output: $(stat -c %s "$output") bytes, image sha256 $(sha256sum <"$disk" | cut -d' ' -f1)"
