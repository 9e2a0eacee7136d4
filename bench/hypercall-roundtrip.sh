#!/usr/bin/env bash
# Guest hypercall round trip: the Java (FFM) xenshim VMM against the C
# baseline VMM (bench/c/kvm_exit_baseline), on the same bench guest ELF, in
# the same run, rounds interleaved (C, Java, C, Java, ...).
#
#   bench/hypercall-roundtrip.sh [--rounds N] [--iters N] [--target RATIO]
#
# Both VMMs take the same exit with the same stub: the guest calls
# hypercall_page+32*17 = `mov $17,%eax; out %eax,$0xe4; ret`, one
# KVM_EXIT_IO to user space, registers read from and rax written to kvm_run
# (KVM_CAP_SYNC_REGS), no other ioctl. The guest times N calls of
# xen_version(XENVER_version) with rdtsc after N/10 warm-up calls and prints
# `bench: iters=N cycles=C per_call=P`; that is the number compared here.
#
# Prints a table (per round, median, min), the Java/C ratio of the medians
# and a PASS/FAIL line against the target ratio (default 1.10). A benchmark,
# not a test: exit status 0 whether it passes or not, non-zero only if a
# build or a run broke. Needs /dev/kvm, gcc, make, a JDK 25.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

rounds=5
iters=100000
target=1.10
while (($#)); do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --iters) iters="$2"; shift 2 ;;
        --target) target="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "hypercall-roundtrip: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ && "$iters" =~ ^[1-9][0-9]*$ ]] || { echo "hypercall-roundtrip: --rounds and --iters must be positive integers" >&2; exit 2; }

elf="$root/x86-runtime/src/main/resources/xenshim/guests/bench.elf"
cvmm="$root/bench/c/kvm_exit_baseline"
jvmm="$root/xenshim"
[[ -f "$elf" ]] || { echo "hypercall-roundtrip: missing $elf" >&2; exit 1; }
[[ -w /dev/kvm ]] || { echo "hypercall-roundtrip: /dev/kvm is not usable here" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== building"
make -s -C "$root/bench/c" kvm_exit_baseline >&2
# The launcher rebuilds the Java side itself when a source is newer than its
# build; a short discarded run of each VMM does that (and checks both work)
# before anything is timed.
run_c() {   # $1 = iters, $2 = out prefix
    "$cvmm" "$elf" "iters=$1" >"$2.out" 2>"$2.err"
}
run_java() {
    "$jvmm" run "$elf" --cmdline "iters=$1" >"$2.out" 2>"$2.err"
}
check_run() {  # $1 = label, $2 = out prefix, $3 = exit status
    if (($3 != 0)) || ! grep -q '^bench: iters=' "$2.out" || ! grep -q '^bench: version=' "$2.out"; then
        echo "hypercall-roundtrip: $1 run failed (exit status $3)" >&2
        sed 's/^/  stdout: /' "$2.out" >&2
        sed 's/^/  stderr: /' "$2.err" >&2
        exit 1
    fi
}
st=0; run_c 1000 "$work/warm-c" || st=$?; check_run "C baseline (warm-up)" "$work/warm-c" "$st"
st=0; run_java 1000 "$work/warm-java" || st=$?; check_run "xenshim (build + warm-up)" "$work/warm-java" "$st"

echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpus:     $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
kvmmod="$(ls /sys/module 2>/dev/null | grep '^kvm' | paste -sd, - || true)"
echo "kvm:      ${kvmmod:-unknown}"
echo "java:     $(. "$root/jdk.sh" && "$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "guest:    $elf ($(sha256sum "$elf" | cut -c1-16))"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; other load on the host shows up as noise)"
echo "rounds:   $rounds x (C, Java), iters=$iters each (+ iters/10 warm-up calls in the guest)"

# per_call as the guest's total cycles / iters (the guest's own per_call is the same, truncated)
per_call() { sed -n 's/^bench: iters=\([0-9]*\) cycles=\([0-9]*\) per_call=.*/\2 \1/p' "$1" | awk '{printf "%.0f", $1 / $2}'; }
tsc_khz() { sed -n 's/.*tsc_khz=\([0-9.]*\)$/\1/p' "$1"; }
c_exit_ns() { sed -n 's/.*, \([0-9.]*\) ns per hypercall exit.*/\1/p' "$1"; }
java_handler_us() { awk '$1 == "17" && $2 == "xen_version" {print $4}' "$1"; }

