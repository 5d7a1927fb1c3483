#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# examples/sfr-avg on the host, whose kernel has no sfr: --help, usage
# errors (status 2), the automatic user-space fallback (one notice on
# stderr) and --no-offload giving the exact answer of tools/gen/sfr-gen
# --summary on generated files and of selftests/src/avg_oracle.py on edge
# files; --strict, file errors, --stats; then runs under valgrind.
set -euo pipefail
export LC_ALL=C
S=$(cd "$(dirname "$0")/.." && pwd)
A=$S/../examples/.output/sfr-avg
GEN=$S/.output/sfr-gen
ORACLE=$S/src/avg_oracle.py
for b in "$A" "$GEN"; do
	[[ -x $b ]] || { echo "missing $b: make -C selftests KDIR=..."; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 runs=0

bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

run() { # WANT_RC ARGS... -> $work/out, $work/err
	local want=$1 rc=0
	shift
	runs=$((runs + 1))
	"$A" "$@" >"$work/out" 2>"$work/err" || rc=$?
	((rc == want)) || bad "sfr-avg $*: exit status $rc, want $want: $(head -c 200 "$work/err")"
}

# same WANT_FILE WANT_RC ARGS...: automatic (one fallback notice at most,
# besides "no numbers") and --no-offload (none) give WANT_FILE.
same() {
	local want=$1 want_rc=$2 mode
	shift 2
	for mode in auto -j2 --no-offload "--no-offload -j 3"; do
		case $mode in
		auto) run "$want_rc" "$@" ;;
		-j2) run "$want_rc" -j 2 "$@" ;;
		--no-offload) run "$want_rc" --no-offload "$@" ;;
		*) run "$want_rc" --no-offload -j 3 "$@" ;;
		esac
		cmp -s "$want" "$work/out" || {
			bad "$mode $*: stdout differs"
			diff "$want" "$work/out" | head -5 || true
		}
		grep -v ': no numbers (' "$work/err" >"$work/err2" || true
		if [[ $mode == --no-offload* ]]; then
			[[ ! -s $work/err2 ]] || bad "$mode $*: stderr: $(head -3 "$work/err2")"
		else
			[[ $(grep -vc 'computing in user space' "$work/err2") == 0 &&
			   $(wc -l <"$work/err2") -le 1 ]] ||
				bad "$mode $*: stderr: $(head -3 "$work/err2")"
		fi
	done
}

# --help and usage errors
run 0 --help
grep -q '^Usage: sfr-avg' "$work/out" && grep -q '^Examples:' "$work/out" &&
	grep -q -- '--no-offload' "$work/out" && grep -q 'half away from zero' "$work/out" &&
	grep -q "'1e3' is rejected" "$work/out" && grep -q '^Exit status' "$work/out" ||
	bad "--help lacks Usage, Examples, --no-offload or the rules"
[[ ! -s $work/err ]] || bad "--help wrote to stderr"
for args in "-j" "-j 0" "-j abc" "-j 99999" "-f 0" "-f 2" "-f 1x" "-d , -f -1" \
	    "-d ab" "-d ''" "-d \$'\\n'" "-s 19" "--scale=-1" "--decimals 19" \
	    "--bogus" "-X"; do
	eval "set -- $args"
	run 2 "$@" /dev/null
	[[ -s $work/err && ! -s $work/out ]] || bad "'$args': no message, or output on stdout"
done

# Generated files against the generator's exact answer.
"$GEN" --summary "$work/g1.want" numbers 20M 7 >"$work/g1.txt"
same "$work/g1.want" 0 "$work/g1.txt"
"$GEN" --summary "$work/g2.want" --scale 3 numbers 1M 8 >"$work/g2.txt"
same "$work/g2.want" 0 --scale 3 "$work/g2.txt"
"$GEN" --summary "$work/g3.want" --scale 0 numbers 99999 9 >"$work/g3.txt"
same "$work/g3.want" 0 -s 0 "$work/g3.txt"

# Threads in user space (--no-offload -j N) read segments of 4 MiB: lines
# across segment ends, a line longer than a segment, no final newline.
{
	cat "$work/g1.txt"; echo	# (it has no final newline)
	head -c 5000000 /dev/zero | tr '\0' x; echo
	printf '  -1.25\r\n'
	head -c 4194000 "$work/g1.txt"
	printf '3'
} >"$work/seg.txt"
python3 "$ORACLE" "$work/seg.txt" >"$work/want" || true
for j in 2 3 8 64; do
	run 0 --no-offload -j "$j" "$work/seg.txt"
	cmp -s "$work/want" "$work/out" || bad "--no-offload -j $j seg.txt: stdout differs"
done
run 0 --no-offload -j 4 --stats "$work/seg.txt"
grep -q "method: user space (pread, 4 threads)" "$work/err" &&
	grep -q "bytes scanned: $(stat -c %s "$work/seg.txt")\$" "$work/err" ||
	bad "--no-offload -j 4 --stats: $(cat "$work/err")"
