#!/usr/bin/env bash
# Builds the root file system of the controller's image, apart from the application itself:
#   /opt/java/openjdk   a jlink runtime of the given modules, linked by the JDK that runs the build (no download)
#   /lib, /lib64, ...   the shared libraries that runtime needs
#   /etc/passwd, group  the user and group 65532 (nonroot) the image runs as, and root
#   /tmp                an empty directory: where a pod mounts a writable volume, the root being read-only
#   /usr/share/doc/...  the copyright files of the Debian packages those libraries come from, when known
#   /var/lib/dpkg/status.d/<package>   one dpkg status stanza per Debian package the root holds files of (the JDK
#                       whose jmods were linked, each library's package), where image scanners look for packages
# and, beside the root, <output directory>.packages.tsv: one line per file taken from a Debian package, with
# role (runtime or library), package, version, architecture and the file's path in the image (the SBOM's input).
#
#   scripts/image/runtime-root.sh <JAVA_HOME> <module,module,...> <output directory> [<foreign root>]
#
# Without <foreign root>: the runtime of this machine's architecture, from JAVA_HOME's jmods, and the libraries of
# this machine (found with ldd, owners with dpkg -S). With it: one architecture's directory of what
# scripts/image/install-roots.sh prints (Debian's packages unpacked in sysroot/, listed in packages.tsv and files/):
# JAVA_HOME's jlink links the jmods found there, and the libraries come from there (found with readelf, since ldd
# cannot load another architecture's files).
#
# Called by controller-app's build (package phase) before Jib adds the application on top, and by the Dockerfile's
# build stage, so both images have one layout. Needs bash, jlink (in JAVA_HOME) and ldd, or readelf (binutils) with
# a foreign root.
set -euo pipefail

