#!/usr/bin/env bash
# Throughput benchmark: Imprint against dd, `xz -dc | dd` and `gzip -dc | dd`,
# measured in the same run on the same loop devices. Not a timed test: it
# prints figures and ratios (Imprint time / reference time; lower is better)
# next to the goals of the "Speed" issue.
#
#   sudo benches/bench.sh                 # build release, 1 GiB image, all cases
#   IMPRINT=target/release/imprint sudo benches/bench.sh   # skip the build
#   RSS_4G=0 sudo benches/bench.sh        # skip the 4 GiB peak-RSS case
#   RUNS=3 sudo benches/bench.sh          # best of 3 for every case
#   IMAGE_MIB=128 sudo benches/bench.sh   # a quick smoke run on a smaller image
#   URL=0 sudo benches/bench.sh           # skip the cases from a loopback HTTP server
#
# Everything lives in /dev/shm/imprint-bench.PID (image, its .xz and .gz,
# loop-device backing files), so storage speed does not hide the software's.
# It writes only to loop devices it attached itself, and detaches them and
# removes its files on exit. Needs root (losetup), xz, gzip, sfdisk, mkfs.fat,
# /usr/bin/time.

set -euo pipefail

# shellcheck source=benches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runs="${RUNS:-1}"
rss_4g="${RSS_4G:-1}"
image_mib="${IMAGE_MIB:-1024}"


bench_require bench losetup sfdisk mkfs.fat xz gzip dd sha256sum /usr/bin/time
bench_build
[[ -x $IMPRINT ]] || { echo "bench: $IMPRINT is not executable" >&2; exit 2; }
bench_workdir bench

trap 'log "bench: failed at line $LINENO: $BASH_COMMAND"' ERR

# An OS-like disk image of SIZE_MIB: MBR, a FAT16 boot partition, then a
# root partition holding incompressible data (like squashfs and kernels),
# text-like data (base64, about 4:3 under compression) and long zero runs
# (free space, the bulk of a fresh OS image).
make_image() {
    local path="$1" size_mib="$2"
    truncate -s "${size_mib}M" "$path"
    sfdisk --quiet --no-reread --no-tell-kernel "$path" <<TABLE
label: dos
unit: sectors
start=8192, size=81920, type=e, bootable
start=90112, type=83
TABLE
    mkfs.fat -F 16 -n resin-boot --offset=8192 "$path" $((81920 / 2)) >/dev/null 2>&1
    local mib
    # Every 64 MiB of the root partition: 12 MiB random, 8 MiB text-like,
    # the rest zeros.
    for ((mib = 48; mib + 20 <= size_mib; mib += 64)); do
        head -c $((12 << 20)) /dev/urandom |
            dd of="$path" bs=1M seek="$mib" conv=notrunc iflag=fullblock status=none
        # 6 MiB in base64 is 8 MiB; nothing is cut off, so no SIGPIPE.
        head -c $((6 << 20)) /dev/urandom | base64 -w 0 |
            dd of="$path" bs=1M seek=$((mib + 12)) conv=notrunc iflag=fullblock status=none
    done
}

# A loop device over a fresh sparse file of SIZE bytes; its name on stdout.
attach_target() {
    local size_bytes="$1" backing
    backing="$(mktemp "$work/target.XXXXXX")"
    truncate -s "$size_bytes" "$backing"
    losetup --find --show "$backing"
}

now() { date +%s.%N; }
# Seconds (3 decimals) that "$@" takes; the best of $runs runs.
best_seconds() {
    local best="" run start end elapsed
    for ((run = 0; run < runs; run++)); do
        start="$(now)"
        "$@" >/dev/null 2>"$work/last-stderr" || {
            log "bench: failed: $*"
            cat "$work/last-stderr" >&2
            return 1
        }
        end="$(now)"
        elapsed="$(echo "$end - $start" | bc -l)"
        if [[ -z $best ]] || (($(echo "$elapsed < $best" | bc -l))); then
            best="$elapsed"
        fi
    done
    printf '%.3f' "$best"
}

mib_per_s() { printf '%.0f' "$(echo "$2 / 1048576 / $1" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

# ---- references -----------------------------------------------------------
# dd write with O_DIRECT and fsync, then an O_DIRECT read-back hashed: what
# "flash and verify" costs with the plain tools.
dd_write_and_verify() {
    local image="$1" device="$2" size_bytes
    size_bytes="$(stat -c %s "$image")"
    dd if="$image" of="$device" bs=4M oflag=direct conv=fsync status=none
    dd if="$device" bs=4M iflag=direct,count_bytes count="$size_bytes" status=none | sha256sum
}
pipe_to_dd() {
    local decompress="$1" image="$2" device="$3"
    $decompress -dc "$image" | dd of="$device" bs=4M iflag=fullblock oflag=direct conv=fsync status=none
}
imprint_flash() {
    local image="$1"
    shift
    local args=()
    local device
    for device in "$@"; do args+=(-t "$device"); done
    "$IMPRINT" flash "$image" "${args[@]}" --yes
}
# Peak resident set size of an Imprint run, in MiB.
imprint_peak_rss_mib() {
    /usr/bin/time -v "$IMPRINT" flash "$1" -t "$2" --yes 2>&1 >/dev/null |
        awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }'
}

