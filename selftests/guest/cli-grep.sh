#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# examples/sfr-grep against grep -F: the same stdout byte for byte and the
# same exit status, for each supported option and combinations, offloaded
# (-j 1, 2, 7; checked with --stats that sfr did the work) and with
# --no-offload, on ext4 (/mnt/data), or on the directory given as argument
# (cli-grep-tmpfs.sh: /tmp). Files: matches that straddle a page (4096) and
# a 32 KiB chunk boundary, matches at the very start and end, no trailing
# newline, lines over 64 KiB and over 1 MiB (the buffer grows), a line over
# 4 MiB (user-space fallback with a notice), CRLF lines, an empty file, and
# a few MB of real text from /usr/include. Then, without an argument, the
# error cases: missing file, directory, unreadable file, a file system that
# does not take sfr programs, no CAP_BPF, bad usage.
set -euo pipefail
export LC_ALL=C

G=${SFR_SELFTESTS:-$(dirname "$0")/..}/../examples/.output/sfr-grep
[[ -x $G ]] || { echo "missing $G: make -C selftests KDIR=..."; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 runs=0

bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

# ref ARGS...: grep -F's stdout in $work/want, status in $want_rc.
ref() {
	want_rc=0
	grep -F "$@" >"$work/want" 2>/dev/null || want_rc=$?
}

# same WHAT ARGS...: sfr-grep ARGS gives grep's output and status ($work/want).
# With --no-offload anywhere in ARGS stderr must be empty; else --stats is
# added and must say that every file went through sfr, and nothing else.
same() {
	local what=$1 rc=0 line offl=0 stats=0
	shift
	runs=$((runs + 1))
	[[ " $* " == *" --no-offload "* ]] && offl=1
	if ((offl)); then
		"$G" "$@" >"$work/got" 2>"$work/err" || rc=$?
	else
		"$G" --stats "$@" >"$work/got" 2>"$work/err" || rc=$?
	fi
	mapfile -t lines <"$work/err"
	for line in "${lines[@]}"; do
		if ((!offl)) && [[ $line == *": stats: "* ]]; then
			[[ $line =~ stats:\ files:\ [0-9]+\ by\ sfr,\ 0\ in\ user\ space ]] && stats=1
			continue
		fi
		bad "$what: unexpected stderr: $line"
		break
	done
	((offl || stats)) || bad "$what: not offloaded"
	((rc == want_rc)) || bad "$what: exit status $rc, grep's $want_rc"
	if ! cmp -s "$work/want" "$work/got"; then
		bad "$what: output differs from grep -F ($(wc -c <"$work/got") bytes, want $(wc -c <"$work/want"))"
		diff "$work/want" "$work/got" | head -5 | cut -c1-200 || true
	fi
}

# check LABEL PATTERN ARGS...: each of $MODES (a -j N, or user for
# --no-offload) against grep -F, for options and files ARGS.
# sfr-grep also gets the options in $EXTRA.
MODES="1 2 7 user"
EXTRA=()
check() {
	local label=$1 pat=$2 m
	shift 2
	ref -e "$pat" "$@"
	for m in $MODES; do
		if [[ $m == user ]]; then
			same "$label '$pat' ${*/#\/*/} --no-offload" \
				--no-offload "${EXTRA[@]}" -e "$pat" "$@"
		else
			same "$label '$pat' ${*/#\/*/} ${EXTRA[*]} -j $m" \
				-j "$m" "${EXTRA[@]}" -e "$pat" "$@"
		fi
	done
}

OPTS=("" "-c" "-n" "-m 1" "-m 5" "-v" "-n -v" "-c -v" "-c -m 5" "-n -m 5"
      "-v -m 5" "-h" "-h -n")
# Fewer for the big files.
OPTS_BIG=("" "-c" "-n" "-c -v" "-n -v -m 5")

# Append a line of x's so that the file is then exactly $2 bytes long.
pad_to() {
	local f=$1 to=$2 cur
	cur=$(stat -c %s "$f")
	((to > cur)) || { echo "pad_to: $f is at $cur, past $to"; exit 1; }
	head -c $((to - cur - 1)) /dev/zero | tr '\0' x >>"$f"
	echo >>"$f"
}

words() { # SEED LINES
	awk -v seed="$1" -v n="$2" 'BEGIN {
		srand(seed);
		split("alpha beta gamma delta needle haystack sfr kernel folio page", w, " ");
		for (i = 0; i < n; i++) {
			k = int(rand() * 12); line = "";
			for (j = 0; j < k; j++) line = line (j ? " " : "") w[1 + int(rand() * 10)];
			print line;
		}
	}'
}

