#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# examples/sfr-avg against two independent exact oracles, stdout byte for
# byte and the exit status: tools/gen/sfr-gen --summary (the answer from
# the integers the generator drew, not from its text) for generated files,
# among them one of more than 10^7 values; and a small Python reduce on
# decimal/fractions for hand-written edge files (negative numbers,
# decimals, rounding, range limits, CRLF, blank lines, no trailing newline,
# invalid lines, CSV/TSV columns, numbers straddling page and 32 KiB chunk
# boundaries, several files). Every file is run offloaded with -j 1, 2 and
# 7 (--stats must say sfr did it) and with --no-offload, on ext4
# (/mnt/data) and tmpfs (/tmp). Then --strict (the right file and line),
# and the error cases: missing file, directory, empty file, unreadable
# file, no CAP_BPF, file systems without sfr (9p), standard input, usage.
set -euo pipefail
export LC_ALL=C

S=${SFR_SELFTESTS:-$(cd "$(dirname "$0")/.." && pwd)}
# SFR_AVG: another sfr-avg binary to test; SFR_AVG_BIG=0: skip the 10^7 file.
A=${SFR_AVG:-$S/../examples/.output/sfr-avg}
GEN=${SFR_TEST_OUT:-$S/.output}/sfr-gen
ORACLE=$S/src/avg_oracle.py
for b in "$A" "$GEN"; do
	[[ -x $b ]] || { echo "missing $b: make -C selftests KDIR=..."; exit 1; }
done
command -v python3 >/dev/null || { echo "no python3 for the oracle"; exit 4; }
work=$(mktemp -d)
trap 'rm -rf "$work" /mnt/data/cli-avg /tmp/cli-avg' EXIT
fail=0 runs=0

bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}


# ---- test files, made once in $work/src ----------------------------------
src=$work/src
mkdir "$src" "$work/cache"

# Append x's and an LF so that file $1 is then $2 bytes long.
pad_to() {
	local cur
	cur=$(stat -c %s "$1")
	((cur < $2)) || { echo "pad_to: $1 is at $cur, past $2"; exit 1; }
	head -c $(($2 - cur - 1)) /dev/zero | tr '\0' x >>"$1"
	echo >>"$1"
}

# Hand-written: syntax, rounding, range, blanks.
cat >"$src/edge.txt" <<'EOF'
1
-1
+2.5
-2.5
.5
-.25
5.
007
-0
-0.000
0.0000005
-0.0000005
0.0000004999
-0.0000004
123456.123456789
  42  
	-17.75	

   
9223372036854.775807
-9223372036854.775808
9223372036854.775808
-9223372036854.7758085
99999999999999999999
abc
1e3
1.2.3
--1
- 1
0x10
inf
nan
1,5
.
-
+
1 2
"3"
EOF
printf '1.5\r\n-2.25\r\n\r\n  \r\n3\r\nx\r\n4.125\r\n' >"$src/crlf.txt"
printf '10\n20\n\n30.5' >"$src/nonl.txt"
printf -- '-42.000001' >"$src/one.txt"
printf '\n \n\t\n\r\n' >"$src/blank.txt"
printf 'x\ny\n\nz z\n' >"$src/allbad.txt"

# CSV: a header, short lines, empty and blank fields, quotes, CRLF.
{
	echo 'id,name,price,qty'
	echo '1,apple,0.50,3'
	echo '2,pear,-1.25,1'
	echo '3,"plum, red",2,4'
	echo '4,fig,,2'
	echo '5,kiwi, 7.5 ,1'
	echo '6,lime'
	printf '7,date,3.333333333,9\r\n'
	echo ',,-0.005,'
	echo '8,nut,1e2,1'
	echo ''
	echo '9,yam,100'
	printf '10,oat,12.5'
} >"$src/prices.csv"
printf 'a\t1.5\tz\nb\t-2\tz\nc\t\tz\nd\t 4 \n' >"$src/tab.tsv"

