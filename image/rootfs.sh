#!/usr/bin/env bash
# Stage 1 of the image: a Debian bookworm arm64 root file system from Debian's own archive,
# built on an amd64 machine with qemu-user-static, without mounting anything but what
# debootstrap itself mounts inside the target.
#
#   image/rootfs.sh OUT_DIR
#
# The kernel's initramfs is generated ONCE, at the end, with a short module list: left to the
# packages, mkinitramfs runs twice under emulation (kernel postinst + initramfs-tools trigger)
# and that alone took 17 minutes on the build machines.
set -euo pipefail
out=${1:?usage: rootfs.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${MOTCUA_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

# what every role needs on the card; the role is chosen at first boot by the set-up file
# (openssl: the hub card makes the site CA and the broker certificate, appliance/sitebroker)
pkgs=(systemd-sysv udev kmod dbus tzdata procps iproute2 e2fsprogs fdisk dosfstools
      wpasupplicant chrony mosquitto openssl espeak-ng fonts-noto-core python3 python3-evdev
      linux-image-arm64 initramfs-tools)
# a kernel module list short enough for mkinitramfs under emulation: the disk (virtio for the
# emulated test Pi, SD/MMC for a real one), the file systems, the console
initrd_modules=(virtio_blk virtio_pci virtio_mmio virtio_net virtio_gpu ext4 vfat nls_cp437
                nls_ascii mmc_block sdhci_iproc bcm2835_mmc bcm2835_sdhost sdhci_of_arasan
                usb_storage xhci_pci)

"$here/binfmt.sh"
rm -rf "$out"
mkdir -p "$out"

debootstrap --arch=arm64 --variant=minbase --foreign --components=main \
  --include="$(IFS=,; echo "${pkgs[*]}")" "$suite" "$out" "$mirror"

# Divert update-initramfs before any package is configured: dpkg reads this file, so the
# kernel and initramfs-tools install a real update-initramfs beside a no-op one.
printf '/usr/sbin/update-initramfs\n/usr/sbin/update-initramfs.motcua\n:\n' \
  >> "$out/var/lib/dpkg/diversions"
printf '#!/bin/sh\n# motcua build: the initramfs is generated once, at the end\nexit 0\n' \
  > "$out/usr/sbin/update-initramfs"
chmod 755 "$out/usr/sbin/update-initramfs"

chroot "$out" /debootstrap/debootstrap --second-stage

# the one initramfs: listed modules only, gzip (the Pi firmware and QEMU both take it)
cat > "$out/etc/initramfs-tools/conf.d/motcua.conf" <<CONF
MODULES=list
COMPRESS=gzip
CONF
printf '%s\n' "${initrd_modules[@]}" >> "$out/etc/initramfs-tools/modules"
rm "$out/usr/sbin/update-initramfs"
chroot "$out" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
kver=$(ls "$out/lib/modules" | sort -V | tail -1)
chroot "$out" mkinitramfs -o "/boot/initrd.img-$kver" "$kver"
rm -rf "$out/var/cache/apt/archives/"*.deb "$out/var/lib/apt/lists/"*_Packages
echo "rootfs: bookworm arm64 with kernel $kver in $out"
