#!/usr/bin/env bash
# Guest hypercall round trip on the software CPU (--accel tcg), against KVM
# on the same machine where /dev/kvm is usable, and against the software
# CPU's own bare `out` exit (no handler) in any case; same guest, same run,
# rounds interleaved.
#
#   bench/softcpu-roundtrip.sh [--rounds N] [--tcg-iters N] [--kvm-iters N]
#
# The bench guest times N calls of xen_version(XENVER_version) (or, with
# mode=out, N bare `out`s to an unused port). The software CPU's TSC does
# not tick with the host's, so every figure here is wall clock: each case is
# run with iters=N/10 and iters=N, and the difference in run time over the
# difference in calls is the cost of one call, with boot and shutdown
# cancelled out (the software CPU boots in seconds, so its N is larger).
# A benchmark, not a test: exit status 0 unless a build or a run broke.
# Needs a JDK 25 and libunicorn2; /dev/kvm for the KVM column.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

rounds=5
declare -A iters=([tcg]=4000000 [kvm]=200000)
while (($#)); do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --tcg-iters) iters[tcg]="$2"; shift 2 ;;
        --kvm-iters) iters[kvm]="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "softcpu-roundtrip: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ && "${iters[tcg]}" =~ ^[1-9][0-9]{2,}$ && "${iters[kvm]}" =~ ^[1-9][0-9]{2,}$ ]] \
    || { echo "softcpu-roundtrip: --rounds must be a positive integer and the iters at least 100" >&2; exit 2; }

xenshim="$root/xenshim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# runs one case; prints its wall-clock milliseconds
run_ms() {  # $1 = accel, $2 = mode (call|out), $3 = iters
    local t0 t1 st=0
    t0=$(date +%s%N)
    "$xenshim" run --bundled bench --accel "$1" --cmdline "iters=$3 mode=$2" >"$work/out" 2>"$work/err" || st=$?
    t1=$(date +%s%N)
    if ((st != 0)) || ! grep -q '^bench: iters=' "$work/out"; then
        echo "softcpu-roundtrip: the $1 $2 run failed (exit status $st)" >&2
        sed 's/^/  /' "$work/out" "$work/err" >&2
        exit 1
    fi
    echo $(((t1 - t0) / 1000000))
}

# ns per call of one case: (time at N - time at N/10) / (N - N/10)
per_call_ns() {  # $1 = accel, $2 = mode
    local n=${iters[$1]} a b
    a=$(run_ms "$1" "$2" $((n / 10)))
    b=$(run_ms "$1" "$2" "$n")
    awk -v a="$a" -v b="$b" -v d=$((n - n / 10)) 'BEGIN { printf "%.0f", (b - a) * 1e6 / d }'
}

cases=("tcg call" "tcg out")
if [[ -w /dev/kvm ]]; then
    cases+=("kvm call" "kvm out")
else
    echo "softcpu-roundtrip: /dev/kvm is not usable here: the software CPU is compared with its own bare exit only" >&2
fi

echo "== building and warming up"
run_ms tcg call 1000 >/dev/null

echo "== machine"
echo "date:   $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpus:   $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds: $rounds; N = ${iters[tcg]} on tcg, ${iters[kvm]} on kvm (each case run with N/10 and N)"
echo
echo "== rounds (ns per call, wall clock)"
declare -A results
for ((r = 1; r <= rounds; r++)); do
    line="  round $r:"
    for c in "${cases[@]}"; do
        read -r accel mode <<<"$c"
        ns=$(per_call_ns "$accel" "$mode")
        results[$c]+="$ns "
        line+=" $accel-$mode $ns"
    done
    echo "$line"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "== medians"
for c in "${cases[@]}"; do
    printf '  %-10s %8s ns per call\n' "$c" "$(echo "${results[$c]}" | median)"
done
tcg_call=$(echo "${results[tcg call]}" | median)
tcg_out=$(echo "${results[tcg out]}" | median)
awk -v a="$tcg_call" -v b="$tcg_out" 'BEGIN { printf "  software CPU: hypercall / bare out exit = %.2f\n", a / b }'
if [[ -n "${results[kvm call]:-}" ]]; then
    kvm_call=$(echo "${results[kvm call]}" | median)
    awk -v a="$tcg_call" -v b="$kvm_call" 'BEGIN { printf "  hypercall: software CPU / KVM = %.2f\n", a / b }'
fi
