#!/usr/bin/env bash
# The two set-up commands of the README:  ./run.sh demo   and   ./run.sh test
# Each installs what is missing (Debian packages, a virtualenv with the project) first.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
venv="${MOTCUA_VENV:-$here/.venv}"

need_pkgs=(mosquitto mosquitto-clients openssl espeak-ng sox fonts-noto-core fonts-dejavu-core
           python3-venv python3-dev build-essential)
# the tests also look at real windows on an X server (Xvfb, read back with ImageMagick,
# clicked with xdotool)
# and listen to the board through ALSA (alsa.conf, which the ~/.asoundrc of the test builds on)
[ "${1:-}" = "test" ] && need_pkgs+=(postgresql xvfb imagemagick libasound2-data
                                       chromium poppler-utils zbar-tools xdotool)
# what tests start dies with them (setpriv --pdeathsig, appliance/childproc.py): util-linux
# has it on bookworm; where a Debian ships it as a package of its own, that package
if [ "${1:-}" = "test" ] && ! command -v setpriv >/dev/null \
   && apt-cache show setpriv >/dev/null 2>&1; then need_pkgs+=(setpriv); fi
# the SD-card image (image/build.sh) and its boot test on an emulated Pi (image/boot_test.py)
image_pkgs=(debootstrap qemu-user-static mtools dosfstools genimage e2fsprogs fdisk curl
            xz-utils qemu-system-arm socat)
case "${1:-}" in image|image-test) need_pkgs+=("${image_pkgs[@]}") ;; esac

install_debian_packages() {
  local missing=()
  for p in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # postgresql may come from another source on some images: the server binary is what counts
  if [[ " ${missing[*]} " == *" postgresql "* ]] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing=("${missing[@]/postgresql}")
  fi
  local real=()
  for p in "${missing[@]}"; do [ -n "$p" ] && real+=("$p"); done
  [ ${#real[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${real[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${real[@]}"
}

make_venv() {
  local stamp="$venv/.motcua-installed"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -e ".[dev]"
    touch "$stamp"
  fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  demo)
    install_debian_packages
    make_venv
    exec "$venv/bin/motcua" demo "$@"
    ;;
  test)
    install_debian_packages
    make_venv
    "$venv/bin/ruff" check appliance drivers display tests bench
    "$venv/bin/mypy" appliance drivers display tests bench
    # three workers, a file each at a time: most tests wait on brokers, windows and child
    # processes, so a third keeps the 2 cores busy while two wait (same clean clone, same
    # hour: 1003 tests in 10 min 9 s with two, 8 min 58 s with three; pass -n 0 for one)
    exec "$venv/bin/python" -m pytest -q -n 3 --dist loadfile "$@"
    ;;
  soak)
    # 1,000 kill -9s of the hub during bursts; prints lost / duplicated / changed-on-retry
    install_debian_packages
    make_venv
    exec "$venv/bin/python" bench/soak.py "$@"
    ;;
  image)
    # ./run.sh image [--role ROLE]: build/image/motcua-<version>-arm64.img (see image/README.md)
    install_debian_packages
    exec image/build.sh "$@"
    ;;
  image-test)
    # boots the image (built first if missing) on an emulated Pi: see image/boot_test.py
    install_debian_packages
    make_venv
    exec "$venv/bin/python" image/boot_test.py "$@"
    ;;
  *)
    echo "usage: ./run.sh demo [--headless --minutes N] | ./run.sh test [pytest args]" \
         "| ./run.sh soak [--kills N] | ./run.sh image [--role ROLE] | ./run.sh image-test" >&2
    exit 2
    ;;
esac
