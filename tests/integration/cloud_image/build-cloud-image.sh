#!/usr/bin/env bash
# Builds a stand-in for a lab's own cloud image, to test guest_image_path + the cloud-init NoCloud
# seed here, where no cloud image can be downloaded (only Debian's mirror is reachable).
#   build-cloud-image.sh OUT_DIR
# Shaped like Debian's genericcloud qcow2 and used the same way: one MBR disk, an ext4 root partition,
# GRUB in the MBR (BIOS boot, no kernel beside the image), cloud-init (ifupdown renderer), no SSH host keys,
# no authorized keys, root locked, empty machine-id. The benchmark tools are installed except
# none of the seed's extra packages, which the test serves from an apt repository in its namespace.
# No loop mounts: the root filesystem is written with mke2fs -d at the partition's offset, GRUB's
# boot.img/core.img (from the image's own grub-pc-bin) with dd. Concurrent builds take a lock;
# the result appears atomically as OUT_DIR/{disk.qcow2,SHA256SUMS}.
set -euo pipefail

out=$1
mirror=${VOLT_TEST_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if [ -f "$out/SHA256SUMS" ] && (cd "$out" && sha256sum --quiet --check SHA256SUMS); then
  echo "cloud image already built: $out"
  exit 0
fi
rm -rf "$out"
for tool in debootstrap mke2fs qemu-img python3 flock; do
  command -v "$tool" >/dev/null || { echo "build-cloud-image.sh: $tool is not installed" >&2; exit 1; }
done

work="$out.tmp-$$"
rootfs="$work/rootfs"
cleanup() {
  for m in proc sys; do
    if mountpoint -q "$rootfs/$m" 2>/dev/null; then umount -l "$rootfs/$m" || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"
debs="$(cd "$(dirname "$out")" && pwd)/debs"
mkdir -p "$debs"

echo "[1/5] debootstrap $suite (minbase)"
debootstrap --variant=minbase --components=main --cache-dir="$debs" \
  --include=systemd-sysv,udev,openssh-server,python3,sudo,locales,ifupdown,isc-dhcp-client,iperf3,sockperf,iputils-ping,iproute2,ethtool,procps,initramfs-tools,kmod \
  "$suite" "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

echo "[2/5] kernel, GRUB (BIOS), cloud-init, netperf"
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
echo "deb $mirror $suite main non-free" > "$rootfs/etc/apt/sources.list"
mkdir -p "$rootfs/etc/initramfs-tools/conf.d"
echo "MODULES=list" > "$rootfs/etc/initramfs-tools/conf.d/small.conf"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic > "$rootfs/etc/initramfs-tools/modules"
mount -t proc proc "$rootfs/proc"
mount -t sysfs sys "$rootfs/sys"
echo "iperf3 iperf3/start_daemon boolean false" | chroot "$rootfs" debconf-set-selections
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get -q update > "$work/apt.log" 2>&1
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
  linux-image-amd64 grub-pc-bin cloud-init netperf >> "$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; exit 1; }
chroot "$rootfs" apt-get clean
echo "en_US.UTF-8 UTF-8" > "$rootfs/etc/locale.gen"
chroot "$rootfs" locale-gen > /dev/null
echo "LANG=en_US.UTF-8" > "$rootfs/etc/default/locale"
umount "$rootfs/sys" "$rootfs/proc"

echo "[3/5] cloud-image state: no host keys, no keys, root locked, empty machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_* "$rootfs/usr/sbin/policy-rc.d"
chroot "$rootfs" passwd -l root >/dev/null
: > "$rootfs/etc/machine-id"
echo localhost > "$rootfs/etc/hostname"
echo "LABEL=cloudroot / ext4 defaults,noatime 0 1" > "$rootfs/etc/fstab"
printf 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n' > "$rootfs/etc/network/interfaces"
chroot "$rootfs" systemctl disable -q netperf 2>/dev/null || true
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer man-db.timer fstrim.timer; do
  chroot "$rootfs" systemctl mask -q "$unit" 2>/dev/null || true
done
kernels=("$rootfs"/boot/vmlinuz-*)
initrds=("$rootfs"/boot/initrd.img-*)
kernel=$(basename "${kernels[0]}")
initrd=$(basename "${initrds[0]}")
mkdir -p "$rootfs/boot/grub"
# tsc=reliable clocksource=tsc: not in Debian's own grub.cfg; under TCG (this project's CI) the guest
# otherwise distrusts the TSC and reads the emulated HPET for every timestamp, which doubles the boot
cat > "$rootfs/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "Debian cloud stand-in" {
  linux /boot/$kernel root=LABEL=cloudroot ro console=tty0 console=ttyS0,115200 quiet tsc=reliable clocksource=tsc
  initrd /boot/$initrd
}
CFG
chroot "$rootfs" grub-mkimage -O i386-pc -o /boot/grub/core.img -p "(hd0,msdos1)/boot/grub" \
  biosdisk part_msdos ext2 normal linux configfile serial terminal search echo test
cp "$rootfs/usr/lib/grub/i386-pc/boot.img" "$work/boot.img"
mv "$rootfs/boot/grub/core.img" "$work/core.img"

echo "[4/5] disk: MBR, ext4 partition at 1 MiB (mke2fs -d), GRUB in the MBR gap"
size_mib=2048
truncate -s "${size_mib}M" "$work/disk.raw"
# one bootable Linux partition from sector 2048 to the end (MBR entry 1, LBA only)
python3 - "$work/disk.raw" <<'PY'
import struct, sys
path = sys.argv[1]
with open(path, "r+b") as disk:
    disk.seek(0, 2)
    sectors = disk.tell() // 512
    entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", 2048, sectors - 2048)
    disk.seek(446)
    disk.write(entry + bytes(48) + b"\x55\xaa")
PY
mke2fs -q -t ext4 -L cloudroot -E offset=$((2048 * 512)) -d "$rootfs" "$work/disk.raw" "$((size_mib - 1))M"
core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
[ "$core_sectors" -lt 2047 ] || { echo "core.img does not fit the MBR gap" >&2; exit 1; }
# boot.img's code (first 440 bytes; the partition table stays), core.img from sector 1, where boot.img
# and core.img's own first sector look for it by default
dd if="$work/boot.img" of="$work/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$work/disk.raw" bs=512 seek=1 conv=notrunc status=none
install -d "$work/image"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/image/disk.qcow2"
qemu-img check -q "$work/image/disk.qcow2"

echo "[5/5] publish"
(cd "$work/image" && sha256sum disk.qcow2 > SHA256SUMS)
mv -T "$work/image" "$out"
echo "cloud image ready: $out"
