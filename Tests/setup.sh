#!/usr/bin/env bash
# Installs what the test suite needs and this machine lacks; does nothing when all is there.
#   apt (sudo when not root): what install.sh builds with, GIMP and its headers, Xvfb and xdotool
#   for the dialog test, the pixbuf theme engine GIMP's default theme asks for, binutils (nm), python3.
#   Python: pytest, numpy, Pillow, pypng, scikit-image, and pip and setuptools (the test of
#   `pip install ./python`): through pip where python3 takes pip
#   packages (a venv, pyenv, conda), else as Debian's python3-* packages (Debian's own python3
#   refuses system-wide pip installs, PEP 668).
set -euo pipefail

sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
apt_install() {
    local missing=""
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] && return
    echo "Tests/setup.sh: installing (apt):$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

command -v python3 >/dev/null && system_python="" || system_python=python3
apt_install gimp libgimp2.0-dev libfftw3-dev libpng-dev libjpeg-dev libtiff-dev pkg-config gcc \
            xvfb xdotool gtk2-engines-pixbuf binutils $system_python

# Debian's python3 marks itself externally managed; a venv, pyenv or conda python does not.
externally_managed=$(python3 -c 'import os, sys, sysconfig
print(int(sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))')
debs="" pips=""
for entry in pytest:python3-pytest:pytest numpy:python3-numpy:numpy PIL:python3-pil:pillow \
             png:python3-png:pypng skimage:python3-skimage:scikit-image \
             pip:python3-pip:pip setuptools:python3-setuptools:setuptools; do
    IFS=: read -r module deb pip_name <<<"$entry"
    python3 -c "import $module" 2>/dev/null && continue
    debs="$debs $deb" pips="$pips $pip_name"
done
if [ -n "$pips" ] && [ "$externally_managed" = 1 ]; then
    apt_install $debs
elif [ -n "$pips" ]; then
    echo "Tests/setup.sh: installing (pip):$pips"
    python3 -m pip install -q --disable-pip-version-check $pips 2>&1 | grep -v "running pip as the 'root'" || true
fi