make_files() { # DIR
	local d=$1 f

	# Matches across offsets 4096, 8192 (mid-line), 32768 and 65536, at
	# the very start and at the very end (no trailing newline).
	f=$d/straddle.txt
	printf 'needle at the start\n' >"$f"
	words 1 60 >>"$f"
	pad_to "$f" 4093
	printf 'needle across the first page boundary\n' >>"$f"
	pad_to "$f" 8000
	head -c 189 /dev/zero | tr '\0' y >>"$f"
	printf 'needleneedle in the middle of a line\n' >>"$f"
	words 2 300 >>"$f"
	pad_to "$f" 32765
	printf 'needle across a 32 KiB chunk boundary\n' >>"$f"
	words 3 500 >>"$f"
	pad_to "$f" 65530
	printf 'neeneedle, a partial match first\n' >>"$f"
	words 4 20000 >>"$f"
	printf 'the last line ends with needle' >>"$f"

	# Long lines: 70 KiB, 100 KiB, 200 KiB and 1.5 MiB.
	f=$d/long.txt
	words 5 100 >"$f"
	{ head -c 71680 /dev/zero | tr '\0' a; printf 'needle\n'; } >>"$f"
	{ head -c 51200 /dev/zero | tr '\0' b; printf 'needle'
	  head -c 51200 /dev/zero | tr '\0' b; echo; } >>"$f"
	words 6 100 >>"$f"
	{ head -c 204800 /dev/zero | tr '\0' c; echo; } >>"$f"
	{ printf 'needle'; head -c 1572864 /dev/zero | tr '\0' d; echo; } >>"$f"
	words 7 1000 >>"$f"

	printf 'alpha needle\r\nbeta\r\n\r\nneedle\r\nlast needle\r' >"$d/crlf.txt"
	: >"$d/empty.txt"
	printf 'one\nneedle two\nthree needle' >"$d/nonl.txt"
	printf 'needle' >"$d/one.txt"
	printf '\n' >"$d/nl.txt"
	words 8 100000 >"$d/words.txt"
	{ find /usr/include -name '*.h' -print0 | sort -z |
		xargs -0 cat 2>/dev/null || true; } | head -c 4000000 >"$d/real.txt"
}

