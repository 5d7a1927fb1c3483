#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The partial results of examples/sfr-avg and sfr-grep (--partial, --merge;
# the format is examples/partial.h). Generated files (numbers with CRLF,
# blank and invalid lines, negative numbers and no final newline; a CSV;
# text) are split into 1, 2, 3 and 7 record-aligned shards, with empty
# shards among them; each shard's blob is made automatically, with -j 2
# and with --no-offload, which must give the same bytes; and --merge of
# the blobs in shard order must print what sfr-avg prints for the whole
# file (and the generator's exact sums, and selftests/src/avg_oracle.py),
# and what grep -F (-c, -n, -v) prints for it, byte for byte, with the
# same exit status. An independent decoder (Python struct '<...' and
# zlib.crc32) reads every blob and must find the shard's own answer in
# it. Then bad blobs: every byte flipped, every truncation, a wrong
# version, magic or kind, trailing bytes, a valid CRC over a wrong
# summary, blobs that do not fit together; usage errors; runs under
# valgrind.
#
# On the host the kernel has no sfr, so the CLIs fall back to user space
# (one notice). selftests/guest/cli-partial.sh runs this script in the VM
# with SFR_PARTIAL_OFFLOAD=1: then every shard must be offloaded (--stats)
# and the blobs must equal those of --no-offload; to fit the guest's time
# limit under emulation it then runs fewer option combinations and shard
# counts 1, 3 and 7, and leaves out the decoder, the exhaustive bad-blob
# loops and valgrind, which test the format, not the kernel.
# SFR_PARTIAL_DIR: where to make the files (default: a temporary
# directory).
set -euo pipefail
export LC_ALL=C
S=${SFR_SELFTESTS:-$(cd "$(dirname "$0")/.." && pwd)}
A=${SFR_AVG:-$S/../examples/.output/sfr-avg}
G=${SFR_GREP:-$S/../examples/.output/sfr-grep}
GEN=${SFR_TEST_OUT:-$S/.output}/sfr-gen
ORACLE=$S/src/avg_oracle.py
OFFLOAD=${SFR_PARTIAL_OFFLOAD:-0}
if ((OFFLOAD)); then
	KS="1 3 7" FULL=0
	GREP_OPTS=("" -c -n "-n -v" "-c -v") GREP_PATS=(needle)
else
	KS="1 2 3 7" FULL=1
	GREP_OPTS=("" -c -n -v "-c -v" "-n -v" "-c -n")
	GREP_PATS=(needle "" zzz $'needle\r')
fi
for b in "$A" "$G" "$GEN"; do
	[[ -x $b ]] || { echo "missing $b: make -C selftests KDIR=..."; exit 1; }
done
# The system's python3: pyenv's may come first on PATH.
PY=$(command -v /usr/bin/python3 || command -v python3) ||
	{ echo "no python3 for the decoder"; exit 4; }
work=$(mktemp -d)
d=${SFR_PARTIAL_DIR:-$work/data}
trap 'rm -rf "$work" "${SFR_PARTIAL_DIR:+$d}"' EXIT
rm -rf "$d"
mkdir -p "$d"
fail=0 runs=0

bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

# run WANT_RC CMD...: -> $work/out, $work/err; the status in $rc.
run() {
	local want=$1
	shift
	runs=$((runs + 1))
	rc=0
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	((rc == want)) || bad "${*##*/}: exit status $rc, want $want: $(head -c 300 "$work/err")"
}

# ---- the independent decoder ----------------------------------------------
# decode.py BLOB block|meta|data: the blob's answer printed as the tool
# prints it for the shard (block: sfr-avg's lines but the mean; data: the
# lines or the count of grep -F), or its other fields (meta).
cat >"$work/decode.py" <<'EOF'
import struct, sys, zlib
path, what = sys.argv[1], sys.argv[2]
b = open(path, 'rb').read()
def die(msg):
    sys.exit('decode.py: %s: %s' % (path, msg))
magic, version, kind, plen = struct.unpack_from('<8sHHI', b, 0)
if magic != b'SFRPART\0' or version != 1:
    die('magic or version')
off = 16
params = b[off:off + plen]
off += plen
data = b''
while True:
    (n,) = struct.unpack_from('<I', b, off)
    off += 4
    if n == 0:
        break
    data += b[off:off + n]
    off += n
(slen,) = struct.unpack_from('<I', b, off)
summary = b[off + 4:off + 4 + slen]
off += 4 + slen
length, crc = struct.unpack_from('<QI', b, off)
if off + 12 != len(b) or length != len(b):
    die('length')