echo
echo "== rounds"
c_cycles=(); j_cycles=(); khz=(); c_ns=(); j_handler=(); c_wall=(); j_wall=()
for ((r = 1; r <= rounds; r++)); do
    t0=$(date +%s%N); st=0; run_c "$iters" "$work/c$r" || st=$?; t1=$(date +%s%N)
    check_run "C baseline round $r" "$work/c$r" "$st"
    c_cycles+=("$(per_call "$work/c$r.out")"); khz+=("$(tsc_khz "$work/c$r.err")")
    c_ns+=("$(c_exit_ns "$work/c$r.err")"); c_wall+=("$(( (t1 - t0) / 1000000 ))")

    t0=$(date +%s%N); st=0; run_java "$iters" "$work/j$r" || st=$?; t1=$(date +%s%N)
    check_run "xenshim round $r" "$work/j$r" "$st"
    j_cycles+=("$(per_call "$work/j$r.out")"); j_handler+=("$(java_handler_us "$work/j$r.err")")
    j_wall+=("$(( (t1 - t0) / 1000000 ))")
    printf '  round %d: C %s cycles/call, Java %s cycles/call\n' "$r" "${c_cycles[-1]}" "${j_cycles[-1]}"
done

# The guest reads the host TSC (plus an offset); its rate, measured by the C
# VMM over each of its runs, turns cycles into wall-clock time.
khz_med="$(printf '%s\n' "${khz[@]}" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')"

{
    echo "C ${c_cycles[*]}"
    echo "J ${j_cycles[*]}"
    echo "K $khz_med"
    echo "CNS ${c_ns[*]}"
    echo "JH ${j_handler[*]}"
    echo "CW ${c_wall[*]}"
    echo "JW ${j_wall[*]}"
    echo "T $target"
} | awk '
function median(a, n,    i, j, t, b) {
    for (i = 1; i <= n; i++) b[i] = a[i]
    for (i = 2; i <= n; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
    return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}
function minimum(a, n,    i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
function us(cycles) { return cycles / khz * 1000 }
$1 == "C"   { n = NF - 1; for (i = 2; i <= NF; i++) c[i - 1] = $i }
$1 == "J"   { for (i = 2; i <= NF; i++) j[i - 1] = $i }
$1 == "K"   { khz = $2 }
$1 == "CNS" { for (i = 2; i <= NF; i++) cns[i - 1] = $i }
$1 == "JH"  { for (i = 2; i <= NF; i++) jh[i - 1] = $i }
$1 == "CW"  { for (i = 2; i <= NF; i++) cw[i - 1] = $i }
$1 == "JW"  { for (i = 2; i <= NF; i++) jw[i - 1] = $i }
$1 == "T"   { target = $2 }
END {
    printf "\n== results (guest-measured round trip of xen_version(XENVER_version); TSC %.0f kHz)\n\n", khz
    printf "%-8s | %14s %10s | %14s %10s | %9s\n", "round", "C cycles/call", "C us/call", "Java cyc/call", "Java us", "Java/C"
    printf "%-8s-+-%14s-%10s-+-%14s-%10s-+-%9s\n", "--------", "--------------", "----------", "--------------", "----------", "---------"
    for (i = 1; i <= n; i++)
        printf "%-8s | %14d %10.2f | %14d %10.2f | %9.3f\n", i, c[i], us(c[i]), j[i], us(j[i]), j[i] / c[i]
    cm = median(c, n); jm = median(j, n); cn = minimum(c, n); jn = minimum(j, n)
    printf "%-8s | %14d %10.2f | %14d %10.2f | %9.3f\n", "median", cm, us(cm), jm, us(jm), jm / cm
    printf "%-8s | %14d %10.2f | %14d %10.2f | %9.3f\n", "min", cn, us(cn), jn, us(jn), jn / cn
    printf "\n"
    printf "C VMM wall clock, all hypercall exits incl. boot and warm-up: median %.2f us/exit\n", median(cns, n) / 1000
    printf "xenshim: mean time inside the Java dispatch (page.invoke, its stats line): median %.2f us/call\n", median(jh, n)
    printf "process wall time per round (build check, JVM start, boot, %s): C median %d ms, Java median %d ms\n",
           "all calls", median(cw, n), median(jw, n)
    ratio = jm / cm
    printf "\nJava/C ratio of the medians: %.3f  (target <= %.2f)\n", ratio, target
    rel = (ratio >= 1) ? sprintf("%.1f%% slower", (ratio - 1) * 100) : sprintf("%.1f%% faster, within noise", (1 - ratio) * 100)
    if (ratio <= target)
        printf "PASS: xenshim round trip %.2f us vs C baseline %.2f us (%s)\n", us(jm), us(cm), rel
    else
        printf "FAIL: xenshim round trip %.2f us vs C baseline %.2f us (%s; target at most %.0f%% slower)\n", us(jm), us(cm), rel, (target - 1) * 100
}'
