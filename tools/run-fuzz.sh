#!/bin/sh
# Runs the xnv fuzz targets built by `make fuzz-build` (tests/fuzz/fuzz.mk).
#
#   tools/run-fuzz.sh SECONDS NAME[:LIBFUZZER-OPTIONS] ...
#       each target in turn, one process and one job (the machine is shared),
#       for SECONDS; prints its executions; exits 1 when any target crashed.
#       Working corpus: build/fuzz/corpus/NAME (new inputs land there); the
#       seeds of tests/fuzz/corpus/NAME and the kept reproducers of
#       tests/fuzz/crashes/NAME are read too.  Crash inputs go to
#       build/fuzz/artifacts/NAME/, logs to build/fuzz/logs/NAME.log.
#       FUZZ_ARGS (environment) adds libFuzzer options to every run.
#
#   tools/run-fuzz.sh --replay NAME ...
#       runs every reproducer of tests/fuzz/crashes/NAME/ once with
#       XNV_FUZZ_STRICT=1 (known findings are not tolerated) and says whether
#       it still fails; exits 1 when any does (a regression, or a finding
#       not fixed yet).
set -u

OUT=build/fuzz

if [ $# -lt 1 ]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

if [ "$1" = --replay ]; then
    shift
    failing=0
    total=0
    for name in "$@"; do
        dir=tests/fuzz/crashes/$name
        [ -d "$dir" ] || continue
        for f in "$dir"/*; do
            [ -f "$f" ] || continue
            case "$f" in *.txt|*.md) continue ;; esac
            total=$((total + 1))
            if XNV_FUZZ_STRICT=1 "$OUT/fuzz_$name" "$f" >"$OUT/replay.log" 2>&1; then
                printf '%-12s %-40s passes (fixed; kept as a regression input)\n' "$name" "$(basename "$f")"
            else
                why=$(grep -m1 -E 'xnv fuzz:|ERROR: AddressSanitizer|runtime error' "$OUT/replay.log")
                printf '%-12s %-40s still fails: %s\n' "$name" "$(basename "$f")" "$why"
                failing=$((failing + 1))
            fi
        done
    done
    echo "fuzz-crashes: $total reproducer(s), $failing still failing"
    [ "$failing" -eq 0 ]
    exit
fi

seconds=$1
shift
mkdir -p "$OUT/logs"
crashed=""
start_all=$(date +%s)
printf '%-10s %6s %12s %9s %6s %7s  %s\n' target seconds executions exec/s cov corpus result
for spec in "$@"; do
    name=${spec%%:*}
    opts=${spec#*:}
    [ "$opts" = "$spec" ] && opts=""
    bin=$OUT/fuzz_$name
    log=$OUT/logs/$name.log
    if [ ! -x "$bin" ]; then
        echo "run-fuzz: $bin missing (make fuzz-build)" >&2
        exit 2
    fi
    mkdir -p "$OUT/corpus/$name" "$OUT/artifacts/$name"
    dirs="$OUT/corpus/$name tests/fuzz/corpus/$name"
    [ -d "tests/fuzz/crashes/$name" ] && dirs="$dirs tests/fuzz/crashes/$name"
    t0=$(date +%s)
    # shellcheck disable=SC2086
    timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" -print_final_stats=1 \
        -timeout=20 -rss_limit_mb=2560 -artifact_prefix="$OUT/artifacts/$name/" \
        $opts ${FUZZ_ARGS:-} $dirs >"$log" 2>&1
    rc=$?
    t1=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs=0
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$log" | tail -1)
    el=$((t1 - t0))
    [ "$el" -gt 0 ] || el=1
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        result="CRASH (rc $rc): $(grep -m1 -E 'xnv fuzz:|ERROR: |runtime error' "$log")"
        art=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$log" | tail -1)
        [ -n "$art" ] && result="$result; input $art"
        crashed="$crashed $name"
    fi
    printf '%-10s %6s %12s %9s %6s %7s  %s\n' "$name" "$el" "$execs" "$((execs / el))" \
        "${cov:-?}" "${corp:-?}" "$result"
done
end_all=$(date +%s)
echo "fuzz: $# target(s) in $((end_all - start_all)) s; logs in $OUT/logs/"
if [ -n "$crashed" ]; then
    echo "fuzz: CRASHED:$crashed (reproduce: $OUT/fuzz_NAME INPUT)" >&2
    exit 1
fi
exit 0
