#!/usr/bin/env bash
# Installs the real control plane of the test tier: kube-apiserver, kube-controller-manager and kube-scheduler 1.20.2
# built from Debian bookworm's source package "kubernetes", and Debian's etcd 3.4. Needs root and Debian's package
# archive only.
#
#   scripts/control-plane/install.sh            # prints the directory holding kube-apiserver, kube-controller-manager,
#                                               # kube-scheduler and etcd
#   bin=$(scripts/control-plane/install.sh) && mvn -B verify -Preal-control-plane -Dcontrol-plane.bin="$bin"
#
# The binaries are cached under ${PODCIDR_CONTROL_PLANE_CACHE:-~/.cache/podcidr-control-plane}/<key>/bin, the key
# naming the source version, the Go version and a hash of the patch and of the list of binaries, so only the first run
# on a machine builds, and a machine whose cache predates a binary builds again (about 8 to 12 minutes on 2 cores). Progress goes to stderr; stdout carries the directory alone.
#
# The build is Debian's own (debian/rules): GOPATH mode through a symlink to .go/src/k8s.io/kubernetes, CGO off,
# `make WHAT=...`, which also generates the OpenAPI files a plain `go build` lacks. One change is made to the tree
# first, with reflect2-go1.18-mapiter.patch beside this script: the vendored github.com/modern-go/reflect2 v1.0.1
# declares runtime's mapiterinit with the pre-Go-1.18 signature (it returned the iterator; since 1.18 the caller
# passes one and the runtime fills the whole runtime.hiter). Built with Go 1.19 unpatched, the server writes past a
# two-word struct, and some starts answer every Lease and Event request by closing the connection (a panic in
# reflect2.(*frozenConfig).Type2). The patch declares the new signature and the full struct, and allocates the
# iterator in the caller, which is what reflect2 v1.0.2 does.
set -euo pipefail

readonly SOURCE_PACKAGE=kubernetes
readonly SOURCE_VERSION=1.20.5+really1.20.2-1.1+deb12u1
readonly HERE="$(cd "$(dirname "$0")" && pwd)"
readonly PATCH="$HERE/reflect2-go1.18-mapiter.patch"
readonly CACHE_ROOT="${PODCIDR_CONTROL_PLANE_CACHE:-$HOME/.cache/podcidr-control-plane}"
readonly BINARIES=(kube-apiserver kube-controller-manager kube-scheduler)

log() { echo "control-plane: $*" >&2; }
fail() { echo "control-plane: ERROR: $*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || fail "installing Debian packages needs root; run as root, or install golang-go etcd-server rsync jq dpkg-dev yourself"
}

install_packages() {
  local missing=()
  for p in golang-go etcd-server rsync jq dpkg-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    need_root
    log "installing ${missing[*]}"
    apt-get update -q >&2
    apt-get install -y -q "${missing[@]}" >&2
  fi
}

# Adds deb-src entries beside the machine's own Debian sources (same archive, same keys), so that the source
# package comes from the archive the machine is already set up for.
enable_deb_src() {
  local list=/etc/apt/sources.list.d/podcidr-deb-src.sources
  if apt-cache showsrc "$SOURCE_PACKAGE" 2>/dev/null | grep -q "^Version: $SOURCE_VERSION\$"; then return; fi
  need_root
  if [ ! -f "$list" ]; then
    [ -f /etc/apt/sources.list.d/debian.sources ] \
      || fail "no /etc/apt/sources.list.d/debian.sources to derive deb-src entries from; add a deb-src line for bookworm"
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$list"
    log "enabled deb-src in $list"
  fi
  apt-get update -q >&2
  apt-cache showsrc "$SOURCE_PACKAGE" | grep -q "^Version: $SOURCE_VERSION\$" \
    || fail "source package $SOURCE_PACKAGE $SOURCE_VERSION is not in the archive (apt-cache showsrc $SOURCE_PACKAGE)"
}

main() {
  install_packages
  local go_version key dir
  go_version="$(go env GOVERSION)"
  key="${SOURCE_VERSION//+/_}-${go_version}-$( (cat "$PATCH"; printf '%s\n' "${BINARIES[@]}") | sha256sum | cut -c1-12)"
  dir="$CACHE_ROOT/$key"
  local cached=true b
  for b in "${BINARIES[@]}"; do [ -x "$dir/bin/$b" ] || cached=false; done
  if $cached; then
    log "cached: $dir/bin"
    echo "$dir/bin"
    return
  fi

  enable_deb_src
  build="$CACHE_ROOT/build-$$"
  rm -rf "$build" && mkdir -p "$build"
  trap 'rm -rf "${build:?}"' EXIT
  log "fetching source package $SOURCE_PACKAGE $SOURCE_VERSION"
  # apt checks the files against the archive's signed Sources index; dpkg-source's own warning that it cannot check
  # the .dsc's inline signature (no Debian keyring installed) is harmless here.
  (cd "$build" && apt-get source --download-only "$SOURCE_PACKAGE=$SOURCE_VERSION" >&2)
  (cd "$build" && dpkg-source -x ./*.dsc src >&2)
  log "patching vendored reflect2 for Go >= 1.18"
  patch -d "$build/src" -p1 --forward < "$PATCH" >&2
  mkdir -p "$build/src/.go/src/k8s.io"
  ln -s ../../.. "$build/src/.go/src/k8s.io/kubernetes"
  log "building ${BINARIES[*]} with $go_version (8 to 12 minutes on 2 cores)"
  local started=$SECONDS
  (cd "$build/src/.go/src/k8s.io/kubernetes" \
    && env GOPATH="$build/src/.go" CGO_ENABLED=0 GO111MODULE=off GOFLAGS= \
      make WHAT="${BINARIES[*]/#/cmd/}" >&2)
  log "built in $((SECONDS - started)) s"
  mkdir -p "$dir.tmp/bin"
  for b in "${BINARIES[@]}"; do cp "$build/src/_output/bin/$b" "$dir.tmp/bin/"; done
  ln -sf "$(command -v etcd)" "$dir.tmp/bin/etcd"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  "$dir/bin/kube-apiserver" --version >&2
  echo "$dir/bin"
}

main "$@"
