#!/usr/bin/env bash
# Builds and installs Denoise: the library, its header and pkg-config file, the `denoise` command,
# and the GIMP 2.10 plug-in. Running it again updates in place.
#
#   ./install.sh [--prefix DIR] [--no-deps] [--no-gimp]   (prefix default: ~/.local)
#   ./install.sh --uninstall [--prefix DIR]
#
# The plug-in goes to $GIMP2_DIRECTORY/plug-ins (default ~/.config/GIMP/2.10/plug-ins), with the
# library beside it so GIMP finds it whatever the prefix.
set -euo pipefail

prefix="$HOME/.local"
deps=1 gimp=1 uninstall=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#*=}"; shift ;;
        --no-deps) deps=0; shift ;;
        --no-gimp) gimp=0; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
gimp_dir="${GIMP2_DIRECTORY:-$HOME/.config/GIMP/2.10}"
plugins="$gimp_dir/plug-ins"
# The networks that ship, when training has produced them (see Training/README.md): the default,
# and the fine-tune for camera photos (`--model camera`).
model="Training/models/mprnet-default.safetensors"
camera_model="Training/models/mprnet-camera-release.safetensors"
here="$(cd "$(dirname "$0")" && pwd)"

if [ "$uninstall" = 1 ]; then
    rm -f "$prefix/lib/libdenoise.so" "$prefix/lib/libdenoise.so.1" "$prefix/include/denoise.h" \
          "$prefix/lib/pkgconfig/denoise.pc" "$prefix/bin/denoise" "$prefix/share/denoise/mprnet.safetensors" \
          "$prefix/share/denoise/mprnet-camera.safetensors"
    rmdir "$prefix/share/denoise" 2>/dev/null || true
    rm -rf "$plugins/denoise-dct" "$plugins/denoise-mprnet"
    echo "Denoise removed from $prefix and $gimp_dir"
    exit 0
fi

if [ "$deps" = 1 ]; then
    packages="libfftw3-dev libpng-dev libjpeg-dev libtiff-dev pkg-config gcc"
    [ "$gimp" = 1 ] && packages="$packages gimp libgimp2.0-dev"
    missing=""
    for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        echo "Installing:$missing"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
    fi
fi

command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null || { echo "install.sh: Swift 6 is needed (https://swift.org/install)" >&2; exit 1; }

cd "$here"
swift build -c release --product denoise
swift build -c release --product denoise-cli
bin="$(swift build -c release --show-bin-path)"

install -d "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/bin"
install -m 755 "$bin/libdenoise.so" "$prefix/lib/libdenoise.so.1"
ln -sf libdenoise.so.1 "$prefix/lib/libdenoise.so"
install -m 644 CHeaders/denoise.h "$prefix/include/denoise.h"
install -m 755 "$bin/denoise-cli" "$prefix/bin/denoise"
if [ -f "$model" ]; then
    install -d "$prefix/share/denoise"
    install -m 644 "$model" "$prefix/share/denoise/mprnet.safetensors"
fi
if [ -f "$camera_model" ]; then
    install -d "$prefix/share/denoise"
    install -m 644 "$camera_model" "$prefix/share/denoise/mprnet-camera.safetensors"
fi
version=$(sed -n 's/^#define DN_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' CHeaders/denoise.h | paste -sd.)
cat > "$prefix/lib/pkgconfig/denoise.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: denoise
Description: Image denoising: multi-scale DCT and MPRNet
Version: $version
Libs: -L\${libdir} -ldenoise
Cflags: -I\${includedir}
PC

if [ "$gimp" = 1 ]; then
    if [ ! -f "$gimp_dir/gimprc" ] && command -v gimp-console-2.10 >/dev/null; then
        # A new GIMP folder is set up by GIMP itself before plug-ins are added.
        GIMP2_DIRECTORY="$gimp_dir" gimp-console-2.10 -i -d -f -b '(gimp-quit 0)' >/dev/null 2>&1 || true
    fi
    build="$(mktemp -d)"
    trap 'rm -rf "$build"' EXIT
    for plugin in denoise-dct denoise-mprnet; do
        # Each plug-in in its own folder with the library beside it (GIMP ignores the .so there).
        gcc -std=gnu11 -O2 -Wall -Wno-deprecated-declarations "Plugins/gimp/$plugin.c" Plugins/gimp/region.c -I CHeaders \
            $(pkg-config --cflags gimpui-2.0 gegl-0.4) -L"$prefix/lib" -ldenoise -Wl,-rpath,'$ORIGIN' \
            $(pkg-config --libs gimpui-2.0 gegl-0.4) -lm -o "$build/$plugin"
        install -d "$plugins/$plugin"
        install -m 755 "$build/$plugin" "$plugins/$plugin/$plugin"
        install -m 755 "$prefix/lib/libdenoise.so.1" "$plugins/$plugin/libdenoise.so.1"
        if [ -f "$model" ]; then install -m 644 "$model" "$plugins/$plugin/mprnet.safetensors"; fi
    done
    if [ -f "$camera_model" ]; then install -m 644 "$camera_model" "$plugins/denoise-mprnet/mprnet-camera.safetensors"; fi
    echo "GIMP plug-ins installed in $plugins"
fi
echo "Denoise installed in $prefix (library, header, pkg-config, bin/denoise)"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "$prefix/bin is not on PATH: run $prefix/bin/denoise, or add it for new shells with"
       echo "  echo 'export PATH=\"$prefix/bin:\$PATH\"' >> ~/.profile" ;;
esac