# ---- the run --------------------------------------------------------------
image="$work/os.img"
log "making a ${image_mib} MiB OS-like image and its .xz (xz -T0) and .gz in $work"
make_image "$image" "$image_mib"
xz -T0 -k -c "$image" >"$image.xz"
gzip -c "$image" >"$image.gz"
size_bytes="$(stat -c %s "$image")"
log "image $size_bytes bytes; .xz $(stat -c %s "$image.xz") bytes; .gz $(stat -c %s "$image.gz") bytes"

targets=()
for _ in 1 2 3 4; do
    loop="$(attach_target "$size_bytes")"
    loops+=("$loop")
    targets+=("$loop")
done
one="${targets[0]}"
log "targets: ${targets[*]} (loop devices on /dev/shm)"

printf '%-34s %9s %9s %8s %7s\n' case seconds MiB/s ratio goal
row() { printf '%-34s %9s %9s %8s %7s\n' "$@"; }

t_dd="$(best_seconds dd_write_and_verify "$image" "$one")"
t_raw="$(best_seconds imprint_flash "$image" "$one")"
row "dd write + O_DIRECT read-back" "$t_dd" "$(mib_per_s "$t_dd" "$size_bytes")" "" ""
row "imprint raw -> 1 (verified)" "$t_raw" "$(mib_per_s "$t_raw" "$size_bytes")" \
    "$(ratio "$t_raw" "$t_dd")" "<= 1.0"

t_xzdd="$(best_seconds pipe_to_dd xz "$image.xz" "$one")"
t_xz1="$(best_seconds imprint_flash "$image.xz" "$one")"
row "xz -dc | dd (no verify)" "$t_xzdd" "$(mib_per_s "$t_xzdd" "$size_bytes")" "" ""
row "imprint .xz -> 1 (verified)" "$t_xz1" "$(mib_per_s "$t_xz1" "$size_bytes")" \
    "$(ratio "$t_xz1" "$t_xzdd")" "<= 1.0"

t_gzdd="$(best_seconds pipe_to_dd gzip "$image.gz" "$one")"
t_gz1="$(best_seconds imprint_flash "$image.gz" "$one")"
row "gzip -dc | dd (no verify)" "$t_gzdd" "$(mib_per_s "$t_gzdd" "$size_bytes")" "" ""
row "imprint .gz -> 1 (verified)" "$t_gz1" "$(mib_per_s "$t_gz1" "$size_bytes")" \
    "$(ratio "$t_gz1" "$t_gzdd")" "<= 0.5"

t_xz4="$(best_seconds imprint_flash "$image.xz" "${targets[@]}")"
row "imprint .xz -> 4 (verified)" "$t_xz4" "$(mib_per_s "$t_xz4" "$size_bytes")" \
    "$(ratio "$t_xz4" "$t_xz1")" "<= 1.5"

rss_1g="$(imprint_peak_rss_mib "$image.xz" "$one")"
row "peak RSS, ${image_mib} MiB .xz -> 1 (MiB)" "" "" "$rss_1g" "< 200"

# ---- the same .xz from a loopback HTTP server (issue 11) ------------------
if [[ ${URL:-1} == 1 ]] && command -v python3 >/dev/null; then
    port_file="$work/http-port"
    # A small server with byte ranges and an ETag, as download servers have,
    # so that the size is read from the xz index before the body streams.
    python3 - "$work" "$port_file" <<'SERVER' &
import http.server, os, sys
root, port_file = sys.argv[1], sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        path = os.path.join(root, os.path.basename(self.path))
        size = os.path.getsize(path)
        start, end, status = 0, size, 200
        r = self.headers.get("Range")
        if r and r.startswith("bytes="):
            a, b = r[6:].split("-")
            start, end, status = int(a), (int(b) + 1 if b else size), 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"%d"' % size)
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
open(port_file, "w").write(str(server.server_address[1]))
server.serve_forever()
SERVER
    server_pid=$!
    for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
    url="http://127.0.0.1:$(cat "$port_file")/os.img.xz"
    t_url1="$(best_seconds imprint_flash "$url" "$one")"
    row "imprint URL .xz -> 1 (verified)" "$t_url1" "$(mib_per_s "$t_url1" "$size_bytes")" \
        "$(ratio "$t_url1" "$t_xz1")" "<= 1.1"
    t_url4="$(best_seconds imprint_flash "$url" "${targets[@]}")"
    row "imprint URL .xz -> 4 (verified)" "$t_url4" "$(mib_per_s "$t_url4" "$size_bytes")" \
        "$(ratio "$t_url4" "$t_xz4")" "<= 1.1"
    rss_url="$(imprint_peak_rss_mib "$url" "$one")"
    row "peak RSS, URL .xz -> 1 (MiB)" "" "" "$rss_url" "same"
    kill "$server_pid"
fi

if [[ $rss_4g == 1 ]]; then
    available_kib="$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)"
    if ((available_kib < 10 * 1024 * 1024)); then
        log "skipping the 4x image case: needs 10 GiB of free memory for its target"
    else
        # Four concatenated .xz streams are a valid .xz of an image four times
        # as large (1 GiB → 4 GiB), and cost no compression time.
        cat "$image.xz" "$image.xz" "$image.xz" "$image.xz" >"$work/os4.img.xz"
        big="$(attach_target $((4 * size_bytes)))"
        loops+=("$big")
        rss_4g_mib="$(imprint_peak_rss_mib "$work/os4.img.xz" "$big")"
        row "peak RSS, $((4 * image_mib)) MiB .xz -> 1 (MiB)" "" "" "$rss_4g_mib" "same"
    fi
fi
