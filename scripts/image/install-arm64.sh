#!/usr/bin/env bash
# Makes the inputs of the image's linux/arm64 variant from Debian's arm64 packages, without installing any of them:
#   <dir>/sysroot/        openjdk-17-jdk-headless (its jmods), libc6, libstdc++6, libgcc-s1 and zlib1g for arm64,
#                         unpacked with dpkg-deb -x (runtime-root.sh links the jmods and copies the libraries it needs)
#   <dir>/packages.tsv    one line per package: name, version, architecture (the SBOM's entries)
#   <dir>/files/<p>.list  the paths package <p> ships (which package owns a copied library)
# and installs Debian's qemu-user-static (qemu-aarch64-static, which ImageSmokeIT runs the arm64 image with).
#
#   scripts/image/install-arm64.sh          # prints <dir> on stdout (progress goes to stderr)
#   mvn -B verify -Dimage.arm64.root="$(scripts/image/install-arm64.sh)"
#
# The JDK is the arm64 build of the machine's own openjdk-17-jdk-headless version when the archive still has it, or
# else the newest 17 in the archive: jlink accepts jmods of the same feature release (17.0), and the SBOM records the
# version of each platform. Cached under ${PODCIDR_IMAGE_ARM64_CACHE:-~/.cache/podcidr-image-arm64}/<key>, the key
# naming the package versions, so a later run downloads nothing. Needs root the first time (dpkg --add-architecture,
# apt-get update, apt-get install qemu-user-static).
set -euo pipefail

readonly JDK=openjdk-17-jdk-headless
readonly LIBRARIES=(libc6 libstdc++6 libgcc-s1 zlib1g)
readonly CACHE_ROOT="${PODCIDR_IMAGE_ARM64_CACHE:-$HOME/.cache/podcidr-image-arm64}"

log() { echo "image-arm64: $*" >&2; }
fail() { echo "image-arm64: ERROR: $*" >&2; exit 1; }
need_root() {
  [ "$(id -u)" = 0 ] || fail "$1 needs root; run as root once (later runs use the cache)"
}

# Version of package $1 (name:arch) that apt would download: $2 if the archive has it, else the candidate.
pick_version() {
  local pkg=$1 wanted=${2:-} versions
  versions=$(apt-cache madison "$pkg" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
  [ -n "$versions" ] || fail "the archive has no $pkg (apt-cache madison $pkg)"
  if [ -n "$wanted" ] && grep -qxF "$wanted" <<<"$versions"; then echo "$wanted"; return; fi
  apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}'
}

prepare_apt() {
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    need_root "dpkg --add-architecture arm64"
    log "dpkg --add-architecture arm64"
    dpkg --add-architecture arm64
  fi
  if ! apt-cache show "$JDK:arm64" >/dev/null 2>&1; then
    need_root "apt-get update"
    log "package lists do not know $JDK:arm64 yet: apt-get update"
    apt-get update -q >&2
  fi
}

install_qemu() {
  command -v qemu-aarch64-static >/dev/null && return
  need_root "installing qemu-user-static"
  log "apt-get install qemu-user-static (runs the arm64 image in ImageSmokeIT)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user-static >&2
  command -v qemu-aarch64-static >/dev/null || fail "qemu-user-static installed no qemu-aarch64-static on PATH"
}

main() {
  prepare_apt
  install_qemu
  local host_jdk pkgs=() p v key dir
  host_jdk=$(dpkg-query -W -f='${Version}' "$JDK" 2>/dev/null || true)
  v=$(pick_version "$JDK:arm64" "$host_jdk")
  [ "$v" = "$host_jdk" ] || log "$JDK:arm64 $host_jdk is gone from the archive; using $v (same feature release)"
  pkgs+=("$JDK:arm64=$v")
  for p in "${LIBRARIES[@]}"; do
    pkgs+=("$p:arm64=$(pick_version "$p:arm64" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)")")
  done
  key=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-12)
  dir="$CACHE_ROOT/${v//[+~:]/_}-$key"
  if [ -f "$dir/packages.tsv" ]; then
    log "cached: $dir"
    echo "$dir"
    return
  fi
  local tmp="$dir.tmp.$$" deb
  rm -rf "$tmp"
  mkdir -p "$tmp/debs" "$tmp/sysroot" "$tmp/files"
  log "apt-get download ${pkgs[*]}"
  # apt's sandbox user cannot write in a root-owned directory; the download is of signed archive files anyway
  (cd "$tmp/debs" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}" >&2)
  for deb in "$tmp"/debs/*.deb; do
    p=$(dpkg-deb -f "$deb" Package)
    dpkg-deb -x "$deb" "$tmp/sysroot"
    dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' > "$tmp/files/$p.list"
    printf '%s\t%s\t%s\n' "$p" "$(dpkg-deb -f "$deb" Version)" "$(dpkg-deb -f "$deb" Architecture)" \
      >> "$tmp/packages.tsv"
  done
  rm -rf "$tmp/debs"
  [ -d "$tmp/sysroot/usr/lib/jvm/java-17-openjdk-arm64/jmods" ] || fail "$JDK:arm64 $v has no jmods/"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  log "made $dir: $(tr '\t' ' ' < "$dir/packages.tsv" | paste -sd, -)"
  echo "$dir"
}

main "$@"