if zlib.crc32(b[:off + 8]) != crc:
    die('crc')
out = sys.stdout.buffer
def dec(v, scale):
    q, r = divmod(abs(v), 10 ** scale)
    s = ('-' if v < 0 else '') + str(q)
    return s + ('.%0*d' % (scale, r) if scale else '')
if kind == 1:
    if plen != 8 or slen != 76 or data:
        die('avg sizes')
    scale, decimals, delim, res, field = struct.unpack('<BBBBI', params)
    count, = struct.unpack_from('<Q', summary, 0)
    total = int.from_bytes(summary[8:24], 'little', signed=True)
    mn, mx, invalid, lines, first, = struct.unpack_from('<qqQQQ', summary, 24)
    ferr, flags, res2 = struct.unpack_from('<III', summary, 64)
    if what == 'block':
        out.write(b'count: %d\nsum: %s\n' % (count, dec(total, scale).encode()))
        if count:
            out.write(b'min: %s\nmax: %s\n' % (dec(mn, scale).encode(),
                                               dec(mx, scale).encode()))
        else:
            out.write(b'min: -\nmax: -\n')
        out.write(b'invalid: %d\n' % invalid)
    else:
        print('scale %d decimals %d delim %d field %d first %d %d lines %d nolf %d'
              % (scale, decimals, delim, field, first, ferr, lines, flags))
elif kind in (2, 3):
    flags, plen2 = struct.unpack_from('<II', params, 0)
    pattern = params[8:]
    nsel, lines, dlen, sflags, res = struct.unpack('<QQQII', summary)
    if plen2 != len(pattern) or dlen != len(data):
        die('grep sizes')
    if what == 'meta':
        print('kind %d invert %d number %d pattern %r lines %d nolf %d'
              % (kind, flags & 1, flags >> 1 & 1, pattern, lines, sflags))
    elif kind == 2:
        if pattern or not flags & 1:    # grep -c -v '' prints nothing
            out.write(b'%d\n' % nsel)
    elif flags & 2:
        p = 0
        while p < len(data):
            (n,) = struct.unpack_from('<Q', data, p)
            e = data.index(b'\n', p + 8) + 1
            out.write(b'%d:' % n + data[p + 8:e])
            p = e
    else:
        out.write(data)
else:
    die('kind %d' % kind)
EOF
# A failed decode is counted (and its output then differs from the want).
decode() { "$PY" "$work/decode.py" "$@" || bad "decode.py $*: status $?"; }

# What the decoder must find in the meta of a blob of shard $1: its line
# count (a last line without LF counts) and whether it ends inside a line.
shard_lines() {
	local n nolf=0
	n=$(wc -l <"$1")
	if [[ -s $1 && $(tail -c 1 "$1" | od -An -tx1) != " 0a" ]]; then
		n=$((n + 1))
		nolf=1
	fi
	echo "lines $n nolf $nolf"
}

# ---- making blobs -----------------------------------------------------------

# mkblob TOOL BLOB WANT_RCS ARGS... FILE: the blob of FILE, made
# automatically (offloaded with SFR_PARTIAL_OFFLOAD=1), with -j 2 and
# with --no-offload: the same bytes each time, a status in WANT_RCS ("0"
# or "0 1"), and no other stderr than the fallback notice (host) or
# --stats (offloaded).
mkblob() {
	local tool=$1 blob=$2 rcs=$3 mode line ok
	shift 3
	for mode in auto -j2 user; do
		local args=(--partial --output="$blob.$mode")
		case $mode in
		-j2) args+=(-j 2) ;;
		user) args+=(--no-offload) ;;
		esac
		((OFFLOAD)) && [[ $mode != user ]] && args+=(--stats)
		runs=$((runs + 1))
		rc=0
		"$tool" "${args[@]}" "$@" >"$work/out" 2>"$work/err" || rc=$?
		[[ " $rcs " == *" $rc "* ]] ||
			bad "${tool##*/} ${args[*]} ${*##*/}: status $rc: $(head -c 300 "$work/err")"
		[[ ! -s $work/out ]] || bad "${tool##*/} ${args[*]}: output on stdout"
		ok=0
		while IFS= read -r line; do
			if [[ $mode == user ]]; then
				bad "${tool##*/} $mode ${*##*/}: stderr: $line"
			elif ((OFFLOAD)); then
				[[ $line == *": stats: "* ]] || bad "${tool##*/} $mode ${*##*/}: stderr: $line"
				[[ $line == *"stats: files: 1 by sfr, 0 in user space"* ]] && ok=1
			else
				[[ $line == *"computing in user space" ]] || bad "${tool##*/} $mode ${*##*/}: stderr: $line"
			fi
		done <"$work/err"
		((!OFFLOAD || ok)) || [[ $mode == user ]] ||
			bad "${tool##*/} $mode ${*##*/}: not offloaded"
	done
	cmp -s "$blob.auto" "$blob.user" && cmp -s "$blob.-j2" "$blob.user" ||
		bad "${tool##*/} $* : blobs differ between offload, -j 2 and --no-offload"
	mv "$blob.user" "$blob"
	rm -f "$blob.auto" "$blob.-j2"
}

