#!/usr/bin/env bash
# The card from three folders, without mounting anything: mkfs.vfat -C + mcopy (boot),
# mkfs.ext4 -d (root, data), genimage (the MBR around them: a Pi 3B+ boots only from MBR).
#
#   image/assemble.sh REPO ROOT WORK KERNEL_VERSION OUT.img
set -euo pipefail
repo=$1 root=$2 work=$3 kver=$4 img=$5
parts="$work/parts"
rm -rf "$parts" "$work/genimage-tmp"
mkdir -p "$parts/boot" "$parts/data"

# ---- boot: Pi firmware (Debian's raspi-firmware), kernel, initrd, device trees, set-up ------
fw="$work/raspi-firmware"
mkdir -p "$fw"
deb=$(ls "$work"/raspi-firmware_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  mirror=${MOTCUA_MIRROR:-http://deb.debian.org/debian}
  # awk reads to the end: an early exit would kill xz with SIGPIPE and pipefail stop us
  path=$(curl -fsSL "$mirror/dists/bookworm/non-free-firmware/binary-arm64/Packages.xz" \
         | xz -d | awk '/^Package: raspi-firmware$/{p=1} p&&/^Filename:/{print $2; p=0}')
  [ -n "$path" ] || { echo "raspi-firmware not found in Debian's archive" >&2; exit 1; }
  deb="$work/$(basename "$path")"
  curl -fsSL -o "$deb" "$mirror/$path"
fi
dpkg-deb -x "$deb" "$fw"
cp "$fw"/usr/lib/raspi-firmware/*.bin "$fw"/usr/lib/raspi-firmware/*.elf \
   "$fw"/usr/lib/raspi-firmware/*.dat "$parts/boot/"
cp "$root"/usr/lib/linux-image-"$kver"/broadcom/bcm27*-rpi-*.dtb "$parts/boot/"
mkdir -p "$parts/boot/overlays"
cp "$root/boot/vmlinuz-$kver" "$parts/boot/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$parts/boot/initrd.img"
cp "$repo/image/boot/config.txt" "$repo/image/boot/cmdline.txt" "$parts/boot/"
cp "$repo/image/motcua-setup.example.toml" "$parts/boot/motcua-setup.toml"
if [ -n "${MOTCUA_IMAGE_ROLE:-}" ]; then
  sed -i "s/^role = \"[a-z]*\"/role = \"$MOTCUA_IMAGE_ROLE\"/" "$parts/boot/motcua-setup.toml"
fi
boot_mb=256
rm -f "$work/boot.vfat"
mkfs.vfat -C -n MOTCUA-BOOT -F 32 "$work/boot.vfat" $((boot_mb * 1024)) >/dev/null
mcopy -s -i "$work/boot.vfat" "$parts/boot/"* ::/

# ---- root: read-only ext4, sized to its content plus a margin -------------------------------
rm -rf "$root/boot/"*.old "$root/debootstrap"
used_mb=$(du -sm "$root" | cut -f1)
root_mb=$(( used_mb + used_mb / 5 + 64 ))
rm -f "$work/root.ext4"
mkfs.ext4 -q -L motcua-root -d "$root" -O ^metadata_csum_seed "$work/root.ext4" "${root_mb}M"

# ---- data: what changes, owned by who writes it; first boot grows it to fill the card -------
uid=$(awk -F: '$1=="motcua"{print $3}' "$root/etc/passwd")
gid=$(awk -F: '$1=="motcua"{print $4}' "$root/etc/group" >/dev/null; awk -F: '$1=="motcua"{print $3}' "$root/etc/group")
mq=$(awk -F: '$1=="mosquitto"{print $3":"$4}' "$root/etc/passwd")
_chrony=$(awk -F: '$1=="_chrony"{print $3":"$4}' "$root/etc/passwd")
for d in etc journal chrony mosquitto hub dispenser counter board lookup store; do
  mkdir -p "$parts/data/$d"
done
chown "$uid:$gid" "$parts/data"/{hub,dispenser,counter,board,lookup,store}
chown root:"$gid" "$parts/data/etc"; chmod 750 "$parts/data/etc"
[ -n "$mq" ] && chown "$mq" "$parts/data/mosquitto"
[ -n "$_chrony" ] && chown "$_chrony" "$parts/data/chrony"
data_mb=128
rm -f "$work/data.ext4"
mkfs.ext4 -q -L motcua-data -d "$parts/data" -J size=16 "$work/data.ext4" "${data_mb}M"
tune2fs -o journal_data "$work/data.ext4" >/dev/null

# ---- the card -----------------------------------------------------------------------------------
sed -e "s/@BOOT_MB@/$boot_mb/" -e "s/@ROOT_MB@/$root_mb/" -e "s/@DATA_MB@/$data_mb/" \
    "$repo/image/genimage.cfg" > "$work/genimage.cfg"
genimage --config "$work/genimage.cfg" --inputpath "$work" --outputpath "$work" \
         --tmppath "$work/genimage-tmp" --rootpath "$parts/data" >/dev/null
mv "$work/motcua.img" "$img"
echo "card: boot ${boot_mb} MiB, root ${root_mb} MiB (${used_mb} MiB used), data ${data_mb} MiB"
