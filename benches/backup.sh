#!/usr/bin/env bash
# `imprint backup` at SD-card read speed: a loop device throttled to 90 MB/s
# read (cgroup v2 io.max, else cgroup v1 blkio, for the benchmark's own
# processes; reads are O_DIRECT so the throttle sees every one) holding a
# 1 GiB OS-like image about a quarter used, backed up three ways:
#
#   limit     dd iflag=direct of as many bytes as the image has in use,
#             sequentially: the least time any backup of them can take
#   whole     dd if=DEV iflag=direct bs=4M | zstd -T0: every byte
#   imprint   imprint backup DEV -o os.img.zst (map, used bytes, zstd -T0,
#             image SHA-256, bmap with a SHA-256 per range)
#
# Goal: imprint within 1.15x the limit and at least 3x faster than whole.
# Not a timed test: it prints figures.
#
#   sudo benches/backup.sh
#   IMPRINT=target/debug/imprint READ_BPS=20000000 sudo benches/backup.sh
#
# The image (IMAGE_MIB, default 1024): MBR; a FAT32 boot partition with
# 40 MiB of files; an ext4 root with ~200 MiB of files (random and
# text-like), one deleted and rewritten; an empty ext4 data partition.
# Everything lives in /dev/shm/imprint-backup.PID and is removed on exit;
# the loop device attached here is only read.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
image_mib="${IMAGE_MIB:-1024}"
read_bps="${READ_BPS:-90000000}"

bench_require backup losetup sfdisk mkfs.ext4 mkfs.vfat mcopy debugfs dd zstd bc lsblk
bench_build
bench_workdir backup

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
    debugfs -w -R "rm /blob2" "$work/root.ext4" >/dev/null 2>&1
    debugfs -w -R "write $files/root/blob2 blob2b" "$work/root.ext4" >/dev/null 2>&1
    mkfs.ext4 -q -F "$work/data.ext4" "${data_mib}M" >/dev/null
    dd if="$work/boot.fat" of="$img" bs=1M seek=4 conv=notrunc status=none
    dd if="$work/root.ext4" of="$img" bs=1M seek=$((4 + boot_mib)) conv=notrunc status=none
    dd if="$work/data.ext4" of="$img" bs=1M seek=$((4 + boot_mib + root_mib)) conv=notrunc status=none
    rm -rf "$files" "$work/boot.fat" "$work/root.ext4" "$work/data.ext4"
}

# Runs "$@" in the throttled cgroup; prints the seconds it took.
throttled_seconds() {
    local start end
    sync
    echo 3 >/proc/sys/vm/drop_caches
    start="$(date +%s.%N)"
    (
        echo "$BASHPID" >"$cgroup/cgroup.procs"
        "$@"
    ) >"$work/last-stdout" 2>"$work/last-stderr" || {
        log "backup: failed: $*"
        cat "$work/last-stderr" >&2
        return 1
    }
    end="$(date +%s.%N)"
    printf '%.2f' "$(echo "$end - $start" | bc -l)"
}

image="$work/os.img"
log "making a ${image_mib} MiB image with FAT32 + 2 ext4 partitions in $work"
make_image "$image"
size_bytes="$(stat -c %s "$image")"
loop="$(losetup --find --show "$image")"
loops=("$loop")
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    cgroup="/sys/fs/cgroup/imprint-backup.$$"
else
    cgroup="/sys/fs/cgroup/blkio/imprint-backup.$$"
fi
mkdir "$cgroup"
devno="$(lsblk -dno MAJ:MIN "$loop" | tr -d ' ')"
if [[ -f $cgroup/io.max ]]; then
    echo "$devno rbps=$read_bps" >"$cgroup/io.max"
else
    echo "$devno $read_bps" >"$cgroup/blkio.throttle.read_bps_device"
fi
log "source $loop ($size_bytes bytes), throttled to $read_bps B/s read"

whole() { dd if="$loop" iflag=direct bs=4M status=none | zstd -T0 -q -c >"$work/whole.img.zst"; }
backup() {
    local TIMEFORMAT='imprint backup used %U s user + %S s system CPU'
    time "$IMPRINT" backup "$loop" -o "$work/os.img.zst"
}

t_imprint="$(throttled_seconds backup)"
cpu_line="$(grep -o 'imprint backup used .*CPU' "$work/last-stderr")"
read_line="$(grep -o 'read: [0-9]* bytes ([0-9]* used, [0-9]* metadata)' "$work/last-stderr")"
used="$(echo "$read_line" | sed -E 's/.*\(([0-9]+) used.*/\1/')"
limit_blocks=$(((used + (4 << 20) - 1) / (4 << 20)))
t_limit="$(throttled_seconds dd if="$loop" of=/dev/null iflag=direct bs=4M count="$limit_blocks" status=none)"
t_whole="$(throttled_seconds whole)"

printf 'image %s bytes, %s used (%s%%); %s\n' "$size_bytes" "$used" \
    "$(printf '%.1f' "$(echo "100 * $used / $size_bytes" | bc -l)")" "$read_line"
printf '%-52s %9s %14s\n' case seconds output
printf '%-52s %9s %14s\n' "limit: dd iflag=direct of the used bytes only" "$t_limit" ""
printf '%-52s %9s %14s\n' "whole: dd if=DEV iflag=direct | zstd -T0" "$t_whole" "$(stat -c %s "$work/whole.img.zst")"
printf '%-52s %9s %14s\n' "imprint backup -o os.img.zst" "$t_imprint" "$(stat -c %s "$work/os.img.zst")"
printf '%s; load average %s\n' "$cpu_line" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'imprint / limit: %.2f (goal <= 1.15); whole / imprint: %.2f (goal >= 3)\n' \
    "$(echo "$t_imprint / $t_limit" | bc -l)" "$(echo "$t_whole / $t_imprint" | bc -l)"
