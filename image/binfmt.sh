#!/usr/bin/env bash
# Make this amd64 machine run arm64 programs (for debootstrap's second stage and the
# chroot steps). systemd's binfmt service is not running in a build container, so we mount
# binfmt_misc and register Debian's qemu-user-static interpreter by hand. The F flag makes
# the kernel open the interpreter now, so it also works inside the chroot.
set -euo pipefail
bm=/proc/sys/fs/binfmt_misc
if [ ! -e "$bm/register" ]; then
  mount -t binfmt_misc binfmt_misc "$bm"
fi
if [ ! -e "$bm/qemu-aarch64" ]; then
  line=$(grep -h '^:qemu-aarch64:' /usr/lib/binfmt.d/qemu-aarch64.conf)
  # Debian's line ends with the flags (OPF on recent packages); make sure F is there
  case "${line##*:}" in *F*) ;; *) line="${line}F" ;; esac
  printf '%s' "$line" > "$bm/register"
fi
grep -q '^enabled' "$bm/qemu-aarch64"