# The directory to test in: ext4 by default (then the error cases too);
# cli-grep-tmpfs.sh runs this with /tmp, in its own time limit.
dirs=("${1:-/mnt/data}")
for dir in "${dirs[@]}"; do
	fs=$(findmnt -no FSTYPE -T "$dir")
	d=$dir/cli-grep
	rm -rf "$d"
	mkdir -p "$d"
	make_files "$d"
	before=$runs
	# Many files per run (names prefixed): each option and pattern in
	# each mode over all the small files, then over the big ones.
	small=("$d/straddle.txt" "$d/crlf.txt" "$d/nonl.txt" "$d/one.txt"
	       "$d/nl.txt" "$d/empty.txt")
	big=("$d/long.txt" "$d/words.txt" "$d/real.txt")
	MODES="1 2 7 user"
	# shellcheck disable=SC2086
	for opts in "${OPTS[@]}"; do
		for pat in needle "needle in" "" $'needle\r'; do
			check "$fs small files" "$pat" $opts "${small[@]}"
		done
	done
	# shellcheck disable=SC2086
	for opts in "${OPTS_BIG[@]}"; do
		for pat in needle "" struct; do
			check "$fs big files" "$pat" $opts "${big[@]}"
		done
	done
	# The point of it: -c copies frames, not the file, to user space.
	runs=$((runs + 1))
	"$G" --stats -c struct "$d/real.txt" >/dev/null 2>"$work/err"
	size=$(stat -c %s "$d/real.txt")
	copied=$(sed -n 's/.*bytes copied to user space: \([0-9]*\).*/\1/p' "$work/err")
	scanned=$(sed -n 's/.*bytes scanned: \([0-9]*\)$/\1/p' "$work/err")
	((copied > 0 && copied < 4096 && scanned >= size)) ||
		bad "$fs --stats -c: copied '$copied', scanned '$scanned' of $size bytes"
	echo "$fs: -c over $size bytes: $scanned scanned, $copied copied to user space"
	# Without SFR_OFFLOAD_MIN=0 (run-guest's), a file below 32 MiB is
	# searched in user space, with the same output.
	runs=$((runs + 1))
	grep -F -c struct "$d/real.txt" >"$work/want" || true
	env -u SFR_OFFLOAD_MIN "$G" --stats -c struct "$d/real.txt" >"$work/got" 2>"$work/err" || true
	cmp -s "$work/want" "$work/got" &&
		grep -q 'stats: files: 0 by sfr, 1 in user space (1 below --offload-min 33554432 bytes)$' "$work/err" ||
		bad "$fs default --offload-min: $(cat "$work/err")"

	# One file: no name prefix, the exit status of that file alone.
	MODES="1 7"
	for f in straddle one empty; do
		for pat in needle zzz; do
			check "$fs $f" "$pat" -n "$d/$f.txt"
		done
	done

	# Two files: names with -H (the default), none with -h.
	MODES="1 2 7 user"
	for opts in "-H" "-h" "-n -m 1" "-h -c -m 5"; do
		# shellcheck disable=SC2086
		check "$fs two files" needle $opts "$d/straddle.txt" "$d/nonl.txt"
	done

	# Small buffers: resumed frames, and regrowing past long lines.
	MODES="1 7"
	EXTRA=(--buffer-size 4096)
	for opts in "" "-n" "-v -n" "-m 5"; do
		# shellcheck disable=SC2086
		check "$fs 4k buffer" needle $opts "${big[@]}" "$d/straddle.txt"
	done
	EXTRA=()

	# Standard input: user space, as grep reads it.
	ref -n needle <"$d/straddle.txt"
	runs=$((runs + 1))
	rc=0
	"$G" -n needle <"$d/straddle.txt" >"$work/got" 2>"$work/err" || rc=$?
	((rc == want_rc)) && cmp -s "$work/want" "$work/got" && [[ ! -s $work/err ]] ||
		bad "$fs standard input: status $rc, $(wc -c <"$work/got") bytes"

	# A selected line over 4 MiB: the kernel cannot return it.
	f=$d/huge.txt
	words 9 100 >"$f"
	{ printf 'needle'; head -c $((5 << 20)) /dev/zero | tr '\0' e; echo; } >>"$f"
	words 10 100 >>"$f"
	for opts in "" "-n" "-n -m 1000"; do
		runs=$((runs + 1))
		# shellcheck disable=SC2086
		ref $opts needle "$f"
		rc=0
		# shellcheck disable=SC2086
		"$G" -j 2 $opts needle "$f" >"$work/got" 2>"$work/err" || rc=$?
		((rc == want_rc)) && cmp -s "$work/want" "$work/got" ||
			bad "$fs huge line $opts: status $rc, output differs"
		grep -q 'longer than sfr can return.*going on in user space' "$work/err" ||
			bad "$fs huge line $opts: no notice: $(cat "$work/err")"
	done
	# Counting needs no output: all in the kernel.
	ref -c needle "$f"
	same "$fs huge line -c" -c needle "$f"

	echo "$fs: $((runs - before)) comparisons"
	rm -rf "$d"
done

