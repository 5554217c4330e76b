#!/bin/bash
# Boots one site-test server: an overlay of / whose upper layer is the server's disk, /dev,
# /proc, /sys, a fresh /run (tmpfs, as after a reboot), the server's out/ folder shared with the
# test and the lab's EFS stand-in; then runs the given command chrooted in it (the user data on a first boot, the
# converge unit on a reboot). Run under `unshare --mount --propagation private`: the mounts
# live as long as the server's daemons do. The environment passes through to the command.
set -euo pipefail
server=$1
shift
root=$server/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$server/disk,workdir=$server/work" "$root"
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
# /sys with the cgroups: a capacity benchmark runs a server inside a memory limit, which the
# converge script's sizing reads as an instance's memory.
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount --bind "$server/out" "$root$server/out"
# The EFS stand-in: one folder shared by every server (the mount stub binds it at boot).
mount --bind "$SITE_EFS" "$root$SITE_EFS"
exec chroot "$root" "$@"