# Numbers across offsets 4096 and 8192 (a page), 32768 and 65536 (32 KiB
# chunks), and an LF right before and right after such a boundary.
f=$src/straddle.txt
seq -500 7 200 >"$f"
pad_to "$f" 4090
echo '-123456.654321' >>"$f"		# 4090..4104
pad_to "$f" 8191
echo '8191.5' >>"$f"			# starts at 8191, the LF at 8197
seq 1 3 9000 >>"$f"
pad_to "$f" 32760
echo '3.14159265' >>"$f"		# 32760..32770: straddles 32768
pad_to "$f" 65535
echo '65535' >>"$f"			# the line starts at 65535
awk 'BEGIN { for (i = 0; i < 7000; i++) printf "%d.%03d\n", i * 37 % 1999 - 999, i % 1000 }' >>"$f"
pad_to "$f" 131072			# a line ends exactly at 128 KiB
echo '-0.5' >>"$f"
printf '77.7' >>"$f"

# Invalid lines deep in a multi-chunk file: line 12345 for --strict.
f=$src/bad12345.txt
seq 1 12344 >"$f"
echo 'twelve thousand' >>"$f"
seq 12346 60000 >>"$f"
echo '99999999999999999999' >>"$f"	# out of range: also invalid
seq 1 100 >>"$f"

f=$src/range.txt
seq 1 20000 >"$f"
echo '-9223372036854.775809' >>"$f"	# line 20001: out of range
: >"$src/empty.txt"

# Generated, with the generator's own exact answer.
"$GEN" --summary "$src/gen.want" numbers 3M 11 >"$src/gen.txt"
"$GEN" --summary "$src/gen2.want" --scale 2 numbers 700K 12 >"$src/gen2.txt"

# The two oracles agree (on a generated file: Python's is slow).
python3 "$ORACLE" "$src/gen.txt" >"$work/py.want" ||
	bad "python oracle failed on gen.txt"
cmp -s "$work/py.want" "$src/gen.want" || {
	bad "the two oracles disagree on gen.txt"
	diff "$src/gen.want" "$work/py.want" || true
}

# ---- running sfr-avg ---------------------------------------------------

# run WANT_RC ARGS...: sfr-avg ARGS -> $work/got, $work/err, $rc.
run() {
	local want=$1
	shift
	runs=$((runs + 1))
	rc=0
	"$A" "$@" >"$work/got" 2>"$work/err" || rc=$?
	((rc == want)) || bad "sfr-avg $*: exit status $rc, want $want: $(head -c 300 "$work/err")"
}

# check LABEL WANT_FILE WANT_RC ARGS...: -j 1, 2, 7 offloaded (all files by
# sfr, no other stderr than --stats and "no numbers") and --no-offload (no
# stderr but "no numbers") give WANT_FILE on stdout and WANT_RC.
check() {
	local label=$1 want=$2 want_rc=$3 j
	shift 3
	for j in 1 2 7; do
		run "$want_rc" --stats -j "$j" "$@"
		cmp -s "$want" "$work/got" || {
			bad "$label -j $j: stdout differs"
			diff "$want" "$work/got" | head -8 || true
		}
		grep -q 'stats: files: [0-9]* by sfr, 0 in user space' "$work/err" ||
			bad "$label -j $j: not offloaded: $(grep -v 'stats: [bmtw]' "$work/err" | head -3)"
		if grep -v -e ': stats: ' -e ': no numbers (' "$work/err" | grep -q .; then
			bad "$label -j $j: stderr: $(head -3 "$work/err")"
		fi
	done
	run "$want_rc" --no-offload "$@"
	cmp -s "$want" "$work/got" || {
		bad "$label --no-offload: stdout differs"
		diff "$want" "$work/got" | head -8 || true
	}
	if grep -v ': no numbers (' "$work/err" | grep -q .; then
		bad "$label --no-offload: stderr: $(head -3 "$work/err")"
	fi
}

# pycheck LABEL [OPTS...] -- FILES...: against the Python oracle, run once
# per argument list in $src (file names are relative: run in a copy of it).
pycheck() {
	local label=$1 opts=() want_rc
	shift
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	key=$work/cache/$(printf '%q ' "${opts[@]}" "$@" | md5sum | cut -c1-16)
	if [[ ! -f $key.rc ]]; then
		want_rc=0
		(cd "$src" && python3 "$ORACLE" "${opts[@]}" "$@") >"$key.want" ||
			want_rc=$?
		echo "$want_rc" >"$key.rc"
	fi
	want_rc=$(cat "$key.rc")
	((want_rc <= 1)) || { bad "$label: the oracle failed"; return; }
	check "$label" "$key.want" "$want_rc" "${opts[@]}" "$@"
}