if (($#)); then
	echo "$runs comparisons, $fail failed"
	((fail == 0))
	exit
fi

# ---- errors and fallbacks -------------------------------------------------
d=/mnt/data/cli-grep-err
rm -rf "$d"
mkdir -p "$d/dir"
printf 'needle\nhay\n' >"$d/ok.txt"

expect() { # WHAT WANT_RC STDERR_REGEX CMD...
	local what=$1 want=$2 re=$3 rc=0
	shift 3
	runs=$((runs + 1))
	"$@" >"$work/got" 2>"$work/err" || rc=$?
	((rc == want)) || bad "$what: exit status $rc, want $want"
	if [[ $re == - ]]; then
		[[ ! -s $work/err ]] || bad "$what: stderr '$(head -c 300 "$work/err")', want none"
	else
		grep -Eq -- "$re" "$work/err" ||
			bad "$what: stderr '$(head -c 300 "$work/err")' lacks /$re/"
	fi
}

expect "missing file" 2 "sfr-grep: $d/nope: No such file or directory" \
	"$G" needle "$d/nope"
expect "missing and present" 2 "$d/nope: No such file or directory" \
	"$G" needle "$d/nope" "$d/ok.txt"
grep -qx "$d/ok.txt:needle" "$work/got" || bad "missing and present: ok.txt not searched"
expect "directory" 2 "sfr-grep: $d/dir: Is a directory" "$G" needle "$d/dir"
ref -c needle "$d/dir" "$d/ok.txt"
same_rc=$want_rc
expect "directory -c" 2 "Is a directory" "$G" -c needle "$d/dir" "$d/ok.txt"
cmp -s "$work/want" "$work/got" || bad "directory -c: $(cat "$work/got") want $(cat "$work/want")"
((same_rc == 2)) || bad "grep -c on a directory: status $same_rc"

chmod 000 "$d/ok.txt"
expect "unreadable file" 2 "$d/ok.txt: Permission denied" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$G" needle "$d/ok.txt"
chmod 644 "$d/ok.txt"
expect "no CAP_BPF" 0 "computing in user space" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$G" needle "$d/ok.txt"
grep -qx needle "$work/got" || bad "no CAP_BPF: wrong output"

for f in /proc/cpuinfo /usr/include/stdio.h; do
	ref -n e "$f"
	expect "$f falls back" "$want_rc" \
		"$f: the file system does not take sfr programs: computing in user space" \
		"$G" -n e "$f"
	cmp -s "$work/want" "$work/got" || bad "$f: output differs from grep -F"
	[[ $(wc -l <"$work/err") == 1 ]] || bad "$f: more than one line of notice"
done

long=$(head -c 300 /dev/zero | tr '\0' n)
{ echo a; echo "x${long}y"; echo b; } >"$d/longpat.txt"
ref -n "$long" "$d/longpat.txt"
expect "300-byte pattern" 0 "longer than 255 bytes.*computing in user space" \
	"$G" -n "$long" "$d/longpat.txt"
cmp -s "$work/want" "$work/got" || bad "300-byte pattern: output differs"
long=$(head -c 255 /dev/zero | tr '\0' n)
ref -n "$long" "$d/longpat.txt"
same "255-byte pattern" -n "$long" "$d/longpat.txt"

# As grep: nothing can be selected, so nothing is read, not even a
# missing file.
for args in "-m 0 needle" "-c -m 0 needle" "-v -e ''" "-c -v -e ''"; do
	eval "set -- $args"
	ref "$@" "$d/longpat.txt" "$d/nope"
	expect "$args" "$want_rc" - "$G" "$@" "$d/longpat.txt" "$d/nope"
	((want_rc == 1)) && cmp -s "$work/want" "$work/got" || bad "$args: output or status differ"
done
expect "newline in pattern" 2 "newline" "$G" $'a\nb' "$d/longpat.txt"
expect "no pattern" 2 "Usage" "$G"
expect "bad -j" 2 "invalid number of jobs '0'" "$G" -j 0 needle "$d/longpat.txt"
expect "bad -m" 2 "invalid max count 'x'" "$G" -m x needle "$d/longpat.txt"
expect "unknown option" 2 "unrecognized option" "$G" --bogus needle "$d/longpat.txt"
expect "help" 0 - "$G" --help
grep -q "^Usage: sfr-grep" "$work/got" && grep -q "^Examples:" "$work/got" ||
	bad "--help lacks Usage/Examples"
rm -rf "$d"

echo "$runs comparisons, $fail failed"
((fail == 0))
