#!/usr/bin/env bash
# Builds hornet's container image from this repository with buildah (no daemon, no registry pull):
# FROM scratch, the hornet binary, the shared libraries it links, CA certificates, a non-root user.
#
#   deploy/image/build.sh                      # cargo build --release, then REGISTRY/hornet:VERSION
#   deploy/image/build.sh --binary PATH        # package a binary you already built
#   deploy/image/build.sh --registry ghcr.io/you --push
#
# The image is named REGISTRY/hornet:VERSION: REGISTRY is `localhost` unless --registry (or
# HORNET_REGISTRY) says otherwise, VERSION is what the binary's `hornet --version` prints (the
# crate's version) unless --tag says otherwise. So by default: localhost/hornet:<crate version>, the
# name deploy/kubernetes/ uses. The last line on stdout is the image's name.
#
# Image storage is buildah's own (containers-storage); CONTAINERS_STORAGE_CONF points it elsewhere.
# Without buildah, `podman build` or `docker build` build the same Containerfile (--builder).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --binary PATH     package this hornet binary instead of building one (cargo build --release)
  --registry NAME   registry (and namespace) of the image name (default: $HORNET_REGISTRY or localhost)
  --tag TAG         the image's tag (default: the binary's version)
  --no-strip        keep the binary's debug info (by default it is stripped; symbols stay)
  --builder PROG    buildah (default when installed), podman or docker
  --push            push the image after building it (`buildah push`; log in to the registry first)
  -h, --help        this help
EOF
}

binary=""
registry="${HORNET_REGISTRY:-localhost}"
tag=""
strip_debug=1
push=0
builder=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    --registry) registry="${2:?--registry needs a name}"; shift 2 ;;
    --registry=*) registry="${1#*=}"; shift ;;
    --tag) tag="${2:?--tag needs a tag}"; shift 2 ;;
    --tag=*) tag="${1#*=}"; shift ;;
    --no-strip) strip_debug=0; shift ;;
    --builder) builder="${2:?--builder needs a program}"; shift 2 ;;
    --builder=*) builder="${1#*=}"; shift ;;
    --push) push=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "build.sh: $*" >&2; exit 1; }

if [ -z "$builder" ]; then
  for candidate in buildah podman docker; do
    if command -v "$candidate" >/dev/null; then builder="$candidate"; break; fi
  done
  [ -n "$builder" ] || fail "needs buildah (apt-get install buildah), podman or docker"
fi
command -v "$builder" >/dev/null || fail "$builder is not installed"
command -v ldd >/dev/null || fail "needs ldd (part of the C library's tools: apt-get install libc-bin)"

if [ -z "$binary" ]; then
  echo "build.sh: building hornet (cargo build --release --locked -p hornet)" >&2
  (cd "$repo" && cargo build --release --locked -p hornet >&2)
  target_dir="$(cd "$repo" && cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
  binary="${target_dir:-$repo/target}/release/hornet"
fi
[ -f "$binary" ] && [ -x "$binary" ] || fail "$binary is not an executable file"

if [ -z "$tag" ]; then
  version_line="$("$binary" --version)" || fail "could not run $binary --version to read its version (give --tag)"
  tag="${version_line##* }"
fi
image="$registry/hornet:$tag"

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
rootfs="$context/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$context/home"
chmod 1777 "$rootfs/tmp"
cp "$here/Containerfile" "$context/Containerfile"

if [ "$strip_debug" = 1 ] && command -v strip >/dev/null; then
  strip --strip-debug -o "$rootfs/usr/local/bin/hornet" "$binary"
else
  [ "$strip_debug" = 1 ] && echo "build.sh: strip (binutils) is not installed; the binary keeps its debug info" >&2
  cp "$binary" "$rootfs/usr/local/bin/hornet"
fi
chmod 0755 "$rootfs/usr/local/bin/hornet"

# The shared libraries the binary links, and its program interpreter, at the paths ldd resolves them
# to (the interpreter's path is the one written in the binary). A static binary has none.
libraries="$(ldd "$binary" 2>&1)" || case "$libraries" in
  *"not a dynamic executable"*|*"statically linked"*) libraries="" ;;
  *) fail "ldd $binary failed: $libraries" ;;
esac
if printf '%s\n' "$libraries" | grep -q 'not found'; then
  fail "$binary links libraries this machine does not have: $(printf '%s\n' "$libraries" | grep 'not found')"
fi
printf '%s\n' "$libraries" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
  while read -r library; do
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
  done

ca_bundle=""
for candidate in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  if [ -f "$candidate" ]; then ca_bundle="$candidate"; break; fi
done
[ -n "$ca_bundle" ] || fail "no CA certificate bundle found (apt-get install ca-certificates)"
cp -L "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"

cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
hornet:x:10001:10001:hornet:/home/hornet:/sbin/nologin
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
hornet:x:10001:
EOF
echo 'hosts: files dns' > "$rootfs/etc/nsswitch.conf"

echo "build.sh: building $image with $builder" >&2
case "$builder" in
  *buildah) "$builder" build --layers=false --build-arg "VERSION=$tag" -t "$image" -f "$context/Containerfile" "$context" >&2 ;;
  *) "$builder" build --build-arg "VERSION=$tag" -t "$image" -f "$context/Containerfile" "$context" >&2 ;;
esac
size="$(du -sk "$rootfs" "$context/home" | awk '{ total += $1 } END { printf "%.1f MiB", total / 1024 }')"
echo "build.sh: $image holds $size (the binary and $(find "$rootfs" -name '*.so*' | wc -l) libraries)" >&2

if [ "$push" = 1 ]; then
  echo "build.sh: pushing $image" >&2
  "$builder" push "$image" >&2
fi
echo "$image"
