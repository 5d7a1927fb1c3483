#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# examples/sfr-grep on the host, whose kernel has no sfr: --help, usage
# errors (status 2), and the automatic user-space fallback (one notice on
# stderr) and --no-offload giving grep -F's output and exit status for each
# option, on long lines, CRLF, no trailing newline and empty files; file
# errors; then one run under valgrind.
set -euo pipefail
export LC_ALL=C
G=$(cd "$(dirname "$0")/../.." && pwd)/examples/.output/sfr-grep
[[ -x $G ]] || { echo "missing $G: make -C selftests KDIR=..."; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 runs=0

bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

run() { # WANT_RC CMD... -> $work/out, $work/err
	local want=$1 rc=0
	shift
	runs=$((runs + 1))
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	((rc == want)) || bad "$*: exit status $rc, want $want: $(head -c 200 "$work/err")"
}

# --help and usage errors
run 0 "$G" --help
grep -q '^Usage: sfr-grep' "$work/out" && grep -q '^Examples:' "$work/out" &&
	grep -q -- '--no-offload' "$work/out" || bad "--help lacks Usage, Examples or --no-offload"
[[ ! -s $work/err ]] || bad "--help wrote to stderr"
run 2 "$G"
grep -q '^Usage: sfr-grep' "$work/err" || bad "no arguments: $(cat "$work/err")"
for args in "-j" "-j 0 x" "-j abc x" "-j 99999 x" "-m -1 x" "-m 1x x" \
	    "--buffer-size 1k x" "--buffer-size 5G x" "--bogus x" "-e a -e b" \
	    "-X x"; do
	# shellcheck disable=SC2086
	run 2 "$G" $args /dev/null
	[[ -s $work/err && ! -s $work/out ]] || bad "'$args': no message or output on stdout"
done
run 2 "$G" $'two\nlines' /dev/null
grep -q 'newline' "$work/err" || bad "newline pattern: $(cat "$work/err")"

# Files
{
	printf 'needle first\n'
	for i in $(seq 1 3000); do
		case $((i % 7)) in
		0) echo "line $i has a needle" ;;
		3) printf 'crlf %d needle\r\n' "$i" ;;
		5) echo "" ;;
		*) echo "line $i hay" ;;
		esac
	done
	head -c 200000 /dev/zero | tr '\0' a; printf 'needle\n'
	printf 'needle'; head -c 2000000 /dev/zero | tr '\0' b; echo
	printf 'no newline at the end: needle'
} >"$work/a.txt"
printf 'x\nneedle\n' >"$work/b.txt"
: >"$work/empty.txt"
mkdir "$work/dir"

cmpgrep() { # ARGS...: auto and --no-offload against grep -F
	local want_rc=0 mode
	grep -F "$@" >"$work/want" 2>/dev/null || want_rc=$?
	for mode in auto --no-offload -j3; do
		local rc=0
		runs=$((runs + 1))
		case $mode in
		auto) "$G" "$@" >"$work/got" 2>"$work/err" || rc=$? ;;
		-j3) "$G" --no-offload -j 3 "$@" >"$work/got" 2>"$work/err" || rc=$? ;;
		*) "$G" --no-offload "$@" >"$work/got" 2>"$work/err" || rc=$? ;;
		esac
		((rc == want_rc)) || bad "$mode $*: exit status $rc, grep's $want_rc"
		cmp -s "$work/want" "$work/got" || bad "$mode $*: output differs from grep -F"
		if [[ $mode == auto ]]; then
			# One notice (no sfr here) or none (a host with sfr).
			[[ $(grep -vc 'computing in user space' "$work/err") == 0 &&
			   $(wc -l <"$work/err") -le 1 ]] ||
				bad "auto $*: stderr: $(head -3 "$work/err")"
		else
			[[ ! -s $work/err ]] || bad "--no-offload $*: stderr: $(head -3 "$work/err")"
		fi
	done
}

