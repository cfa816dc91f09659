#!/usr/bin/env bash
# Builds the volt.netbench guest image from Debian's package mirror, without loop mounts.
#   build-image.sh OUT_DIR RECIPE_JSON
# OUT_DIR must not exist; it is created as OUT_DIR.tmp-PID and renamed when complete, so a
# concurrent or interrupted build never leaves a half-written image under OUT_DIR.
# Result: OUT_DIR/{disk.qcow2,vmlinuz,initrd.img,ssh/id_ed25519{,.pub},ssh_host_ed25519_key.pub,recipe.json}
set -euo pipefail

out=$1
recipe=$2
mkdir -p "$(dirname "$out")"
# one builder per image at a time; a second one waits here and then finds the image ready
exec 9>"$out.lock"
flock 9
if [ -f "$out/SHA256SUMS" ] && (cd "$out" && sha256sum --quiet --check SHA256SUMS); then
  echo "image already built: $out"
  exit 0
fi
rm -rf "$out"
for tool in mmdebstrap mke2fs qemu-img ssh-keygen python3 flock; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is not installed" >&2; exit 1; }
done

field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(v) if isinstance(v, list) else v)' "$recipe" "$1"; }
suite=$(field suite)
mirror=$(field mirror)
packages=$(field packages)
late_packages=$(field late_packages)
size=$(field size)
initrd_modules=$(field initrd_modules)

work="$(cd "$(dirname "$out")" && pwd)/$(basename "$out").tmp-$$"
rootfs="$work/rootfs"
debs="$(cd "$(dirname "$out")" && pwd)/debs"
# mmdebstrap's special hooks (sync-in, sync-out) take their paths as words
case "$work$debs" in *[[:space:]]*) echo "build-image.sh: the image cache's path must not contain spaces" >&2; exit 1 ;; esac
cleanup() {
  # mmdebstrap unmounts what it mounted; what a killed one left under the rootfs goes first, and the removal
  # stays on the work directory's file system
  awk -v r="$rootfs/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
mkdir -p "$work/initramfs/conf.d" "$debs"
echo "MODULES=list" > "$work/initramfs/conf.d/volt-netbench.conf"
read -r -a modules <<< "$initrd_modules"
printf '%s\n' "${modules[@]}" > "$work/initramfs/modules"

echo "[1/5] mmdebstrap $suite (minbase; main and non-free; the kernel with a small initrd) from $mirror"
# One apt run for every package (parallel downloads, dpkg without fsync: the tree is read back into the image
# right away, durability is the image file's). The small-initrd configuration is in place before any package is
# installed, so the kernel's first initrd is the small one; nothing may start inside the build chroot
# (mmdebstrap's policy-rc.d). Downloaded .debs are kept beside the images, so a rebuild after a recipe change
# downloads little. ($1 in the hooks is mmdebstrap's: the tree being built.)
# shellcheck disable=SC2016
mmdebstrap --variant=minbase --components=main,non-free --dpkgopt=force-unsafe-io \
  --include="${packages// /,},${late_packages// /,}" --skip=essential/unlink \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives" "$1/etc/initramfs-tools"' \
  --setup-hook="sync-in $debs /var/cache/apt/archives/" \
  --setup-hook="sync-in $work/initramfs /etc/initramfs-tools/" \
  --essential-hook='echo "iperf3 iperf3/start_daemon boolean false" | chroot "$1" debconf-set-selections' \
  --customize-hook="sync-out /var/cache/apt/archives $debs" \
  "$suite" "$rootfs" "$mirror" > "$work/mmdebstrap.log" 2>&1 || { tail -30 "$work/mmdebstrap.log" >&2; exit 1; }

echo "[2/5] configuration"
install -d -m 0755 "$work/image"
echo volt-guest > "$rootfs/etc/hostname"
echo "/dev/vda / ext4 defaults,noatime 0 1" > "$rootfs/etc/fstab"
# root has no password ('*': nothing matches it) and logs in with the lab key only. Not 'passwd -l' ('!'):
# sshd without PAM refuses a locked account. Its shell is dash: every test costs two SSH commands on a
# TCG guest, and bash (which also reads .bashrc under sshd) starts several times slower.
chroot "$rootfs" usermod -p '*' -s /bin/sh root
install -d -m 0700 "$work/image/ssh" "$rootfs/root/.ssh"
ssh-keygen -q -t ed25519 -N "" -C "volt-netbench-lab" -f "$work/image/ssh/id_ed25519"
install -m 0600 "$work/image/ssh/id_ed25519.pub" "$rootfs/root/.ssh/authorized_keys"
cat > "$rootfs/etc/ssh/sshd_config.d/volt-netbench.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
# no PAM session (pam_motd, pam_env, pam_limits ...) around every command: the appliance has one user
UsePAM no
PrintMotd no
PrintLastLog no
CONF
# The guest is a test appliance: its PID 1 is volt-init (kernel command line init=...), which mounts the
# API filesystems, sets the hostname, names and addresses every NIC from the kernel command line, starts
# sshd and hands PID 1 to tini, which reaps the daemons the tests leave behind. No systemd boot: under TCG
# that costs tens of seconds (units, udev coldplug, networkd) for nothing a benchmark guest needs.
#   volt.hostname=server volt.nic=MAC,NAME,ADDRESS/PREFIX,MTU[,GATEWAY] (one volt.nic= per NIC)
cat > "$rootfs/usr/local/sbin/volt-init" <<'SH'
#!/bin/sh
# PID 1 of the volt.netbench guest (see build-image.sh in volt.netbench.guest_image).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
say() { echo "volt-init: $*" > /dev/console; }
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
ip link set dev lo up
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    volt.hostname=*) hostname "${arg#volt.hostname=}" ;;
    volt.nic=*)
      IFS=, read -r mac name addr mtu gw <<EOT