if [[ $# -ne 3 && $# -ne 4 ]]; then
    echo "usage: $0 <JAVA_HOME> <module,module,...> <output directory> [<foreign root>]" >&2
    echo "  e.g. $0 /usr/lib/jvm/java-17-openjdk-amd64 java.base,java.logging target/image-root" >&2
    echo "       $0 /usr/lib/jvm/java-17-openjdk-amd64 java.base target/image-root-arm64 \"\$(scripts/image/install-roots.sh)/arm64\"" >&2
    exit 2
fi
java_home=$1 modules=$2 out=$3 foreign=${4:-}
if [[ ! -x "$java_home/bin/jlink" ]]; then
    echo "$0: $java_home has no bin/jlink; give the home of a full JDK (17 or newer)" >&2
    exit 1
fi
if [[ -z $foreign ]]; then
    jmods=$java_home/jmods
    [[ -d $jmods ]] || { echo "$0: $java_home has no jmods/; give the home of a full JDK (17 or newer)" >&2; exit 1; }
    command -v ldd >/dev/null || { echo "$0: ldd not found (glibc's libc-bin)" >&2; exit 1; }
else
    sysroot=$foreign/sysroot
    jmods=$(compgen -G "$sysroot/usr/lib/jvm/java-*-openjdk-*/jmods" | head -n 1 || true)
    if [[ ! -f $foreign/packages.tsv || -z $jmods ]]; then
        echo "$0: $foreign is not a root made by scripts/image/install-roots.sh (no packages.tsv, or no" \
             "sysroot/usr/lib/jvm/java-*-openjdk-*/jmods); run that script and pass <the directory it prints>/<arch>" >&2
        exit 1
    fi
    command -v readelf >/dev/null || { echo "$0: readelf not found (binutils)" >&2; exit 1; }
fi

rm -rf "$out" "$out.packages.tsv"
runtime=$out/opt/java/openjdk
mkdir -p "$out/opt/java"
# No --compress: the image's layers are gzipped anyway, and an uncompressed lib/modules starts faster. Debian's native
# libraries are stripped already; --strip-debug would also run this machine's objcopy on them, which cannot read
# another architecture's files, so a foreign root gets the Java half of it only.
strip=--strip-debug
[[ -z $foreign ]] || strip=--strip-java-debug-attributes
"$java_home/bin/jlink" --module-path "$jmods" --add-modules "$modules" \
    "$strip" --no-header-files --no-man-pages --output "$runtime"

# java.desktop is in the runtime for java.beans (Jackson, SnakeYAML and commons-lang3 use it), never for graphics
# or sound: without these libraries the image needs no X11, font, image or ALSA libraries.
for lib in libawt.so libawt_headless.so libawt_xawt.so libfontmanager.so libjavajpeg.so libjawt.so libjsound.so \
           liblcms.so libmlib_image.so libsplashscreen.so; do
    rm -f "$runtime/lib/$lib"
done

is_elf() { head -c 4 "$1" | grep -q $'\x7fELF'; }

# needed: path in the image -> the file to copy there (a symbolic link is copied as the file it names).
declare -A needed=()
if [[ -z $foreign ]]; then
    # Every ELF file of the runtime, and what the dynamic linker needs to load it. libjvm.so is found by the others
    # once it is loaded; LD_LIBRARY_PATH lets ldd find it too.
    while IFS= read -r -d '' file; do
        is_elf "$file" || continue
        listing=$(LD_LIBRARY_PATH="$runtime/lib/server:$runtime/lib" ldd "$file" 2>&1) || {
            echo "$0: ldd failed on $file: $listing" >&2; exit 1; }
        if grep -q "not found" <<<"$listing"; then
            echo "$0: $file needs a library this machine does not have:" >&2
            grep "not found" <<<"$listing" >&2
            exit 1
        fi
        while read -r path; do
            [[ $path == "$runtime"/* ]] || needed[$path]=$path
        done < <(sed -n -e 's/.*=> \(\/[^ ]*\) (0x.*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' <<<"$listing")
    done < <(find "$runtime" -type f -print0)
    # glibc loads libgcc_s at run time (pthread_cancel, backtraces); it is usually listed already, through libjvm.so
    for extra in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do
        if [[ -e $extra ]]; then needed[$extra]=$extra; break; fi
    done
else
    # The file a path of the foreign root names, following symbolic links inside that root (an absolute target is
    # a path of the root, not of this machine).
    in_sysroot() {
        local path=$1 target hops=0
        while [[ -L $sysroot$path ]]; do
            target=$(readlink "$sysroot$path")
            if [[ $target == /* ]]; then path=$target; else path=$(dirname "$path")/$target; fi
            (( ++hops < 40 )) || { echo "$0: symbolic link loop at $1 in $sysroot" >&2; exit 1; }
        done
        echo "$sysroot$path"
    }
    # The runtime's own directories first (libjvm.so and its siblings), then the root's library directories.
    machine=$(readelf -h "$runtime/bin/java" | sed -n 's/^ *Machine: *//p')
    case $machine in
        AArch64) triplet=aarch64-linux-gnu ;;
        *X86-64*) triplet=x86_64-linux-gnu ;;
        *) echo "$0: the runtime's bin/java is for \"$machine\", which this script does not know" >&2; exit 1 ;;
    esac
    search=(/lib/$triplet /usr/lib/$triplet /lib /usr/lib)
    declare -A seen=()
    queue=()
    while IFS= read -r -d '' file; do is_elf "$file" && queue+=("$file"); done < <(find "$runtime" -type f -print0)
    interpreter=$(readelf -l "$runtime/bin/java" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
    [[ -n $interpreter && -e $(in_sysroot "$interpreter") ]] || {
        echo "$0: the dynamic linker \"$interpreter\" of bin/java is not in $sysroot" >&2; exit 1; }
    needed[$interpreter]=$(in_sysroot "$interpreter")
    while (( ${#queue[@]} > 0 )); do
        file=${queue[0]}; queue=("${queue[@]:1}")
        for name in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
            [[ -n ${seen[$name]:-} ]] && continue
            seen[$name]=1
            [[ -n $(find "$runtime/lib" -name "$name" -print -quit) ]] && continue
            found=
            for dir in "${search[@]}"; do
                if [[ -e $(in_sysroot "$dir/$name") ]]; then found=$dir/$name; break; fi
            done
            if [[ -z $found ]]; then
                echo "$0: $file needs $name, which is in none of ${search[*]} of $sysroot" >&2
                echo "  (add the Debian package that ships it to scripts/image/install-roots.sh)" >&2
                exit 1
            fi
            needed[$found]=$(in_sysroot "$found")
            queue+=("$(in_sysroot "$found")")
        done
    done
    for extra in /lib/$triplet/libgcc_s.so.1 /usr/lib/$triplet/libgcc_s.so.1; do
        if [[ -e $(in_sysroot "$extra") ]]; then needed[$extra]=$(in_sysroot "$extra"); break; fi
    done
fi

# The Debian package that ships a path, with its version and architecture ("package<TAB>version<TAB>arch"), or
# nothing when it is not known (a JDK that is not Debian's, a machine without dpkg).
owner() {
    local path=$1 pkg
    if [[ -z $foreign ]]; then
        command -v dpkg-query >/dev/null || return 0
        pkg=$( (dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true) \
               | head -n 1 | cut -d: -f1-2 | cut -d' ' -f1)
        pkg=${pkg%:}
        [[ -n $pkg ]] || return 0
        dpkg-query -W -f='${Package}\t${Version}\t${Architecture}\n' "$pkg" 2>/dev/null | head -n 1
    else
        local list
        list=$(grep -lxF -e "$path" -e "${2:-$path}" "$foreign"/files/*.list 2>/dev/null | head -n 1 || true)
        [[ -n $list ]] || return 0
        pkg=$(basename "$list" .list)
        awk -F'\t' -v p="$pkg" '$1 == p' "$foreign/packages.tsv" | head -n 1
    fi
}
declare -A packages=()   # package -> "package<TAB>version<TAB>arch"

# The runtime is what jlink made of the JDK's jmods: it is that JDK package's, in the version of those jmods.
jdk=$(owner "$jmods/java.base.jmod" "${jmods#"${sysroot:-}"}/java.base.jmod")
if [[ -n $jdk ]]; then
    printf 'runtime\t%s\t/opt/java/openjdk\n' "$jdk" >> "$out.packages.tsv"
    packages[${jdk%%$'\t'*}]=$jdk
else
    implementor=$(sed -n 's/^IMPLEMENTOR="\(.*\)"/\1/p' "$runtime/release")
    version=$(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$runtime/release")
    [[ -n $version ]] || version=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$runtime/release")
    arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
    echo "$0: the JDK in $jmods is not a Debian package; the SBOM names it from its release file:" \
         "${implementor:-implementor unknown} $version" >&2
    printf 'runtime\tjdk (%s)\t%s\t%s\t/opt/java/openjdk\n' "${implementor:-implementor unknown}" "$version" "$arch" \
        >> "$out.packages.tsv"
fi

for path in "${!needed[@]}"; do
    mkdir -p "$out$(dirname "$path")"
    cp -L "${needed[$path]}" "$out$path"   # the file itself, not the symbolic link (no /lib -> usr/lib in the image)
    if [[ -z $foreign ]]; then
        owned=$(owner "$path")
    else
        owned=$(owner "$path" "${needed[$path]#"$sysroot"}")
        [[ -n $owned ]] || owned=$(owner "$(realpath -m --relative-to="$sysroot" "${needed[$path]}" | sed 's|^|/|')")
    fi
    if [[ -z $owned ]]; then
        echo "$0: no Debian package owns $path; the SBOM will not list it" >&2
        continue
    fi
    printf 'library\t%s\t%s\n' "$owned" "$path" >> "$out.packages.tsv"
    pkg=${owned%%$'\t'*}
    packages[$pkg]=$owned
    copyright=${sysroot:-}/usr/share/doc/$pkg/copyright
    if [[ -f $copyright ]]; then
        mkdir -p "$out/usr/share/doc/$pkg"
        cp "$copyright" "$out/usr/share/doc/$pkg/copyright"
    fi
done

# One status file per package, as distroless images have them: what scanners (Trivy, Syft, Grype) read to know
# which Debian packages, in which versions, an image holds.
mkdir -p "$out/var/lib/dpkg/status.d"
for pkg in "${!packages[@]}"; do
    IFS=$'\t' read -r name version arch <<<"${packages[$pkg]}"
    printf 'Package: %s\nVersion: %s\nArchitecture: %s\nStatus: install ok installed\n' "$name" "$version" "$arch" \
        > "$out/var/lib/dpkg/status.d/$name"
done

mkdir -p "$out/etc" "$out/tmp"
# which distribution the packages above are from (scanners match /var/lib/dpkg/status.d against its advisories); the
# foreign root's packages come from this machine's archive too
if [[ -f /etc/os-release ]]; then cp -L /etc/os-release "$out/etc/os-release"; fi
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' \
    > "$out/etc/passwd"
printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' > "$out/etc/group"

echo "$0: $(du -sh "$out" | cut -f1) in $out: runtime of $modules and ${#needed[@]} libraries:" \
    "$(printf '%s ' "${!needed[@]}")" >&2
