#!/bin/sh
# Installs Imprint's desktop integration: the binary (when given), the
# .desktop entry (menus, "Open with Imprint" for image files), the icons,
# the AppStream metadata and the polkit policy for the privileged helper.
#
#   cargo install --path .                        # the binary, to ~/.cargo/bin
#   sudo platform/linux/install.sh ~/.cargo/bin/imprint
#
# PREFIX defaults to /usr/local; DESTDIR stages into a package root.
# With --user, installs for the current user only (~/.local; no polkit
# policy, so pkexec falls back to its generic "run a program as root" prompt).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
app_id=io.github.imprint.Imprint
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
user=false

if [ "${1:-}" = "--user" ]; then
    user=true
    prefix=${XDG_DATA_HOME:-$HOME/.local/share}/..
    prefix=$(cd "$prefix" && pwd)
    shift
fi
binary=${1:-}

share="$destdir$prefix/share"
bindir="$prefix/bin"

if [ -n "$binary" ]; then
    install -Dm755 "$binary" "$destdir$bindir/imprint"
elif command -v imprint >/dev/null 2>&1; then
    bindir=$(dirname "$(command -v imprint)")
else
    echo "install.sh: give the imprint binary (e.g. target/release/imprint or ~/.cargo/bin/imprint)" >&2
    exit 2
fi

install -Dm644 "$here/$app_id.desktop" "$share/applications/$app_id.desktop"
install -Dm644 "$here/$app_id.metainfo.xml" "$share/metainfo/$app_id.metainfo.xml"
install -Dm644 "$root/assets/icons/imprint.svg" "$share/icons/hicolor/scalable/apps/$app_id.svg"
for size in 16 24 32 48 64 128 256 512; do
    install -Dm644 "$root/assets/icons/imprint-$size.png" \
        "$share/icons/hicolor/${size}x${size}/apps/$app_id.png"
done

if [ "$user" = false ]; then
    policy="$destdir$prefix/share/polkit-1/actions/$app_id.policy"
    # polkit reads actions from /usr/share only: install there for real
    # installs, under the prefix when staging a package.
    if [ -z "$destdir" ] && [ "$prefix" != /usr ]; then
        policy="/usr/share/polkit-1/actions/$app_id.policy"
    fi
    mkdir -p "$(dirname "$policy")"
    sed "s|/usr/bin/imprint|$bindir/imprint|" "$here/$app_id.policy" > "$policy"
    chmod 644 "$policy"
fi

# Refresh the caches when installing for real (not when staging a package).
if [ -z "$destdir" ]; then
    command -v update-desktop-database >/dev/null 2>&1 &&
        update-desktop-database -q "$share/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
fi
echo "Imprint's desktop entry is installed under $share"