for dir in /mnt/data /tmp; do
	fs=$(findmnt -no FSTYPE -T "$dir")
	d=$dir/cli-avg
	rm -rf "$d"
	cp -r "$src" "$d"
	cd "$d"
	before=$runs

	for f in edge crlf nonl one blank allbad straddle bad12345 range empty; do
		pycheck "$fs $f" -- "$f.txt"
	done
	for s in 0 2 9 18; do
		pycheck "$fs edge --scale $s" --scale "$s" -- edge.txt
	done
	pycheck "$fs edge --decimals 2" --decimals 2 -- edge.txt
	pycheck "$fs straddle -s 1 --decimals 12" --scale 1 --decimals 12 -- straddle.txt
	pycheck "$fs crlf -s 0 --decimals 0" --scale 0 --decimals 0 -- crlf.txt
	for f in 1 2 3 4 5; do
		pycheck "$fs csv -f $f" -d , -f "$f" -- prices.csv
	done
	pycheck "$fs csv -f 3 -s 2" -d , -f 3 --scale 2 -- prices.csv
	pycheck "$fs tsv -f 2" -d $'\t' -f 2 -- tab.tsv
	pycheck "$fs space -f 2" -d ' ' -f 2 -- allbad.txt
	pycheck "$fs three files" -- edge.txt empty.txt straddle.txt
	pycheck "$fs no numbers, two files" -- blank.txt empty.txt

	check "$fs generated" "$d/gen.want" 0 "$d/gen.txt"
	check "$fs generated -s 2" "$d/gen2.want" 0 --scale 2 "$d/gen2.txt"

	# -d '\t' spelled as backslash-t
	run 0 -d '\t' -f 2 tab.tsv
	pycheck "$fs tsv -f 2" -d $'\t' -f 2 -- tab.tsv	# (cached)
	cmp -s "$key.want" "$work/got" || bad "$fs -d '\\t': output differs"

	# --strict: the first invalid line, by file and line, in every mode.
	for args in "-j 1" "-j 2" "-j 7" "--no-offload"; do
		# shellcheck disable=SC2086
		run 1 --strict $args "$d/bad12345.txt"
		[[ ! -s $work/got ]] || bad "$fs --strict $args: output on stdout"
		grep -qx "sfr-avg: $d/bad12345.txt: line 12345: not a number" "$work/err" ||
			bad "$fs --strict $args: stderr '$(cat "$work/err")'"
		# shellcheck disable=SC2086
		run 1 --strict $args "$d/range.txt"
		grep -qx "sfr-avg: $d/range.txt: line 20001: number out of range for --scale 6" "$work/err" ||
			bad "$fs --strict range $args: stderr '$(cat "$work/err")'"
		# shellcheck disable=SC2086
		run 1 --strict $args -d , -f 3 "$d/prices.csv"
		grep -qx "sfr-avg: $d/prices.csv: line 1: field 3 is not a number" "$work/err" ||
			bad "$fs --strict csv $args: stderr '$(cat "$work/err")'"
		# A clean file passes, with its normal output; a bad one in
		# the middle of three is left out of the blocks and the total.
		# shellcheck disable=SC2086
		run 0 --strict $args "$d/gen.txt"
		cmp -s "$d/gen.want" "$work/got" || bad "$fs --strict $args gen.txt: output differs"
		# shellcheck disable=SC2086
		run 1 --strict $args nonl.txt bad12345.txt one.txt
		[[ -f $work/strict3.want ]] ||
			(cd "$src" && python3 "$ORACLE" nonl.txt one.txt) >"$work/strict3.want"
		cmp -s "$work/strict3.want" "$work/got" || {
			bad "$fs --strict $args three files: output differs"
			diff "$work/strict3.want" "$work/got" | head -5 || true
		}
		grep -qx "sfr-avg: bad12345.txt: line 12345: not a number" "$work/err" ||
			bad "$fs --strict $args three files: stderr '$(cat "$work/err")'"
	done
	echo "$fs: $((runs - before)) runs"
	cd /
	rm -rf "$d"
done

