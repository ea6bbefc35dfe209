#!/usr/bin/env bash
# The project in /opt/motcua/venv of the image, built on the amd64 host at native speed:
# pip downloads the aarch64 wheels (lgpio included) and installs them into the tree with
# --target; the host's Python 3.11 compiles the bytecode (the .pyc format does not depend on
# the CPU), so the card never compiles anything and starts a role without a 15-30 s penalty.
#
#   image/project.sh REPO ROOT WHEEL_DIR
set -euo pipefail
repo=$1 root=$2 wheels=$3
pyver=$(chroot "$root" python3 -c 'import sys;print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null || echo 3.11)
host=$(python3 -c 'import sys;print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
[ "$pyver" = "$host" ] || { echo "host Python $host cannot compile for the card's $pyver" >&2; exit 1; }
venv=/opt/motcua/venv
site="$root$venv/lib/python$pyver/site-packages"
platforms=(--platform manylinux_2_34_aarch64 --platform manylinux_2_31_aarch64
           --platform manylinux_2_28_aarch64 --platform manylinux_2_17_aarch64
           --platform manylinux2014_aarch64 --platform linux_aarch64)
pyargs=(--python-version "$pyver" --implementation cp --abi "cp${pyver/./}" --only-binary=:all:)

# the runtime dependencies of pyproject.toml; evdev has no aarch64 wheel on PyPI, the image
# takes Debian's python3-evdev (the venv sees system packages for it)
mkdir -p "$wheels"
python3 - "$repo/pyproject.toml" > "$wheels/requirements.txt" <<'EOF'
import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
for d in deps:
    if not d.startswith("evdev"):
        print(d.split(";")[0].strip())
EOF
PIP_FIND_LINKS="" pip download -q --disable-pip-version-check --dest "$wheels" "${platforms[@]}" "${pyargs[@]}" \
  -r "$wheels/requirements.txt"
rm -f "$wheels"/motcua-*.whl
pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$wheels" "$repo" \
  2>/dev/null || pip wheel -q --disable-pip-version-check --no-deps -w "$wheels" "$repo"
mkdir -p "$site"
pip install -q --disable-pip-version-check --no-warn-conflicts --no-compile --no-index --find-links "$wheels" \
  --target "$site" "${platforms[@]}" "${pyargs[@]}" -r "$wheels/requirements.txt"
# the project itself: its evdev requirement is met by Debian's python3-evdev
pip install -q --disable-pip-version-check --no-warn-conflicts --no-compile --no-deps --target "$site" \
  --upgrade "${platforms[@]}" "${pyargs[@]}" "$wheels"/motcua-*.whl
rm -rf "${site:?}/bin"  # console scripts with the host's interpreter in their first line

# a virtualenv by hand: what `python3 -m venv --system-site-packages` writes, for the card
mkdir -p "$root$venv/bin"
ln -sf /usr/bin/python3 "$root$venv/bin/python"
ln -sf python "$root$venv/bin/python3"
cat > "$root$venv/pyvenv.cfg" <<EOF
home = /usr/bin
include-system-site-packages = true
version = $(chroot "$root" python3 -c 'import platform;print(platform.python_version())')
EOF
cat > "$root$venv/bin/motcua" <<EOF
#!$venv/bin/python
import sys
from appliance.cli import main
sys.exit(main())
EOF
chmod 755 "$root$venv/bin/motcua"
# unchecked-hash: the root is read-only and its times mean nothing; the .pyc is always used
python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash \
  -d "$venv/lib/python$pyver/site-packages" "$site" >/dev/null
mkdir -p "$root/opt/motcua"
cp -r "$repo/docs" "$repo/firmware_config" "$root/opt/motcua/"
mkdir -p "$root/opt/motcua/image"
cp "$repo/image/README.md" "$repo/image/motcua-setup.example.toml" "$root/opt/motcua/image/"
echo "project: $(ls "$wheels"/*.whl | wc -l) wheels in $venv, $(find "$site" -name '*.pyc' | wc -l) .pyc"
