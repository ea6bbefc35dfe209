#!/usr/bin/env bash
# Build the SD-card image: build/image/motcua-<version>-arm64.img and its .sha256.
#
#   image/build.sh [--role ROLE] [--out DIR]
#
# Runs as root on an ordinary Debian amd64 machine and mounts nothing (debootstrap mounts
# /proc inside its own target, that is all): the three file systems are made from folders
# (mkfs.vfat -C + mcopy, mkfs.ext4 -d) and genimage puts them behind one MBR.
#
# The Debian tree is kept in build/image/rootfs-cache between builds of one checkout (it is
# the slow part: debootstrap under qemu-user); CI starts from a fresh clone, so it always
# builds it from scratch. MOTCUA_FRESH=1 forces that here too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
role=""
out="$repo/build/image"
while [ $# -gt 0 ]; do
  case "$1" in
    --role) role=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: image/build.sh [--role hub|dispenser|counter|board|lookup|store] [--out DIR]" >&2; exit 2 ;;
  esac
done
case "$role" in ""|hub|dispenser|counter|board|lookup|store) ;; *) echo "unknown role: $role" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "image/build.sh must run as root (debootstrap, chroot)" >&2; exit 2; }

version=$(python3 -c "import tomllib;print(tomllib.load(open('$repo/pyproject.toml','rb'))['project']['version'])")
name="motcua-$version-arm64${role:+-$role}"
work="$out/work"
cache="$out/rootfs-cache"
start=$(date +%s)
log() { echo "[image $(( $(date +%s) - start ))s] $*"; }
mkdir -p "$out"

# ---- 1. the Debian tree (cached per checkout: see above) -----------------------------------
stamp=$(sha256sum "$here/rootfs.sh" | cut -c1-16)
if [ "${MOTCUA_FRESH:-0}" = 1 ] || [ "$(cat "$cache/.motcua-rootfs" 2>/dev/null)" != "$stamp" ]; then
  log "debootstrap of Debian bookworm arm64 (slow: every program runs under qemu-user)"
  "$here/rootfs.sh" "$cache"
  echo "$stamp" > "$cache/.motcua-rootfs"
fi
log "copying the Debian tree"
rm -rf "$work"
mkdir -p "$work"
cp -a "$cache" "$work/root"
root="$work/root"
rm -f "$root/.motcua-rootfs"
kver=$(ls "$root/lib/modules" | sort -V | tail -1)

# ---- 2. the project: aarch64 wheels into a virtualenv, bytecode compiled now --------------
"$here/project.sh" "$repo" "$root" "$out/wheels"

# ---- 3. the system: users, devices, read-only root, services --------------------------------
"$here/configure.sh" "$repo" "$root" "$role"

# ---- 4. the three file systems and the card ---------------------------------------------------
"$here/assemble.sh" "$repo" "$root" "$work" "$kver" "$out/$name.img"
(cd "$out" && sha256sum "$name.img" > "$name.img.sha256")
log "done: $out/$name.img ($(du -h --apparent-size "$out/$name.img" | cut -f1)," \
    "$(du -h "$out/$name.img" | cut -f1) used) in $(( $(date +%s) - start )) s"
rm -rf "$work"