# ---- more than 10^7 values -----------------------------------------------
for dir in /mnt/data /tmp; do
	[[ ${SFR_AVG_BIG:-1} == 0 ]] && break
	fs=$(findmnt -no FSTYPE -T "$dir")
	f=$dir/cli-avg-big.txt
	t0=$SECONDS
	"$GEN" --summary "$work/big.want" numbers 110M 2024 >"$f"
	n=$(sed -n 's/^count: //p' "$work/big.want")
	((n >= 10000000)) || bad "big file: only $n values"
	echo "$fs: $(stat -c %s "$f") bytes, $n values, generated in $((SECONDS - t0)) s"
	for args in "-j 1" "-j 2" "-j 7" "--no-offload"; do
		t0=$SECONDS
		# shellcheck disable=SC2086
		run 0 --stats $args "$f"
		cmp -s "$work/big.want" "$work/got" || {
			bad "$fs 10^7 values $args: stdout differs"
			diff "$work/big.want" "$work/got" || true
		}
		echo "$fs 10^7 values $args: $((SECONDS - t0)) s, $(sed -n 's/.*stats: \(bytes copied.*\)/\1/p' "$work/err")"
	done
	rm -f "$f"
done

# ---- errors and fallbacks --------------------------------------------------
d=/mnt/data/cli-avg
rm -rf "$d"
mkdir -p "$d/dir"
printf '1\n2\n' >"$d/ok.txt"
: >"$d/empty.txt"

run 1 "$d/nope"
grep -qx "sfr-avg: $d/nope: No such file or directory" "$work/err" ||
	bad "missing file: $(cat "$work/err")"
[[ ! -s $work/got ]] || bad "missing file: output on stdout"
run 1 "$d/nope" "$d/ok.txt"
grep -q "$d/nope: No such file or directory" "$work/err" || bad "missing and present: $(cat "$work/err")"
printf '==> %s <==\ncount: 2\nsum: 3.000000\nmean: 1.500000\nmin: 1.000000\nmax: 2.000000\ninvalid: 0\n\n==> total <==\ncount: 2\nsum: 3.000000\nmean: 1.500000\nmin: 1.000000\nmax: 2.000000\ninvalid: 0\n' \
	"$d/ok.txt" | cmp -s - "$work/got" || bad "missing and present: stdout $(cat "$work/got")"
run 1 "$d/dir"
grep -qx "sfr-avg: $d/dir: Is a directory" "$work/err" || bad "directory: $(cat "$work/err")"
run 1 "$d/empty.txt"
grep -qx "sfr-avg: $d/empty.txt: no numbers (empty)" "$work/err" || bad "empty file: $(cat "$work/err")"
printf 'count: 0\nsum: 0.000000\nmean: -\nmin: -\nmax: -\ninvalid: 0\n' | cmp -s - "$work/got" ||
	bad "empty file: stdout $(cat "$work/got")"
run 1 --strict "$d/empty.txt"

chmod 000 "$d/ok.txt"
runs=$((runs + 1))
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$A" "$d/ok.txt" \
	>"$work/got" 2>"$work/err" || rc=$?
((rc == 1)) && grep -qx "sfr-avg: $d/ok.txt: Permission denied" "$work/err" ||
	bad "unreadable: status $rc, $(cat "$work/err")"
chmod 644 "$d/ok.txt"
runs=$((runs + 1))
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$A" "$d/ok.txt" \
	>"$work/got" 2>"$work/err" || rc=$?
((rc == 0)) && grep -q 'computing in user space' "$work/err" &&
	grep -qx 'mean: 1.500000' "$work/got" || bad "no CAP_BPF: status $rc, $(cat "$work/err")"

# 9p (the repository) and procfs do not take sfr programs: one notice.
f=${SFR_TEST_OUT:-$S/.output}/cli-avg-9p.txt
cp "$src/straddle.txt" "$f"
python3 "$ORACLE" "$f" >"$work/want"
run 0 "$f"
cmp -s "$work/want" "$work/got" || bad "9p: output differs"
[[ $(cat "$work/err") == "sfr-avg: $f: the file system does not take sfr programs: computing in user space" ]] ||
	bad "9p: stderr '$(cat "$work/err")'"
rm -f "$f"
run 0 -d ' ' -f 4 /proc/self/stat	# field 4: the parent's pid
grep -qx 'count: 1' "$work/got" && [[ $(wc -l <"$work/err") == 1 ]] &&
	grep -q 'does not take sfr programs' "$work/err" || bad "procfs: $(cat "$work/err") $(cat "$work/got")"

