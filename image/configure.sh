#!/usr/bin/env bash
# The system around the project: the motcua user and its groups, device rules, a read-only
# root with a data partition for everything that changes, journald, chrony, mosquitto, the
# watchdog, and the services (only motcua-setup is enabled: it enables the unit's role).
#
#   image/configure.sh REPO ROOT [ROLE]
set -euo pipefail
repo=$1 root=$2
etc="$root/etc"

# ---- users and groups (systemd-sysusers of the host, writing the card's /etc) --------------
install -D -m 644 "$repo/image/files/motcua.sysusers" "$root/usr/lib/sysusers.d/motcua.conf"
systemd-sysusers --root="$root"
install -D -m 644 "$repo/image/files/60-motcua.rules" "$etc/udev/rules.d/60-motcua.rules"
# the device classes the units allow (DeviceAllow=char-usb, char-ttyUSB, char-ttyACM) exist
# only once their drivers are loaded: load them at boot, before any role starts
install -D -m 644 "$repo/image/files/modules-load.conf" "$etc/modules-load.d/motcua.conf"

# ---- read-only root, the data partition, tmpfs --------------------------------------------
install -m 644 "$repo/image/files/fstab" "$etc/fstab"
mkdir -p "$root/boot/firmware" "$root/var/lib/motcua"
# everything that must change after boot lives on the data partition
ln -sfn /var/lib/motcua/etc "$etc/motcua"
ln -sfn /var/lib/motcua/etc/localtime "$etc/localtime"
# the journal and chrony's state are bind mounts from it (fstab): systemd refuses a
# StateDirectory= that is a symlink
rm -rf "$root/var/log/journal" "$root/var/lib/chrony"
mkdir -p "$root/var/log/journal" "$root/var/lib/chrony"
ln -sfn /run/motcua/resolv.conf "$etc/resolv.conf"
mkdir -p "$etc/wpa_supplicant"
ln -sfn /run/motcua/wpa_supplicant-wlan0.conf "$etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
# an empty machine-id on a read-only root: systemd makes a transient one each boot
: > "$etc/machine-id"
echo motcua > "$etc/hostname"
install -D -m 755 "$repo/image/files/motcua-grow-data" "$root/usr/local/sbin/motcua-grow-data"

# ---- systemd: the units, the watchdog, journald --------------------------------------------
sysd="$etc/systemd/system"
cp "$repo"/systemd/*.service "$sysd/"
cp "$repo/systemd/motcua-common.conf" "$sysd/"
cp -a "$repo"/systemd/motcua-*.service.d "$sysd/"
install -m 644 "$repo/image/files/motcua-grow-data.service" "$sysd/"
install -D -m 644 "$repo/image/files/system.conf" "$etc/systemd/system.conf.d/motcua.conf"
install -D -m 644 "$repo/image/files/journald.conf" "$etc/systemd/journald.conf.d/motcua.conf"
install -D -m 644 "$repo/image/files/journal-flush.conf" \
  "$sysd/systemd-journal-flush.service.d/motcua.conf"
mkdir -p "$sysd/multi-user.target.wants" "$sysd/local-fs.target.wants"
ln -sfn ../motcua-setup.service "$sysd/multi-user.target.wants/motcua-setup.service"
ln -sfn ../motcua-grow-data.service "$sysd/local-fs.target.wants/motcua-grow-data.service"
# the set-up enables networkd, chrony and the role's service for this boot; mosquitto only
# on the hub's card
rm -f "$sysd/multi-user.target.wants/mosquitto.service" \
      "$sysd/multi-user.target.wants/chrony.service" \
      "$sysd/multi-user.target.wants/systemd-networkd.service"
for unit in chrony mosquitto systemd-networkd; do
  install -D -m 644 "$repo/image/files/after-setup.conf" "$sysd/$unit.service.d/motcua.conf"
done

# ---- chrony: only the sources the set-up file names (the hub serves the site's time) ---------
sed -i -e 's/^pool /#pool /' -e 's/^sourcedir /#sourcedir /' "$etc/chrony/chrony.conf"
echo "include /run/motcua/chrony.conf" > "$etc/chrony/conf.d/motcua.conf"

# ---- mosquitto for the hub's card: its site config is made on the data partition ----------
install -m 644 "$repo/image/files/mosquitto.conf" "$etc/mosquitto/mosquitto.conf"
install -D -m 644 "$repo/image/files/mosquitto-service.conf" "$sysd/mosquitto.service.d/card.conf"

# no login for anybody but root on the console; the units run as motcua
echo "image configured: $(grep -c . "$etc/passwd") users, units:" \
     "$(find "$sysd" -maxdepth 1 -name 'motcua-*.service' | wc -l)"
