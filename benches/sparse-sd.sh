#!/usr/bin/env bash
# Sparse writing at SD-card speed: Imprint (default: only used bytes) against
# Imprint --full and `dd oflag=direct` (whole image, no verification), to one
# and four loop devices, each throttled like an A1 card (40 MB/s write,
# 90 MB/s read) with the
# kernel's block I/O throttling for the benchmark's own processes only
# (cgroup v2 io.max, else cgroup v1 blkio.throttle.*; direct I/O is
# throttled, buffered is not). Not a timed test: it prints figures.
#
#   sudo benches/sparse-sd.sh
#   IMPRINT=target/release/imprint WRITE_BPS=20000000 sudo benches/sparse-sd.sh
#
# The image (IMAGE_MIB, default 1024): MBR; a FAT32 boot partition with 40 MiB
# of files; an ext4 root with ~200 MiB of files (random and text-like), some
# deleted and rewritten; an empty ext4 data partition: about a quarter used,
# like an OS image. Everything lives in /dev/shm/imprint-sparse.PID and is
# removed on exit; only loop devices attached here are written.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
image_mib="${IMAGE_MIB:-1024}"
write_bps="${WRITE_BPS:-40000000}"
read_bps="${READ_BPS:-90000000}"
runs="${RUNS:-1}"

bench_require sparse-sd losetup sfdisk mkfs.ext4 mkfs.vfat mcopy debugfs xz dd bc
bench_build
bench_workdir sparse
loop=""

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

# Runs "$@" inside the throttled cgroup; prints the seconds it took.
throttled_seconds() {
    local best="" run start end elapsed
    for ((run = 0; run < runs; run++)); do
        start="$(date +%s.%N)"
        (
            echo "$BASHPID" >"$cgroup/cgroup.procs"
            "$@"
        ) >"$work/last-stdout" 2>"$work/last-stderr" || {
            log "sparse-sd: failed: $*"
            cat "$work/last-stderr" >&2
            return 1
        }
        end="$(date +%s.%N)"
        elapsed="$(echo "$end - $start" | bc -l)"
        if [[ -z $best ]] || (($(echo "$elapsed < $best" | bc -l))); then
            best="$elapsed"
        fi
    done
    printf '%.2f' "$best"
}

image="$work/os.img"
log "making a ${image_mib} MiB image with FAT32 + 2 ext4 partitions in $work"
make_image "$image"
xz -T0 -1 -k "$image"
size_bytes="$(stat -c %s "$image")"
loops=()
for i in 1 2 3 4; do
    truncate -s "$size_bytes" "$work/target$i"
    loops+=("$(losetup --find --show "$work/target$i")")
done
loop="${loops[0]}"
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    cgroup="/sys/fs/cgroup/imprint-sparse.$$"
    mkdir "$cgroup"
else
    cgroup="/sys/fs/cgroup/blkio/imprint-sparse.$$"
    mkdir "$cgroup"
fi
for dev in "${loops[@]}"; do
    devno="$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ')"
    if [[ -f $cgroup/io.max ]]; then
        echo "$devno wbps=$write_bps rbps=$read_bps" >"$cgroup/io.max"
    else
        echo "$devno $write_bps" >"$cgroup/blkio.throttle.write_bps_device"
        echo "$devno $read_bps" >"$cgroup/blkio.throttle.read_bps_device"
    fi
done
log "targets ${loops[*]}, each throttled to $write_bps B/s write, $read_bps B/s read"

flash_json() { "$IMPRINT" flash "$@" -t "$loop" --yes --json; }
flash_json_4() {
    local args=() dev
    for dev in "${loops[@]}"; do args+=(-t "$dev"); done
    "$IMPRINT" flash "$@" "${args[@]}" --yes --json
}
# The first target's written_bytes in the last run's JSON.
written_of_last() {
    grep -o '"written_bytes":[0-9]*' "$work/last-stdout" | head -1 | cut -d: -f2
}

printf '%-44s %9s %14s %7s\n' case seconds written ratio
t_dd="$(throttled_seconds dd if="$image" of="$loop" bs=4M oflag=direct conv=fsync status=none)"
printf '%-44s %9s %14s %7s\n' "dd oflag=direct, whole image (no verify)" "$t_dd" "$size_bytes" ""
t_full="$(throttled_seconds flash_json "$image" --full)"
printf '%-44s %9s %14s %7s\n' "imprint raw --full (verified)" "$t_full" "$(written_of_last)" "$(printf '%.2f' "$(echo "$t_full / $t_dd" | bc -l)")"
t_raw="$(throttled_seconds flash_json "$image")"
printf '%-44s %9s %14s %7s\n' "imprint raw, sparse (verified)" "$t_raw" "$(written_of_last)" "$(printf '%.2f' "$(echo "$t_raw / $t_dd" | bc -l)")"
t_xz="$(throttled_seconds flash_json "$image.xz")"
printf '%-44s %9s %14s %7s\n' "imprint .xz, sparse (verified)" "$t_xz" "$(written_of_last)" "$(printf '%.2f' "$(echo "$t_xz / $t_dd" | bc -l)")"
t_raw4="$(throttled_seconds flash_json_4 "$image")"
printf '%-44s %9s %14s %7s\n' "imprint raw -> 4, sparse (verified)" "$t_raw4" "$(written_of_last)" "$(printf '%.2f' "$(echo "$t_raw4 / $t_dd" | bc -l)")"
t_xz4="$(throttled_seconds flash_json_4 "$image.xz")"
printf '%-44s %9s %14s %7s\n' "imprint .xz -> 4, sparse (verified)" "$t_xz4" "$(written_of_last)" "$(printf '%.2f' "$(echo "$t_xz4 / $t_dd" | bc -l)")"