# --offload-min (the tests run with SFR_OFFLOAD_MIN=0, from run-guest):
# by default a file below 8 MiB is computed in user space without loading
# the program; at or above the threshold it is offloaded.
# (The generator's exact answer is the oracle: Python's is slow here.)
"$GEN" --summary "$work/8m.txt.want" numbers 8388608 21 >"$d/8m.txt"
"$GEN" --summary "$work/8m-1.txt.want" numbers 8388607 22 >"$d/8m-1.txt"
for f in 8m.txt 8m-1.txt; do
	cp "$work/$f.want" "$work/want"
	for env in unset 8M 0 9M; do
		runs=$((runs + 1))
		rc=0
		if [[ $env == unset ]]; then
			env -u SFR_OFFLOAD_MIN "$A" --stats "$d/$f" >"$work/got" 2>"$work/err" || rc=$?
		else
			SFR_OFFLOAD_MIN=$env "$A" --stats "$d/$f" >"$work/got" 2>"$work/err" || rc=$?
		fi
		cmp -s "$work/want" "$work/got" || bad "offload-min $env $f: output differs"
		if [[ $env == 0 || ($f == 8m.txt && $env != 9M) ]]; then
			grep -q 'stats: files: 1 by sfr, 0 in user space$' "$work/err" &&
				grep -q 'stats: program load: ' "$work/err" ||
				bad "offload-min $env $f: not offloaded: $(cat "$work/err")"
		else
			want=8388608
			[[ $env == 9M ]] && want=9437184
			grep -q "stats: files: 0 by sfr, 1 in user space (1 below --offload-min $want bytes)\$" "$work/err" &&
				! grep -q -e 'program load' -e 'computing in user space' "$work/err" ||
				bad "offload-min $env $f: $(cat "$work/err")"
		fi
	done
done
run 0 --stats --offload-min 1K "$d/ok.txt"
grep -q 'stats: files: 0 by sfr, 1 in user space (1 below --offload-min 1024 bytes)$' "$work/err" ||
	bad "--offload-min 1K: $(cat "$work/err")"
SFR_OFFLOAD_MIN=1G run 0 --stats --offload-min 0 "$d/ok.txt"
grep -q 'stats: files: 1 by sfr' "$work/err" || bad "--offload-min 0 over the environment: $(cat "$work/err")"
SFR_OFFLOAD_MIN=x run 2 "$d/ok.txt"
grep -qx "sfr-avg: invalid SFR_OFFLOAD_MIN 'x'" "$work/err" || bad "bad SFR_OFFLOAD_MIN: $(cat "$work/err")"
rm -f "$d/8m.txt" "$d/8m-1.txt"

# Standard input: in user space, silently.
python3 "$ORACLE" "$src/straddle.txt" >"$work/want"
runs=$((runs + 1))
"$A" <"$src/straddle.txt" >"$work/got" 2>"$work/err" || bad "stdin: status $?"
cmp -s "$work/want" "$work/got" && [[ ! -s $work/err ]] || bad "stdin: output or stderr"
runs=$((runs + 1))
cat "$src/straddle.txt" | "$A" -j 2 - >"$work/got" 2>"$work/err" || bad "pipe: status $?"
cmp -s "$work/want" "$work/got" && [[ ! -s $work/err ]] || bad "pipe: output or stderr"

# Usage
for args in "-j 0" "-j x" "-j 2000" "-f 0" "-f 2" "-d , -f x" "-d ab" "-d ''" \
	    "--scale 19" "-s -1" "--decimals 19" "--bogus" "-x" "--offload-min 1T" \
	    "--offload-min -1" "--offload-min"; do
	eval "set -- $args"
	run 2 "$@" "$d/ok.txt"
	[[ -s $work/err && ! -s $work/got ]] || bad "usage '$args': no message, or output"
done
run 0 --help
grep -q '^Usage: sfr-avg' "$work/got" && grep -q '^Examples:' "$work/got" &&
	grep -q 'half away from zero' "$work/got" || bad "--help lacks Usage/Examples/rounding"
rm -rf "$d"

echo "$runs runs, $fail failed"
((fail == 0))