# split_shards FILE K: FILE as K record-aligned shards $FILE.K.00 ...; an
# empty shard is put first, in the middle and last when K is 3.
shards=()
split_shards() {
	local f=$1 k=$2 i
	rm -f "$f.$k".*
	split -n "l/$k" -d -a 2 "$f" "$f.$k."
	shards=()
	for i in $(seq -f %02g 0 $((k - 1))); do
		shards+=("$f.$k.$i")
	done
	[[ $(cat "${shards[@]}" | cksum) == $(cksum <"$f") ]] ||
		bad "split of $f into $k shards"
	if ((k == 3)); then
		: >"$f.3.e0"
		: >"$f.3.e1"
		: >"$f.3.e2"
		shards=("$f.3.e0" "${shards[0]}" "$f.3.e1" "${shards[1]}"
			"${shards[2]}" "$f.3.e2")
	fi
}

# ---- sfr-avg ----------------------------------------------------------------

# Numbers: generated (some CRLF), then blank lines, invalid lines and
# edge cases, more generated numbers, a last line without LF.
"$GEN" --summary "$work/gen.want" numbers 700K 41 >"$d/gen.txt"
{
	"$GEN" numbers 300K 42
	echo
	printf '\n  \n\r\nx\n1e3\n-0.5\r\n+.25\n-9223372036854.775808\n9223372036854.775808\n'
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%s%d.%03d%s\n", i % 3 ? "" : "-", i * 7919 % 100003, i % 1000, i % 11 ? "" : "\r" }'
	printf 'bad line\n-1.5\n'
	"$GEN" numbers 200K 43
	printf '\n17.125'
} >"$d/num.txt"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%d,%s,%d.%02d\n", i, i % 97 ? "n" : "", i % 5 ? i : -i, i % 100 }' >"$d/t.csv"