# --strict stops at the first invalid line: the long one.
n=$(($(wc -l <"$work/g1.txt") + 2))
run 1 --no-offload -j 4 --strict "$work/seg.txt"
grep -qx "sfr-avg: $work/seg.txt: line $n: not a number" "$work/err" ||
	bad "--no-offload -j 4 --strict: $(cat "$work/err")"

# Edge files against the Python oracle.
printf '1\n-2.5\n+.5\n5.\n  7  \n\n \r\nx\n1e3\n0.0000005\n-0.0000005\n9223372036854.775808\n-9223372036854.775808\n' >"$work/edge.txt"
printf '1.5\r\n\r\n-2\r\nbad\r\n3' >"$work/crlf.txt"
printf 'a,b,c\n1,2,3.5\n4,5,-6.25\n7,8\n9,10,\n' >"$work/t.csv"
: >"$work/empty.txt"
py() { # ARGS...: the oracle's answer in $work/want, status in $want_rc
	want_rc=0
	python3 "$ORACLE" "$@" >"$work/want" || want_rc=$?
}
for s in 0 2 6 18; do
	py --scale "$s" "$work/edge.txt"
	same "$work/want" "$want_rc" --scale "$s" "$work/edge.txt"
done
py --decimals 1 "$work/crlf.txt"
same "$work/want" "$want_rc" --decimals 1 "$work/crlf.txt"
for f in 1 2 3; do
	py -d , -f "$f" "$work/t.csv"
	same "$work/want" "$want_rc" -d , -f "$f" "$work/t.csv"
done
py "$work/edge.txt" "$work/empty.txt" "$work/crlf.txt"
same "$work/want" "$want_rc" "$work/edge.txt" "$work/empty.txt" "$work/crlf.txt"
py "$work/empty.txt"
((want_rc == 1)) || bad "oracle: empty file status $want_rc"
same "$work/want" 1 "$work/empty.txt"

# --strict
{ seq 1 999; echo x; seq 1 10; } >"$work/bad.txt"
for m in "" --no-offload; do
	# shellcheck disable=SC2086
	run 1 --strict $m "$work/bad.txt"
	grep -q "^sfr-avg: $work/bad.txt: line 1000: not a number\$" "$work/err" &&
		[[ ! -s $work/out ]] || bad "--strict $m: $(cat "$work/err")"
done

# File errors
run 1 "$work/nope"
grep -qx "sfr-avg: $work/nope: No such file or directory" "$work/err" || bad "missing: $(cat "$work/err")"
mkdir "$work/dir"
run 1 "$work/dir" "$work/edge.txt"
grep -q "sfr-avg: $work/dir: Is a directory" "$work/err" || bad "directory: $(cat "$work/err")"
grep -qx "==> $work/edge.txt <==" "$work/out" || bad "directory: the other file was not read"
run 1 "$work/empty.txt"
grep -q "sfr-avg: $work/empty.txt: no numbers (empty)" "$work/err" || bad "empty: $(cat "$work/err")"

# Standard input
python3 "$ORACLE" "$work/g3.txt" >"$work/want"
runs=$((runs + 1))
"$A" <"$work/g3.txt" >"$work/out" 2>"$work/err" || bad "stdin: status $?"
cmp -s "$work/want" "$work/out" && [[ ! -s $work/err ]] || bad "stdin: output or stderr"

# --stats in user space
run 0 --no-offload --stats "$work/g1.txt"
size=$(stat -c %s "$work/g1.txt")
grep -q "bytes scanned: $size\$" "$work/err" && grep -q "bytes copied to user space: $size\$" "$work/err" &&
	grep -q 'method: user space' "$work/err" && grep -q 'wall time: ' "$work/err" ||
	bad "--stats: $(cat "$work/err")"

if command -v valgrind >/dev/null; then
	vg() { # WANT_RC ARGS...: valgrind's errors would give 9
		local want=$1 rc=0
		shift
		runs=$((runs + 1))
		valgrind -q --error-exitcode=9 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect \
			"$A" "$@" >"$work/out" 2>"$work/err" || rc=$?
		((rc == want)) || bad "valgrind $*: status $rc: $(grep -v '^sfr-avg' "$work/err" | head -5)"
	}
	vg 1 "$work/edge.txt" "$work/crlf.txt" "$work/nope"
	vg 0 -j 2 --stats -d , -f 3 "$work/t.csv"
	vg 0 --no-offload --strict "$work/g3.txt"
	vg 1 --strict "$work/bad.txt"
	vg 2 -f 2 "$work/t.csv"
	vg 1 --no-offload -j 3 --strict "$work/seg.txt"
else
	echo "# valgrind not installed: skipped"
fi
echo "# $runs runs, $fail failed"
((fail == 0))
