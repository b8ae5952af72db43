#!/usr/bin/env bash
# `podman run` with what hornet's containers need on a host whose podman cannot run them as is:
#
#   deploy/image/run.sh [PODMAN RUN OPTIONS...] IMAGE [HORNET ARGUMENTS...]
#   deploy/image/run.sh --rm localhost/hornet:0.1.0 demo -q
#
# It adds, before your options:
# * --network host: hornet reaches targets and its controller as a process on the host would, and a
#   controller's --listen port is the host's (no port mapping, no NAT in the measured path);
# * --runtime runc (when runc is installed): crun refuses a host whose cgroups are a hybrid of v1 and v2;
# * --cgroup-manager cgroupfs: no systemd needed to place the container;
# * --ulimit nofile=N:N and nproc=P:P at the limits this shell may grant: podman's default (1048576)
#   is above them on such hosts, and runc then fails with "error setting rlimits ... operation not
#   permitted". N is the hard limit on open files (hornet raises its soft limit to it: one descriptor
#   per connection); P is the hard limit on processes, at most the kernel's pid_max, which caps
#   podman's own. Set HORNET_NOFILE or HORNET_NPROC to choose other values.
#
# Image storage is podman's own (containers-storage); CONTAINERS_STORAGE_CONF points it elsewhere.
set -euo pipefail

if [ $# -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
command -v podman >/dev/null || { echo "run.sh: needs podman (apt-get install podman)" >&2; exit 1; }

hard_limit() {
  local value
  value="$(ulimit -H "$1")"
  if [ "$value" = unlimited ]; then value=1048576; fi
  echo "$value"
}
nofile="${HORNET_NOFILE:-$(hard_limit -n)}"
nproc="${HORNET_NPROC:-$(hard_limit -u)}"
if [ -z "${HORNET_NPROC:-}" ] && [ -r /proc/sys/kernel/pid_max ]; then
  pid_max="$(cat /proc/sys/kernel/pid_max)"
  if [ "$pid_max" -lt "$nproc" ]; then nproc="$pid_max"; fi
fi

global=(--cgroup-manager cgroupfs)
if command -v runc >/dev/null; then global+=(--runtime runc); fi
exec podman "${global[@]}" run --network host --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "$@"
