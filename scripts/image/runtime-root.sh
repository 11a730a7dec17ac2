#!/usr/bin/env bash
# Builds the root file system of the controller's image, apart from the application itself:
#   /opt/java/openjdk   a jlink runtime of the given modules, from the JDK that runs the build (no download)
#   /lib, /lib64, ...   the shared libraries that runtime needs, copied from this machine (found with ldd)
#   /etc/passwd, group  the user and group 65532 (nonroot) the image runs as, and root
#   /tmp                an empty directory: where a pod mounts a writable volume, the root being read-only
#   /usr/share/doc/...  the copyright files of the Debian packages those libraries come from, when dpkg is there
#
#   scripts/image/runtime-root.sh <JAVA_HOME> <module,module,...> <output directory>
#
# Called by controller-app's build (package phase) before Jib adds the application on top, and by the Dockerfile's
# build stage, so both images have one layout. Needs bash, jlink (in JAVA_HOME, with its jmods) and ldd.
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 <JAVA_HOME> <module,module,...> <output directory>" >&2
    echo "  e.g. $0 /usr/lib/jvm/java-17-openjdk-amd64 java.base,java.logging target/image-root" >&2
    exit 2
fi
java_home=$1 modules=$2 out=$3
if [[ ! -x "$java_home/bin/jlink" || ! -d "$java_home/jmods" ]]; then
    echo "$0: $java_home has no bin/jlink or no jmods/; give the home of a full JDK (17 or newer)" >&2
    exit 1
fi
command -v ldd >/dev/null || { echo "$0: ldd not found (glibc's libc-bin)" >&2; exit 1; }

rm -rf "$out"
runtime=$out/opt/java/openjdk
mkdir -p "$out/opt/java"
# No --compress: the image's layers are gzipped anyway, and an uncompressed lib/modules starts faster.
"$java_home/bin/jlink" --module-path "$java_home/jmods" --add-modules "$modules" \
    --strip-debug --no-header-files --no-man-pages --output "$runtime"

# java.desktop is in the runtime for java.beans (Jackson, SnakeYAML and commons-lang3 use it), never for graphics
# or sound: without these libraries the image needs no X11, font, image or ALSA libraries.
for lib in libawt.so libawt_headless.so libawt_xawt.so libfontmanager.so libjavajpeg.so libjawt.so libjsound.so \
           liblcms.so libmlib_image.so libsplashscreen.so; do
    rm -f "$runtime/lib/$lib"
done

# Every ELF file of the runtime, and what the dynamic linker needs to load it. libjvm.so is found by the others once
# it is loaded; LD_LIBRARY_PATH lets ldd find it too.
declare -A needed=()
while IFS= read -r -d '' file; do
    head -c 4 "$file" | grep -q $'\x7fELF' || continue
    listing=$(LD_LIBRARY_PATH="$runtime/lib/server:$runtime/lib" ldd "$file" 2>&1) || {
        echo "$0: ldd failed on $file: $listing" >&2; exit 1; }
    if grep -q "not found" <<<"$listing"; then
        echo "$0: $file needs a library this machine does not have:" >&2
        grep "not found" <<<"$listing" >&2
        exit 1
    fi
    while read -r path; do
        [[ $path == "$runtime"/* ]] || needed[$path]=1
    done < <(sed -n -e 's/.*=> \(\/[^ ]*\) (0x.*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' <<<"$listing")
done < <(find "$runtime" -type f -print0)
# glibc loads libgcc_s at run time (pthread_cancel, backtraces); it is usually listed already, through libjvm.so
for extra in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do
    if [[ -e $extra ]]; then needed[$extra]=1; break; fi
done

for path in "${!needed[@]}"; do
    mkdir -p "$out$(dirname "$path")"
    cp -L "$path" "$out$path"   # the file itself, not the symbolic link (no /lib -> usr/lib in the image)
    if command -v dpkg >/dev/null; then
        real=$(readlink -f "$path")
        pkg=$( (dpkg -S "$real" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true) | head -n 1 | cut -d: -f1)
        if [[ -n $pkg && -f /usr/share/doc/$pkg/copyright ]]; then
            mkdir -p "$out/usr/share/doc/$pkg"
            cp "/usr/share/doc/$pkg/copyright" "$out/usr/share/doc/$pkg/copyright"
        fi
    fi
done

mkdir -p "$out/etc" "$out/tmp"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' \
    > "$out/etc/passwd"
printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' > "$out/etc/group"

echo "$0: $(du -sh "$out" | cut -f1) in $out: runtime of $modules and ${#needed[@]} libraries:" \
    "$(printf '%s ' "${!needed[@]}")" >&2