# tree TOOL BLOB...: fold the BLOBs as an ordered pairwise tree of
# "--merge --partial" steps (as tools/dask does) into $work/tree.blob; each
# step writes a blob and exits 0 (or 1: sfr-grep selected nothing).
tree() {
	local tool=$1 level=0 i n step
	shift
	local cur=("$@") next
	while ((${#cur[@]} > 1)); do
		next=()
		n=${#cur[@]}
		for ((i = 0; i + 1 < n; i += 2)); do
			step=$work/tree.$level.$i.blob
			runs=$((runs + 1))
			rc=0
			"$tool" --merge --partial --output="$step" "${cur[i]}" "${cur[i + 1]}" \
				>"$work/out" 2>"$work/err" || rc=$?
			((rc <= 1)) && [[ -s $step && ! -s $work/out && ! -s $work/err ]] ||
				bad "${tool##*/} --merge --partial, level $level: status $rc: $(head -c 300 "$work/err")"
			next+=("$step")
		done
		((n % 2)) && next+=("${cur[n - 1]}")
		cur=("${next[@]}")
		level=$((level + 1))
	done
	cp "${cur[0]}" "$work/tree.blob"
}

# avg_case LABEL FILE OPTS...: for 1, 2, 3 and 7 shards, --merge of the
# blobs, and of their pairwise tree of --merge --partial steps, gives
# sfr-avg OPTS FILE's stdout and status; the decoder finds each shard's
# block and line count in its blob.
avg_case() {
	local label=$1 f=$2 k s i want_rc
	shift 2
	want_rc=0
	"$A" --no-offload "$@" "$f" >"$work/whole" 2>/dev/null || want_rc=$?
	for k in $KS; do
		split_shards "$f" "$k"
		blobs=()
		i=0
		for s in "${shards[@]}"; do
			mkblob "$A" "$s.blob" 0 "$@" "$s"
			blobs+=("$s.blob")
			# The shard's own answer, by the decoder.
			"$A" --no-offload "$@" "$s" 2>/dev/null | grep -v '^mean:' >"$work/shard.want" || true
			((FULL)) || continue
			decode "$s.blob" block >"$work/shard.got"
			cmp -s "$work/shard.want" "$work/shard.got" ||
				bad "$label $k shards: decoding shard $i: $(diff "$work/shard.want" "$work/shard.got" | head -4)"
			[[ $(decode "$s.blob" meta) == *" $(shard_lines "$s")" ]] ||
				bad "$label $k shards: shard $i: meta '$(decode "$s.blob" meta)', want '$(shard_lines "$s")'"
			i=$((i + 1))
		done
		run "$want_rc" "$A" --merge "${blobs[@]}"
		cmp -s "$work/whole" "$work/out" || {
			bad "$label: --merge of $k shards differs from the whole file"
			diff "$work/whole" "$work/out" | head -6 || true
		}
		tree "$A" "${blobs[@]}"
		run "$want_rc" "$A" --merge "$work/tree.blob"
		cmp -s "$work/whole" "$work/out" ||
			bad "$label: the tree merge of $k shards differs from the whole file"
		# A blob of the whole file is the fold of its shards' blobs.
		if ((FULL)); then
			"$A" --no-offload --partial -o "$work/whole.blob" "$@" "$f"
			cmp -s "$work/whole.blob" "$work/tree.blob" ||
				bad "$label: the tree of $k shards is not the whole file's blob"
		fi
	done
}

avg_case "numbers" "$d/num.txt"
avg_case "numbers -s 2 --decimals 3" "$d/num.txt" -s 2 --decimals 3
avg_case "csv -f 3" "$d/t.csv" -d , -f 3 -s 1
if ((FULL)); then
	avg_case "numbers -s 0" "$d/num.txt" -s 0
	avg_case "csv -f 2 (all invalid)" "$d/t.csv" -d , -f 2
	avg_case "generated" "$d/gen.txt"
fi

# Independent oracles for the merge: the generator's exact answer, and
# the Python reduce.
split_shards "$d/gen.txt" 7
blobs=()
for s in "${shards[@]}"; do
	mkblob "$A" "$s.blob" 0 "$s"
	blobs+=("$s.blob")
done
run 0 "$A" --merge "${blobs[@]}"
cmp -s "$work/gen.want" "$work/out" || bad "generated, 7 shards: --merge differs from sfr-gen --summary"
if grep -qx 'invalid: 0' "$work/gen.want"; then
	run 0 "$A" --merge --strict "${blobs[@]}"
	cmp -s "$work/gen.want" "$work/out" || bad "generated, 7 shards: --merge --strict differs"
fi
"$PY" "$ORACLE" --scale 2 --decimals 3 "$d/num.txt" >"$work/py.want" || true
split_shards "$d/num.txt" 3
blobs=()
for s in "${shards[@]}"; do
	mkblob "$A" "$s.blob" 0 -s 2 --decimals 3 "$s"
	blobs+=("$s.blob")
done
run 0 "$A" --merge "${blobs[@]}"
cmp -s "$work/py.want" "$work/out" || bad "numbers, 3 shards: --merge differs from avg_oracle.py"
num3=("${blobs[@]}")	# -s 2 --decimals 3, with empty shards

# --merge --strict: the first invalid line, by blob and by merged line.
run 1 "$A" --strict --no-offload -s 2 "$d/num.txt"
line=$(sed -n 's/.*: line \([0-9]*\): not a number$/\1/p' "$work/err")
[[ -n $line ]] || bad "--strict on the whole file: $(cat "$work/err")"
run 1 "$A" --merge --strict "${num3[@]}"
[[ ! -s $work/out ]] || bad "--merge --strict: output on stdout"
grep -Eq "^sfr-avg: [^ ]+\.blob: line [0-9]+ \(line $line of the merged input\): not a number\$" "$work/err" ||
	bad "--merge --strict: '$(cat "$work/err")', want line $line"
run 2 "$A" --merge --partial --strict -o "$work/strict.blob" "${num3[@]}"
[[ ! -e $work/strict.blob ]] && grep -q 'give it to the last --merge' "$work/err" ||
	bad "--merge --partial --strict: blob written, or '$(cat "$work/err")'"
run 0 "$A" --merge --partial -o "$work/num3.blob" "${num3[@]}"
run 1 "$A" --merge --strict "$work/num3.blob"
grep -Eq "^sfr-avg: [^ ]+num3.blob: line $line \(line $line of the merged input\): not a number\$" "$work/err" ||
	bad "--merge --strict of a merged blob: '$(cat "$work/err")', want line $line"
run 1 "$A" --partial --strict -o "$work/strict.blob" "$d/num.txt"
[[ ! -e $work/strict.blob ]] && grep -q ': line [0-9]*: not a number$' "$work/err" ||
	bad "--partial --strict: blob written, or '$(cat "$work/err")'"

# Empty and blank shards, alone and merged.
: >"$d/empty.txt"
printf '\n \n' >"$d/blank.txt"
mkblob "$A" "$d/empty.blob" 0 "$d/empty.txt"
mkblob "$A" "$d/blank.blob" 0 "$d/blank.txt"
run 1 "$A" "$d/empty.txt"
cp "$work/out" "$work/empty.want"
run 1 "$A" --merge "$d/empty.blob"
cmp -s "$work/empty.want" "$work/out" && grep -qx 'sfr-avg: the merged input: no numbers (empty)' "$work/err" ||
	bad "--merge of an empty shard: $(cat "$work/out" "$work/err")"
run 1 "$A" --merge "$d/empty.blob" "$d/blank.blob" "$d/empty.blob"
grep -qx 'sfr-avg: the merged input: no numbers (only blank lines)' "$work/err" ||
	bad "--merge of blank shards: $(cat "$work/err")"

# Standard input and -o: the same blob; -o may name the input itself.
printf '1\n-2.5\n3' >"$d/small.txt"
runs=$((runs + 1))
"$A" --partial <"$d/small.txt" >"$work/stdin.blob" 2>/dev/null || bad "--partial <file: status $?"
cat "$d/small.txt" | "$A" --partial >"$work/pipe.blob" 2>/dev/null || bad "--partial from a pipe: status $?"
"$A" --partial --no-offload "$d/small.txt" >"$work/file.blob"
cmp -s "$work/stdin.blob" "$work/file.blob" && cmp -s "$work/pipe.blob" "$work/file.blob" ||
	bad "--partial: standard input and a pipe give other blobs than the file"
[[ $(decode "$work/pipe.blob" meta) == *" first 0 0 lines 3 nolf 1" ]] ||
	bad "a pipe without a last newline: $(decode "$work/pipe.blob" meta)"
cp "$d/small.txt" "$d/self.txt"
run 0 "$A" --partial --no-offload -o "$d/self.txt" "$d/self.txt"
cmp -s "$d/self.txt" "$work/file.blob" || bad "-o naming the input: not the blob"
run 1 "$A" --partial -o "$work/none.blob" "$d/nope.txt"
grep -qx "sfr-avg: $d/nope.txt: No such file or directory" "$work/err" &&
	! ls "$work"/none.blob* >/dev/null 2>&1 || bad "--partial of a missing file: $(cat "$work/err"); $(ls "$work")"
run 1 "$A" --partial -o "$work/no/such/dir.blob" "$d/small.txt"
grep -q "dir.blob.tmp.[0-9]*: No such file or directory" "$work/err" || bad "-o into a missing directory: $(cat "$work/err")"

# ---- sfr-grep -----------------------------------------------------------

{
	"$GEN" text 400K 51
	printf '\nneedle\r\nalpha needle beta\r\n\r\n\nneedleneedle\n'
	awk 'BEGIN { for (i = 0; i < 3000; i++) print (i % 13 ? "hay " i : "a needle " i) }'
	"$GEN" text 300K 52
	printf '\nthe last line has a needle'
} >"$d/text.txt"

# grep_case PATTERN OPTS...: for 1, 2, 3 and 7 shards, --merge of the
# blobs (flat, and as a tree of --merge --partial steps) gives grep -F
# OPTS PATTERN's stdout and status on the whole file;
# the decoder finds each shard's grep -F output and line count.
grep_case() {
	local pat=$1 f=$d/text.txt k s i want_rc rcs
	shift
	want_rc=0
	grep -F "$@" -e "$pat" "$f" >"$work/whole" || want_rc=$?
	for k in $KS; do
		split_shards "$f" "$k"
		blobs=()
		i=0
		for s in "${shards[@]}"; do
			rcs=0
			grep -F -q "$@" -e "$pat" "$s" || rcs=1
			mkblob "$G" "$s.blob" "$rcs" "$@" -e "$pat" "$s"
			blobs+=("$s.blob")
			grep -F "$@" -e "$pat" "$s" >"$work/shard.want" || true
			((FULL)) || continue
			decode "$s.blob" data >"$work/shard.got"
			cmp -s "$work/shard.want" "$work/shard.got" ||
				bad "grep '$pat' $* $k shards: decoding shard $i differs from grep -F"
			[[ $(decode "$s.blob" meta) == *" $(shard_lines "$s")" ]] ||
				bad "grep '$pat' $* $k shards: shard $i: meta '$(decode "$s.blob" meta)', want '$(shard_lines "$s")'"
			i=$((i + 1))
		done
		run "$want_rc" "$G" --merge "${blobs[@]}"
		cmp -s "$work/whole" "$work/out" ||
			bad "grep '$pat' $*: --merge of $k shards differs from grep -F ($(wc -c <"$work/out") bytes, want $(wc -c <"$work/whole"))"
		tree "$G" "${blobs[@]}"
		run "$want_rc" "$G" --merge "$work/tree.blob"
		cmp -s "$work/whole" "$work/out" ||
			bad "grep '$pat' $*: the tree merge of $k shards differs from grep -F"
		if ((FULL)); then
			"$G" --no-offload --partial --output="$work/whole.blob" "$@" -e "$pat" "$f" || true
			cmp -s "$work/whole.blob" "$work/tree.blob" ||
				bad "grep '$pat' $*: the tree of $k shards is not the whole file's blob"
		fi
	done
}

for opts in "${GREP_OPTS[@]}"; do
	for pat in "${GREP_PATS[@]}"; do
		# shellcheck disable=SC2086
		grep_case "$pat" $opts
	done
done
if ((FULL)); then
	grep_case "a needle 1" -n
else
	grep_case "" -n		# the empty pattern: every line
fi

# Order matters: -n numbers go on from the shards given before.
split_shards "$d/text.txt" 7
lines=()
for s in "${shards[@]}"; do
	mkblob "$G" "$s.nblob" "0 1" -n needle "$s"
	lines+=("$s.nblob")
done
run 0 "$G" --merge "${lines[2]}" "${lines[0]}" "${lines[1]}"
cat "${shards[2]}" "${shards[0]}" "${shards[1]}" | grep -F -n needle >"$work/want" || true
cmp -s "$work/want" "$work/out" || bad "--merge of shards 3, 1, 2: not numbered in that order"
# Options given with --merge must match the blobs.
run 0 "$G" --merge -n -e needle "${lines[@]}"
run 2 "$G" --merge -c "${lines[@]}"
grep -q "made with -n -e 'needle', not with -c -e 'needle' as asked" "$work/err" ||
	bad "--merge -c of lines blobs: $(cat "$work/err")"
run 2 "$G" --merge -e other "${lines[@]}"
[[ ! -s $work/out ]] || bad "--merge -e other: output"

# Empty shard and empty pattern with -v (nothing can be selected).
: >"$d/empty.txt"
mkblob "$G" "$d/gempty.blob" 1 -c needle "$d/empty.txt"
run 1 "$G" --merge "$d/gempty.blob"
[[ $(cat "$work/out") == 0 ]] || bad "--merge -c of an empty shard: '$(cat "$work/out")'"
mkblob "$G" "$d/vempty.blob" 1 -n -v -e '' "$d/text.txt"
[[ $(decode "$d/vempty.blob" meta) == *" $(shard_lines "$d/text.txt")" ]] ||
	bad "-v '': the blob lacks the line count: $(decode "$d/vempty.blob" meta)"

# ---- bad blobs ----------------------------------------------------------------

# expect TOOL WANT_RC STDERR_REGEX ARGS...: a bad blob is an error naming
# it, with no output on stdout.
expect() {
	local tool=$1 want=$2 re=$3
	shift 3
	run "$want" "$tool" "$@"
	[[ ! -s $work/out ]] || bad "${tool##*/} $*: output on stdout"
	grep -Eq -- "$re" "$work/err" || bad "${tool##*/} $*: stderr '$(head -c 300 "$work/err")' lacks /$re/"
}

avg=${num3[1]}
lin=$d/lines.blob
mkblob "$G" "$lin" 0 -n needle "$d/text.txt"
mkblob "$G" "$d/count.blob" 0 -c needle "$d/text.txt"
printf '5\n' >"$d/five.txt"
mkblob "$A" "$d/five.blob" 0 "$d/five.txt"
# Python: FILE OFFSET VALUE: set a byte (OFFSET < 0: from the end).
setbyte() {
	"$PY" -c 'import sys; p, o, v = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]); b = bytearray(open(p, "rb").read()); b[o] = v; open(p, "wb").write(b)' "$@"
}
cp "$d/five.blob" "$work/v.blob"
setbyte "$work/v.blob" 8 2
expect "$A" 1 "^sfr-avg: $work/v.blob: unsupported version 2 \(this sfr-avg reads version 1\)\$" --merge "$work/v.blob"
cp "$lin" "$work/v.blob"
setbyte "$work/v.blob" 9 1
expect "$G" 2 "^sfr-grep: $work/v.blob: unsupported version 257 \(this sfr-grep reads version 1\)\$" --merge "$work/v.blob"
expect "$A" 1 "^sfr-avg: $d/five.txt: not a partial result of sfr-avg or sfr-grep \(no SFRPART magic\)\$" --merge "$d/five.txt"
expect "$G" 2 "^sfr-grep: $avg: a partial result of sfr-avg, not of sfr-grep\$" --merge "$avg"
expect "$A" 1 "^sfr-avg: $d/count.blob: a partial result of sfr-grep -c, not of sfr-avg\$" --merge "$d/count.blob"
expect "$A" 1 "^sfr-avg: $lin: a partial result of sfr-grep \(lines\), not of sfr-avg\$" --merge "$avg" "$lin"
# A flipped byte of the summary, of the data.
cp "$d/five.blob" "$work/f.blob"
setbyte "$work/f.blob" 40 1
expect "$A" 1 "^sfr-avg: $work/f.blob: checksum mismatch \(CRC-32 [0-9a-f]{8}, the blob says [0-9a-f]{8}\): the blob is corrupt\$" --merge "$work/f.blob"
cp "$lin" "$work/f.blob"
setbyte "$work/f.blob" 100 0
expect "$G" 2 "^sfr-grep: $work/f.blob: checksum mismatch" --merge "$lin" "$work/f.blob"
# Every byte flipped in turn, every truncation: an error naming the blob.
for blob in "$d/five.blob" "$d/count.blob"; do
	((FULL)) || break
	tool=$A want=1
	[[ $blob == *count* ]] && tool=$G want=2
	size=$(stat -c %s "$blob")
	for ((i = 0; i < size; i++)); do
		cp "$blob" "$work/x.blob"
		"$PY" -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0x20; open(p, "wb").write(b)' "$work/x.blob" "$i"
		run "$want" "$tool" --merge "$work/x.blob"
		[[ ! -s $work/out ]] && grep -q "^${tool##*/}: $work/x.blob: " "$work/err" ||
			bad "${tool##*/}: byte $i of $size flipped: '$(cat "$work/out" "$work/err")'"
		head -c "$i" "$blob" >"$work/x.blob"
		run "$want" "$tool" --merge "$work/x.blob"
		[[ ! -s $work/out ]] && grep -Eq "^${tool##*/}: $work/x.blob: truncated: $i bytes, cut off in its (header|parameters|data|summary|trailer)\$" "$work/err" ||
			bad "${tool##*/}: cut to $i of $size bytes: '$(cat "$work/out" "$work/err")'"
	done
done
head -c 3000 "$lin" >"$work/t.blob"
expect "$G" 2 "^sfr-grep: $work/t.blob: truncated: 3000 bytes, cut off in its data\$" --merge "$work/t.blob"
{ cat "$d/five.blob"; printf 'x'; } >"$work/x.blob"
expect "$A" 1 "^sfr-avg: $work/x.blob: corrupt: 1 bytes after the end of the blob\$" --merge "$work/x.blob"
# A valid CRC over a summary that cannot be: count above the lines.
cp "$d/five.blob" "$work/c.blob"
"$PY" - "$work/c.blob" <<'EOF'
import struct, sys, zlib
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
struct.pack_into('<Q', b, 32, 7)        # the count (the shard has 1 line)
struct.pack_into('<I', b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
open(p, 'wb').write(b)
EOF
expect "$A" 1 "^sfr-avg: $work/c.blob: corrupt: more numbers and invalid lines than lines\$" --merge "$work/c.blob"
# Blobs that do not fit together.
mkblob "$A" "$d/five3.blob" 0 -s 3 "$d/five.txt"
expect "$A" 1 "^sfr-avg: $d/five3.blob: made with -s 3 --decimals 3, but $d/five.blob with -s 6 --decimals 6\$" \
	--merge "$d/five.blob" "$d/five3.blob"
expect "$A" 1 "^sfr-avg: $d/five.blob: made with -s 6 --decimals 6, not with -s 3 --decimals 6 as asked\$" \
	--merge -s 3 "$d/five.blob"
run 0 "$A" --merge -s 3 --decimals 3 "$d/five3.blob"
mkblob "$A" "$d/csv.blob" 0 -d , -f 3 "$d/five.txt"
expect "$A" 1 "made with -s 6 --decimals 6 -d ',' -f 3, but $d/five.blob with -s 6 --decimals 6\$" \
	--merge "$d/five.blob" "$d/csv.blob"
mkblob "$G" "$d/count2.blob" 0 -c -e hay "$d/text.txt"
expect "$G" 2 "^sfr-grep: $d/count2.blob: made with -c -e 'hay', but $d/count.blob with -c -e 'needle'\$" \
	--merge "$d/count.blob" "$d/count2.blob"
expect "$G" 2 "made with -n -e 'needle', but $d/count.blob with -c -e 'needle'\$" \
	--merge "$d/count.blob" "$lin"
# A shard that ends inside a line may only be the last.
mkblob "$A" "$d/small.blob" 0 "$d/small.txt"
expect "$A" 1 "^sfr-avg: $d/small.blob: its shard does not end with a newline, but $d/five.blob follows it" \
	--merge "$d/small.blob" "$d/five.blob"
run 0 "$A" --merge "$d/five.blob" "$d/small.blob"
mkblob "$G" "$d/nonl.blob" 0 -c needle "${shards[6]}"	# the last shard of text.txt
expect "$G" 2 "^sfr-grep: $d/nonl.blob: its shard does not end with a newline" \
	--merge "$d/nonl.blob" "$d/count.blob"
expect "$A" 1 "^sfr-avg: $d/nope.blob: No such file or directory\$" --merge "$d/five.blob" "$d/nope.blob"

# ---- usage ------------------------------------------------------------------
for args in "--merge -o x y" "--partial a b" "-o x a" "--merge" "--merge -j 2 x" \
	    "--merge --no-offload x" "--merge --stats x"; do
	# shellcheck disable=SC2086
	expect "$A" 2 "^sfr-avg: " $args
done
for args in "--merge --output=o x y" "--partial x a b" "--output=o x a" "--merge" \
	    "--merge -j 2 x" "--merge --buffer-size 8k x" "--partial -m 1 x a" \
	    "--merge -m 1 x" "--partial -H x a" "--merge --stats x"; do
	# shellcheck disable=SC2086
	expect "$G" 2 "^sfr-grep: " $args
done
for t in "$A" "$G"; do
	run 0 "$t" --help
	grep -q -- '--partial' "$work/out" && grep -q -- '--merge' "$work/out" &&
		grep -q 'examples/partial.h' "$work/out" || bad "${t##*/} --help lacks --partial, --merge or the format"
done
if command -v script >/dev/null; then
	runs=$((runs + 1))
	script -qec "$A --partial --no-offload $d/five.txt" /dev/null >"$work/tty" 2>&1 && bad "a blob to a terminal: status 0"
	grep -q 'will not write a binary blob to a terminal' "$work/tty" || bad "a blob to a terminal: $(cat -v "$work/tty")"
fi

if ((!FULL)); then
	:
elif command -v valgrind >/dev/null; then
	vg() { # WANT_RC CMD...: valgrind's errors would give 9
		local want=$1
		shift
		run "$want" valgrind -q --error-exitcode=9 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$@"
	}
	vg 0 "$A" --merge "${num3[@]}"
	vg 0 "$A" --partial -o "$work/vg.blob" "$d/num.txt"
	vg 1 "$A" --merge "$work/f.blob"
	vg 0 "$G" --merge "${lines[@]}"
	vg 0 "$G" --partial --output="$work/vg.blob" -n needle "$d/text.txt"
	vg 2 "$G" --merge "$work/t.blob"
	vg 0 "$A" --merge --partial -o "$work/vg.blob" "${num3[@]}"
	vg 0 "$G" --merge --partial --output="$work/vg.blob" "${lines[@]}"
	vg 2 "$G" --merge --partial --output="$work/vg2.blob" "${lines[0]}" "$work/t.blob"
	vg 1 "$A" --merge --partial -o "$work/vg3.blob" "${num3[0]}" "$work/f.blob"
	! ls "$work"/vg2.blob* "$work"/vg3.blob* >/dev/null 2>&1 ||
		bad "--merge --partial with a bad blob: left $(ls "$work"/vg[23].blob*)"
	vg 2 "$G" --merge "$d/count.blob" "$lin"
else
	echo "# valgrind not installed: skipped"
fi
echo "# $runs runs, $fail failed"
((fail == 0))
