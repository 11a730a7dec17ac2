#!/usr/bin/env bash
# Makes the roots of the image's two platforms from Debian's packages, without installing any of them: for each of
# arm64 and amd64, <dir>/<arch>/ holds
#   sysroot/        openjdk-17-jdk-headless (its jmods), libc6, libstdc++6, libgcc-s1 and zlib1g of that architecture,
#                   unpacked with dpkg-deb -x (runtime-root.sh links the jmods and copies the libraries it needs)
#   packages.tsv    one line per package: name, version, architecture (the SBOM's entries)
#   files/<p>.list  the paths package <p> ships (which package owns a copied library)
# and installs Debian's qemu-user-static (qemu-aarch64-static, which ImageSmokeIT runs the arm64 image with).
#
#   scripts/image/install-roots.sh          # prints <dir> on stdout (progress goes to stderr)
#   mvn -B verify -Dimage.roots="$(scripts/image/install-roots.sh)"
#
# Both platforms get the same JDK version: the machine's own openjdk-17-jdk-headless version when the archive still
# has it, or else the newest 17 in the archive (this machine's jlink links jmods of its own feature release, 17.0),
# so the amd64 image does not depend on what the build machine has installed. Cached under
# ${PODCIDR_IMAGE_ROOTS_CACHE:-~/.cache/podcidr-image-roots}/<key>, the key naming the package versions, so a later run
# downloads nothing. Needs root the first time (dpkg --add-architecture arm64, apt-get update, apt-get install
# qemu-user-static).
set -euo pipefail

readonly JDK=openjdk-17-jdk-headless
readonly LIBRARIES=(libc6 libstdc++6 libgcc-s1 zlib1g)
readonly ARCHES=(amd64 arm64)
readonly CACHE_ROOT="${PODCIDR_IMAGE_ROOTS_CACHE:-$HOME/.cache/podcidr-image-roots}"

log() { echo "image-roots: $*" >&2; }
fail() { echo "image-roots: ERROR: $*" >&2; exit 1; }
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

# Unpacks the packages ("name:arch=version") into $1/sysroot and lists them in $1/packages.tsv and $1/files/.
unpack() {
  local out=$1 deb p; shift
  mkdir -p "$out/debs" "$out/sysroot" "$out/files"
  log "apt-get download $*"
  # apt's sandbox user cannot write in a root-owned directory; the download is of signed archive files anyway
  (cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2)
  for deb in "$out"/debs/*.deb; do
    p=$(dpkg-deb -f "$deb" Package)
    dpkg-deb -x "$deb" "$out/sysroot"
    dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' > "$out/files/$p.list"
    printf '%s\t%s\t%s\n' "$p" "$(dpkg-deb -f "$deb" Version)" "$(dpkg-deb -f "$deb" Architecture)" \
      >> "$out/packages.tsv"
  done
  rm -rf "$out/debs"
  compgen -G "$out/sysroot/usr/lib/jvm/java-*-openjdk-*/jmods" >/dev/null || fail "$JDK in $out has no jmods/"
}

main() {
  prepare_apt
  install_qemu
  local host_jdk v arch p key dir
  declare -A pkgs=()
  host_jdk=$(dpkg-query -W -f='${Version}' "$JDK" 2>/dev/null || true)
  v=$(pick_version "$JDK:arm64" "$host_jdk")
  [ "$v" = "$host_jdk" ] || log "$JDK $host_jdk is gone from the archive; both platforms get $v (same feature release)"
  for arch in "${ARCHES[@]}"; do
    [ "$(pick_version "$JDK:$arch" "$v")" = "$v" ] || fail "the archive has no $JDK:$arch $v"
    pkgs[$arch]="$JDK:$arch=$v"
    for p in "${LIBRARIES[@]}"; do
      pkgs[$arch]+=" $p:$arch=$(pick_version "$p:$arch" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)")"
    done
  done
  key=$(for arch in "${ARCHES[@]}"; do echo "${pkgs[$arch]}"; done | sha256sum | cut -c1-12)
  dir="$CACHE_ROOT/${v//[+~:]/_}-$key"
  if [ -f "$dir/amd64/packages.tsv" ] && [ -f "$dir/arm64/packages.tsv" ]; then
    log "cached: $dir"
    echo "$dir"
    return
  fi
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  for arch in "${ARCHES[@]}"; do
    # shellcheck disable=SC2086 # the list is space-separated package specs without spaces
    unpack "$tmp/$arch" ${pkgs[$arch]}
  done
  rm -rf "$dir"
  mv "$tmp" "$dir"
  log "made $dir: $(cat "$dir"/*/packages.tsv | tr '\t' ' ' | paste -sd, -)"
  echo "$dir"
}

main "$@"