for opts in "" -c -n "-m 1" "-m 5" -v "-n -v" "-c -v" "-c -m 5" "-n -m 5" \
	    "-v -m 5" -H "-h -n"; do
	for pat in needle "" $'needle\r' zzz "hay"; do
		# shellcheck disable=SC2086
		cmpgrep $opts -e "$pat" "$work/a.txt"
	done
	# shellcheck disable=SC2086
	cmpgrep $opts needle "$work/a.txt" "$work/b.txt"
	# shellcheck disable=SC2086
	cmpgrep $opts needle "$work/empty.txt"
done

# Threads in user space (--no-offload -j N) read segments of 4 MiB: lines
# across segment ends, a selected line longer than a segment, matches at
# segment ends, no final newline.
{
	for i in 1 2 3 4 5; do cat "$work/a.txt"; echo; done
	printf 'needle'; head -c 5000000 /dev/zero | tr '\0' c; echo
	cat "$work/a.txt"
} >"$work/big.txt"
for opts in "" -c -n "-n -v" "-c -v" "-m 3" "-n -m 7" "-c -m 4000"; do
	# shellcheck disable=SC2086
	cmpgrep $opts needle "$work/big.txt"
	# shellcheck disable=SC2086
	cmpgrep $opts -e "" "$work/big.txt" "$work/b.txt"
done
# A file whose size says 0 (procfs) is read to its end, also by threads.
cmpgrep nodev /proc/filesystems
cmpgrep -n -v nodev /proc/filesystems
for j in 2 8 64; do
	grep -F -n e "$work/big.txt" >"$work/want"
	run 0 "$G" --no-offload -j "$j" -n e "$work/big.txt"
	cmp -s "$work/want" "$work/out" || bad "--no-offload -j $j -n e big.txt: output differs"
done
run 0 "$G" --no-offload -j 2 --stats -c needle "$work/big.txt"
grep -q "method: user space (pread, 2 threads)" "$work/err" &&
	grep -q "bytes scanned: $(stat -c %s "$work/big.txt")\$" "$work/err" ||
	bad "--no-offload -j 2 --stats: $(cat "$work/err")"

# The automatic fallback says why, once.
if ! "$G" needle "$work/b.txt" 2>&1 >/dev/null | grep -q 'sfr'; then
	echo "# note: no fallback notice: this kernel has sfr?"
fi

# File errors
run 2 "$G" needle "$work/nope"
grep -qx "sfr-grep: $work/nope: No such file or directory" "$work/err" || bad "missing: $(cat "$work/err")"
run 2 "$G" needle "$work/dir" "$work/b.txt"
grep -qx "sfr-grep: $work/dir: Is a directory" "$work/err" || bad "directory: $(cat "$work/err")"
grep -qx "$work/b.txt:needle" "$work/out" || bad "directory: the other file was not searched"
run 1 "$G" needle "$work/empty.txt"
[[ ! -s $work/out ]] || bad "empty file: output"

# Standard input
grep -F -n needle <"$work/a.txt" >"$work/want"
run 0 "$G" -n needle <"$work/a.txt"
cmp -s "$work/want" "$work/out" || bad "standard input: output differs"
printf 'needle\n' | "$G" -H needle >"$work/out"
[[ $(cat "$work/out") == "(standard input):needle" ]] || bad "-H on a pipe: $(cat "$work/out")"

# --stats in user space
run 0 "$G" --no-offload --stats needle "$work/a.txt"
size=$(stat -c %s "$work/a.txt")
grep -q "bytes scanned: $size\$" "$work/err" && grep -q "bytes copied to user space: $size\$" "$work/err" &&
	grep -q 'method: user space' "$work/err" && grep -q 'wall time: ' "$work/err" ||
	bad "--stats: $(cat "$work/err")"

if command -v valgrind >/dev/null; then
	# Status 2 for the missing file; valgrind's errors would give 9.
	run 2 valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$G" -n -m 50 needle "$work/a.txt" "$work/b.txt" "$work/nope"
	run 0 valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$G" --no-offload -j 3 -n -m 3000 needle "$work/big.txt" "$work/a.txt"
else
	echo "# valgrind not installed: skipped"
fi
echo "# $runs runs, $fail failed"
((fail == 0))
