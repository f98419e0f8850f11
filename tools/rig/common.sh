# Shared helpers for the rig's host-side scripts.  Sourced, never run.
# shellcheck shell=bash

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$RIG_DIR/../.." && pwd)
XB=${XNV_RIG_BUILD:-$TOP/build/xen}     # everything the rig builds lives here
CACHE=$XB/cache                         # artifacts that survive between runs
LOGS=${XNV_RIG_LOGS:-$XB/logs}          # logs of the latest run
VERSIONS=$CACHE/versions.env            # written by fetch-debs.sh

# Elapsed time is measured from the first script of a run (run-scenarios.sh
# exports RIG_T0), so every phase line of one run shares one clock.
: "${RIG_T0:=${EPOCHREALTIME/./}}"
export RIG_T0

rig_elapsed() {
    local us=$(( ${EPOCHREALTIME/./} - RIG_T0 ))
    printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

# phase MESSAGE: one progress line on stderr, also kept in logs/phases.txt.
phase() {
    local line
    line=$(printf 'xnv-rig: [%6ss] %s' "$(rig_elapsed)" "$*")
    echo "$line" >&2
    if [ -d "$LOGS" ]; then echo "$line" >>"$LOGS/phases.txt"; fi
}

die() {
    phase "ERROR: $*"
    exit 1
}

need_root() {
    [ "$(id -u)" = 0 ] || die "the rig must run as root (mmdebstrap --mode=root, chroot, loop-free mkfs)"
}

# hash_inputs FILE|-s STRING ...: one sha256 over the names and contents of
# files and over literal strings; the cache key of an artifact.
hash_inputs() {
    {
        while [ $# -gt 0 ]; do
            if [ "$1" = -s ]; then
                printf 'S:%s\n' "$2"; shift 2
            else
                printf 'F:%s\n' "${1#"$TOP"/}"; cat "$1"; shift
            fi
        done
    } | sha256sum | cut -c1-16
}

# Stamps: CACHE/stamps/NAME holds the key the artifact NAME was built from.
stamp_ok() { [ -f "$CACHE/stamps/$1" ] && [ "$(cat "$CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$CACHE/stamps"; echo "$2" >"$CACHE/stamps/$1"; }
stamp_get() { cat "$CACHE/stamps/$1" 2>/dev/null || echo none; }
stamp_clear() { rm -f "$CACHE/stamps/$1"; }

# retry N CMD...: run CMD up to N times (downloads fail transiently).
retry() {
    local n=$1 i=1; shift
    until "$@"; do
        [ "$i" -ge "$n" ] && return 1
        phase "  attempt $i/$n failed: $*; retrying in $((i * 5)) s"
        sleep $((i * 5)); i=$((i + 1))
    done
}

load_versions() {
    [ -f "$VERSIONS" ] || die "$VERSIONS missing: run tools/rig/fetch-debs.sh first"
    # shellcheck source=/dev/null
    . "$VERSIONS"
}
