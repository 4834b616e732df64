# Sourced by the benchmarks (bench.sh, sparse-sd.sh, pacing-sd.sh): what
# they share. Root and the tools checked, the release binary built, a work
# directory in /dev/shm removed on exit with the loop devices (`loops`) and
# the cgroup (`cgroup`) made in it, logging, and the files of an OS-like
# image. Only loop devices the benchmark attached itself are ever written.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '%s\n' "$*" >&2; }

# bench_require NAME TOOL…: exits 2 unless root and every TOOL is there.
bench_require() {
    local name="$1" tool
    shift
    [[ $(id -u) -eq 0 ]] || { echo "$name: needs root for loop devices" >&2; exit 2; }
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$name: $tool not found" >&2; exit 2; }
    done
}

# bench_build [CARGO ARG…]: sets IMPRINT, built in release unless given.
bench_build() {
    if [[ -z ${IMPRINT:-} ]]; then
        (cd "$repo" && cargo build --release --quiet "$@")
        IMPRINT="$repo/target/release/imprint"
    fi
}

# bench_workdir NAME: sets `work` (/dev/shm/imprint-NAME.PID, so storage
# speed does not hide the software's), removed on exit with `loops` and
# `cgroup`.
bench_workdir() {
    work="/dev/shm/imprint-$1.$$"
    cgroup=""
    loops=()
    mkdir -p "$work"
    trap bench_cleanup EXIT
}

bench_cleanup() {
    local dev
    for dev in "${loops[@]}"; do losetup -d "$dev" 2>/dev/null || true; done
    [[ -n $cgroup ]] && rmdir "$cgroup" 2>/dev/null || true
    rm -rf "$work"
}

# bench_os_files DIR KERNEL_MIB BLOB_MIB TEXT_MIB: DIR/boot/kernel.img
# (random) and, in DIR/root, four random blobs and four text-like files
# (base64, about 4:3 under compression) of TEXT_MIB random bytes each.
bench_os_files() {
    local files="$1" kernel_mib="$2" blob_mib="$3" text_mib="$4" i
    mkdir -p "$files/root" "$files/boot"
    head -c $((kernel_mib << 20)) /dev/urandom >"$files/boot/kernel.img"
    for i in 1 2 3 4; do
        head -c $((blob_mib << 20)) /dev/urandom >"$files/root/blob$i"
        head -c $((text_mib << 20)) /dev/urandom | base64 -w 76 >"$files/root/text$i"
    done
}