${arg#volt.nic=}
EOT
      dev=""
      for try in $(seq 100); do
        for path in /sys/class/net/*; do
          [ "$(cat "$path/address" 2>/dev/null)" = "$mac" ] && dev=${path##*/}
        done
        [ -n "$dev" ] && break
        sleep 0.05
      done
      if [ -z "$dev" ]; then say "no NIC with MAC $mac for $name"; continue; fi
      ip link set dev "$dev" down
      [ "$dev" = "$name" ] || ip link set dev "$dev" name "$name"
      [ -n "$mtu" ] && ip link set dev "$name" mtu "$mtu"
      ip addr replace "$addr" dev "$name"
      ip link set dev "$name" up
      [ -n "$gw" ] && ip route replace default via "$gw" dev "$name"
      say "$name ($mac) $addr mtu $mtu"
      ;;
  esac
done
mkdir -p /run/sshd
say "starting sshd"
exec /usr/bin/tini -s -- /usr/sbin/sshd -D -e
SH
chmod 0755 "$rootfs/usr/local/sbin/volt-init"
chroot "$rootfs" systemctl disable -q netperf 2>/dev/null || true
rm -f "$rootfs/usr/sbin/policy-rc.d"
cp "$rootfs/etc/ssh/ssh_host_ed25519_key.pub" "$work/image/ssh_host_ed25519_key.pub"

echo "[3/5] kernel and initrd for direct boot"
cp "$(readlink -f "$rootfs/vmlinuz")" "$work/image/vmlinuz"
cp "$(readlink -f "$rootfs/initrd.img")" "$work/image/initrd.img"
chroot "$rootfs" sh -c 'ls /lib/modules' > "$work/image/kernel-release"

echo "[4/5] ext4 filesystem from the rootfs (mke2fs -d, no loop mount), qcow2"
mke2fs -q -t ext4 -L voltroot -d "$rootfs" "$work/disk.raw" "$size"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/image/disk.qcow2"
rm -f "$work/disk.raw"
qemu-img check -q "$work/image/disk.qcow2"

echo "[5/5] publish"
cp "$recipe" "$work/image/recipe.json"
chmod 0600 "$work/image/ssh/id_ed25519"
sha256sum "$work/image/disk.qcow2" "$work/image/vmlinuz" "$work/image/initrd.img" | sed "s|$work/image/||" \
  > "$work/image/SHA256SUMS"
mv -T "$work/image" "$out"
echo "image ready: $out"

# The cache keeps the newest two images (this one and the one before it); older recipes are removed,
# unless a builder holds their lock. Only directories named like a recipe key are considered.
cache=$(dirname "$out")
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}' \
    -printf '%T@ %p\n' | sort -rn | tail -n +3 | cut -d' ' -f2- | while read -r old; do
  [ "$old" = "$out" ] && continue
  if (exec 8>"$old.lock" && flock -n 8); then
    rm -rf -- "$old" "$old.recipe.json" "$old.lock"
    echo "removed the older image $old"
  fi
done
