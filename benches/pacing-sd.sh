#!/usr/bin/env bash
# Each drive at its own pace, at SD-card speed (issue 10): one image to 1
# drive, to 16, to 8 fast ones alone, and to 8 fast + 8 slow ones at once.
# Every loop device is throttled like an A1 card (FAST_BPS write, READ_BPS
# read), the slow ones to SLOW_BPS, with the kernel's block I/O throttling
# for the benchmark's own processes only (cgroup v2 io.max, else v1
# blkio.throttle.*), as benches/sparse-sd.sh does. Not a timed test: it
# prints figures — each case's wall time, when the fast drives were done,
# and the peak RSS (GNU time's maximum resident set size).
#
#   sudo benches/pacing-sd.sh
#   FORMAT=raw IMAGE_MIB=256 sudo benches/pacing-sd.sh
#
# The image (IMAGE_MIB, default 256, so 16 targets' worth fits the issue's
# memory figure): MBR; a FAT32 boot partition with 24 MiB of files; an ext4
# root with ~100 MiB of files (random and text-like): about half used.
# FORMAT xz (default: decoded once into the spool) or raw (each drive that
# falls behind reads the file itself). Everything lives in
# /dev/shm/imprint-pacing.PID and is removed on exit; only loop devices
# attached here are written.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
image_mib="${IMAGE_MIB:-256}"
fast_bps="${FAST_BPS:-40000000}"
slow_bps="${SLOW_BPS:-10000000}"
read_bps="${READ_BPS:-90000000}"
format="${FORMAT:-xz}"
drives=16

bench_require pacing-sd losetup sfdisk mkfs.ext4 mkfs.vfat mcopy xz dd bc /usr/bin/time
bench_build --no-default-features --bin imprint
bench_workdir pacing

make_image() {
    local img="$1" files="$work/files"
    bench_os_files "$files" 24 16 7
    local boot_mib=64 root_mib=$((image_mib - 4 - 64 - 1))
    truncate -s "${image_mib}M" "$img"
    sfdisk --quiet --no-reread --no-tell-kernel "$img" <<TABLE
label: dos
unit: sectors
start=8192, size=$((boot_mib * 2048)), type=c, bootable
start=$(((4 + boot_mib) * 2048)), size=$((root_mib * 2048)), type=83
TABLE
    mkfs.vfat -F 32 -C "$work/boot.fat" $((boot_mib * 1024)) >/dev/null
    mcopy -s -i "$work/boot.fat" "$files/boot/kernel.img" ::/
    mkfs.ext4 -q -F -d "$files/root" "$work/root.ext4" "${root_mib}M" >/dev/null
    dd if="$work/boot.fat" of="$img" bs=1M seek=4 conv=notrunc status=none
    dd if="$work/root.ext4" of="$img" bs=1M seek=$((4 + boot_mib)) conv=notrunc status=none
    rm -rf "$files" "$work/boot.fat" "$work/root.ext4"
}

# Sets the write limit of loop devices "$2…" to $1 bytes per second.
limit() {
    local bps="$1" dev devno
    shift
    for dev in "$@"; do
        devno="$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ')"
        if [[ -f $cgroup/io.max ]]; then
            echo "$devno wbps=$bps rbps=$read_bps" >"$cgroup/io.max"
        else
            echo "$devno $bps" >"$cgroup/blkio.throttle.write_bps_device"
            echo "$devno $read_bps" >"$cgroup/blkio.throttle.read_bps_device"
        fi
    done
}

# Flashes the image to loop devices "$@" inside the throttled cgroup. Sets
# `wall` (seconds until exit), `done_at` (device → seconds until its
# target_done) and `rss_mib` (peak RSS).
declare -A done_at
run() {
    local args=() dev start line at target
    for dev in "$@"; do args+=(-t "$dev"); done
    done_at=()
    start="$EPOCHREALTIME"
    while IFS= read -r line; do
        case $line in
        *'"event":"target_done"'*)
            at="$EPOCHREALTIME"
            [[ $line == *'"ok":true'* ]] || { log "pacing-sd: a drive failed: $line"; exit 1; }
            target="${line#*\"target\":\"}"
            target="${target%%\"*}"
            done_at[$target]="$(echo "$at - $start" | bc -l)"
            ;;
        esac
    done < <(
        echo "$BASHPID" >"$cgroup/cgroup.procs"
        exec /usr/bin/time -f %M -o "$work/rss" "$IMPRINT" flash "$image" "${args[@]}" --yes --json
    )
    wall="$(echo "$EPOCHREALTIME - $start" | bc -l)"
    rss_mib="$(($(tail -1 "$work/rss") / 1024))"
}

# The latest target_done among devices "$@", in seconds.
latest() {
    local dev max=0
    for dev in "$@"; do
        if (($(echo "${done_at[$dev]} > $max" | bc -l))); then max="${done_at[$dev]}"; fi
    done
    printf '%.2f' "$max"
}

raw="$work/os.img"
log "making a ${image_mib} MiB image with FAT32 + ext4 partitions in $work"
make_image "$raw"
case $format in
xz) xz -T0 -1 -k "$raw"; image="$raw.xz" ;;
raw) image="$raw" ;;
*) log "pacing-sd: FORMAT is xz or raw"; exit 2 ;;
esac
size_bytes="$(stat -c %s "$raw")"
for ((i = 0; i < drives; i++)); do
    truncate -s "$size_bytes" "$work/target$i"
    loops+=("$(losetup --find --show "$work/target$i")")
done
fast=("${loops[@]:0:8}")
slow=("${loops[@]:8:8}")
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    echo +io >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    cgroup="/sys/fs/cgroup/imprint-pacing.$$"
else
    cgroup="/sys/fs/cgroup/blkio/imprint-pacing.$$"
fi
mkdir "$cgroup"
limit "$fast_bps" "${loops[@]}"
log "image $image ($size_bytes bytes decoded); $drives loop devices at $fast_bps B/s write, $read_bps B/s read"

printf '%-34s %8s %12s %9s\n' case seconds "fast 8 done" "RSS MiB"
run "${loops[0]}"
t_one="$(latest "${loops[0]}")"
printf '%-34s %8.2f %12s %9s\n' "1 drive alone" "$wall" "" "$rss_mib"
run "${loops[@]}"
t_all="$(latest "${loops[@]}")"
printf '%-34s %8.2f %12s %9s\n' "16 drives, same speed" "$wall" "" "$rss_mib"
run "${fast[@]}"
t_fast_alone="$(latest "${fast[@]}")"
printf '%-34s %8.2f %12s %9s\n' "8 fast drives alone" "$wall" "$t_fast_alone" "$rss_mib"
limit "$slow_bps" "${slow[@]}"
run "${loops[@]}"
t_fast_mixed="$(latest "${fast[@]}")"
printf '%-34s %8.2f %12s %9s\n' "8 fast + 8 slow ($slow_bps B/s)" "$wall" "$t_fast_mixed" "$rss_mib"
printf '\n16 drives / 1 drive:                      %.2f\n' "$(echo "$t_all / $t_one" | bc -l)"
printf 'fast 8 among slow / fast 8 alone:         %.2f\n' "$(echo "$t_fast_mixed / $t_fast_alone" | bc -l)"
printf 'fast 8 among slow / 1 drive alone:        %.2f\n' "$(echo "$t_fast_mixed / $t_one" | bc -l)"
