#!/usr/bin/env bash
# A first flash and a re-flash of the same image, raw, to one loop device in
# RAM, the build before compare-before-write (IMPRINT_OLD) against this one
# (IMPRINT), alternating in one run so that the shared machine's load hits
# both alike. Not a timed test: it prints seconds and the bytes written.
#
#   IMPRINT_OLD=/path/to/old/imprint sudo -E benches/reflash.sh
#
# The image is sparse-sd.sh's (IMAGE_MIB, default 1024: FAT32 boot, ext4
# root with files, empty ext4 data; about a quarter used). Everything lives
# in /dev/shm/imprint-reflash.PID, removed on exit; only the loop device
# attached here is written.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
image_mib="${IMAGE_MIB:-1024}"
runs="${RUNS:-2}"

bench_require reflash losetup sfdisk mkfs.ext4 mkfs.vfat mcopy debugfs dd
bench_build
[[ -x ${IMPRINT_OLD:-} ]] || { echo "reflash: set IMPRINT_OLD to the build to compare with" >&2; exit 2; }
bench_workdir reflash

make_image() {
    local img="$1" files="$work/files"
    bench_os_files "$files" 40 30 15
    local boot_mib=256 root_mib=512 data_mib=$((image_mib - 4 - 256 - 512 - 1))
    truncate -s "${image_mib}M" "$img"
    sfdisk --quiet --no-reread --no-tell-kernel "$img" <<TABLE
label: dos
unit: sectors
start=8192, size=$((boot_mib * 2048)), type=c, bootable
start=$(((4 + boot_mib) * 2048)), size=$((root_mib * 2048)), type=83
start=$(((4 + boot_mib + root_mib) * 2048)), size=$((data_mib * 2048)), type=83
TABLE
    mkfs.vfat -F 32 -C "$work/boot.fat" $((boot_mib * 1024)) >/dev/null
    mcopy -s -i "$work/boot.fat" "$files/boot/kernel.img" ::/
    mkfs.ext4 -q -F -d "$files/root" "$work/root.ext4" "${root_mib}M" >/dev/null
    mkfs.ext4 -q -F "$work/data.ext4" "${data_mib}M" >/dev/null
    dd if="$work/boot.fat" of="$img" bs=1M seek=4 conv=notrunc status=none
    dd if="$work/root.ext4" of="$img" bs=1M seek=$((4 + boot_mib)) conv=notrunc status=none
    dd if="$work/data.ext4" of="$img" bs=1M seek=$((4 + boot_mib + root_mib)) conv=notrunc status=none
    rm -rf "$files" "$work/boot.fat" "$work/root.ext4" "$work/data.ext4"
}

image="$work/os.img"
make_image "$image"
truncate -s "$((image_mib + 64))M" "$work/target"
loop="$(losetup --find --show "$work/target")"
loops+=("$loop")

# flash BINARY LABEL: one verified flash; prints seconds and what it wrote.
flash() {
    local start end line
    start="$(date +%s.%N)"
    line="$("$1" flash "$image" -t "$loop" --yes --no-probe --json | grep '"target_done"')"
    end="$(date +%s.%N)"
    grep -q '"ok":true' <<<"$line" || { log "$2 failed: $line"; exit 1; }
    printf '%-28s %6.2f s  written %s  matched %s\n' "$2" "$(echo "$end - $start" | bc)" \
        "$(grep -o '"written_bytes":[0-9]*' <<<"$line" | cut -d: -f2)" \
        "$(grep -o '"matched_bytes":[0-9]*' <<<"$line" | cut -d: -f2 || echo -)"
}

# fresh: the target all zeros again, as a new card.
fresh() { dd if=/dev/zero of="$loop" bs=4M oflag=direct status=none count=$(((image_mib + 64) / 4)); }

log "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((run = 1; run <= runs; run++)); do
    fresh; flash "$IMPRINT_OLD" "old fresh"
    flash "$IMPRINT_OLD" "old re-flash"
    fresh; flash "$IMPRINT" "new fresh"
    flash "$IMPRINT" "new re-flash"
done
log "load: $(cut -d' ' -f1-3 /proc/loadavg)"
