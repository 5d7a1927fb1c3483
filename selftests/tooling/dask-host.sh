#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/dask: sfr-avg and sfr-grep under Dask.distributed. A generated
# numbers file and a text file are cut into record-aligned shards placed on
# 1, 2 and 3 nodes (2 replicas where there are 2 nodes or more); a
# cluster (tools/dask/cluster) runs a worker per node. The distributed
# answer must equal the generator's exact sums, sfr-avg and --no-offload
# on the whole file and awk (count exactly, sum to 1e-9), and grep -F -c
# and grep -F -n; every shard must have run on a holder of it and scanned
# exactly its bytes. Then: a worker SIGKILLed in the middle of a job (the
# same answer, its unfinished shards rerun on their other replica), both
# holders of a shard dead (an error naming the shard within --grace, no
# answer), a bad manifest, a replica that lost its file, usage errors.
#
# On the host the workers share 127.0.0.1 and the CLIs fall back to user
# space (no sfr in the host kernel). selftests/guest/dask.sh runs this in
# the VM with SFR_DASK_NETNS=1: each node in its own network namespace
# behind a veth pair, each on its own ext4 disk (a loop device), every
# shard offloaded (--stats says sfr), and bytes over the veths for the
# offloaded job under 1% of the raw data, while --raw moves all of it.
# SFR_DASK_DIR: where the nodes' data goes (default: a temporary dir).
# Each run starts Python with Dask: about 10 s under emulation.
# timeout: 1200
set -euo pipefail
export LC_ALL=C
S=${SFR_SELFTESTS:-$(cd "$(dirname "$0")/.." && pwd)}
R=$(cd "$S/.." && pwd)
BIN=$R/examples/.output
GEN=${SFR_TEST_OUT:-$S/.output}/sfr-gen
D=$R/tools/dask
NETNS=${SFR_DASK_NETNS:-0}
for b in "$BIN/sfr-avg" "$BIN/sfr-grep" "$GEN"; do
	[[ -x $b ]] || { echo "missing $b: make -C selftests KDIR=..."; exit 1; }
done
/usr/bin/python3 -c 'import distributed' 2>/dev/null ||
	{ echo "python3-distributed is not installed (tools/deps)"; exit 1; }
work=$(mktemp -d)
d=${SFR_DASK_DIR:-$work/data}
port=$((20000 + $$ % 20000))
cl=(bash "$D/cluster" -d "$work/cluster")
cleanup() {
	"${cl[@]}" stop 2>/dev/null || true
	rm -rf "$work" "${SFR_DASK_DIR:+$d}"
}
trap cleanup EXIT
mkdir -p "$d"
fail=0 runs=0
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

# A slow sfr-avg for the kill test: each shard takes a second or more, so
# a worker can die with shards still to do.
mkdir "$work/slow"
for t in avg grep; do
	printf '#!/bin/sh\nsleep 1\nexec %s "$@"\n' "$BIN/sfr-$t" >"$work/slow/sfr-$t"
	chmod +x "$work/slow/sfr-$t"
done

if ((NETNS)); then
	size=12M shards=6
else
	size=24M shards=12
fi
"$GEN" --summary "$work/gen.want" numbers "$size" 61 >"$work/num.txt"
{
	"$GEN" text "$size" 62
	printf 'a needle at the end'
} >"$work/text.txt"
"$BIN/sfr-avg" --no-offload "$work/num.txt" >"$work/user.want"
cmp -s "$work/gen.want" "$work/user.want" || bad "sfr-avg --no-offload differs from sfr-gen --summary"
"$BIN/sfr-avg" "$work/num.txt" 2>/dev/null >"$work/sfr.want" || true
cmp -s "$work/gen.want" "$work/sfr.want" || bad "sfr-avg differs from sfr-gen --summary"
awk '{ n++; s += $1 } END { printf "%d %.17g\n", n, s }' "$work/num.txt" >"$work/awk.want"
grep -F -c needle "$work/text.txt" >"$work/c.want" || true
grep -F -n needle "$work/text.txt" >"$work/n.want" || true

# node_dirs N: directories for nodes 0..N-1 (in the VM: ext4 on a loop
# device each, mounted at $d/nodeK).
node_dirs() {
	local k
	for ((k = 0; k < $1; k++)); do
		[[ -d $d/node$k ]] && continue
		mkdir -p "$d/node$k"
		if ((NETNS)); then
			truncate -s 160M "$d/node$k.img"
			mkfs.ext4 -q -F "$d/node$k.img"
			mount -o loop "$d/node$k.img" "$d/node$k"
			mounted+=("$d/node$k")
		fi
	done
}
mounted=()
trap '"${cl[@]}" stop 2>/dev/null || true
	for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || true; done
	cleanup' EXIT

# ingest FILE MANIFEST N: FILE as $shards shards on nodes 0..N-1.
ingest() {
	local f=$1 m=$2 n=$3 k args=()
	for ((k = 0; k < n; k++)); do
		args+=(-n "node$k=$d/node$k/$n")
		mkdir -p "$d/node$k/$n"
	done
	runs=$((runs + 1))
	/usr/bin/python3 "$D/sfr_dask.py" ingest -k "$shards" -r $((n > 1 ? 2 : 1)) \
		"${args[@]}" "$f" "$m" || bad "ingest $f on $n node(s): status $?"
}

start() {
	local n=$1 k nodes=() flags=()
	for ((k = 0; k < n; k++)); do nodes+=("node$k"); done
	((NETNS)) && flags=(-n)
	echo "# starting $n node(s) at $SECONDS s"
	"${cl[@]}" start "${flags[@]}" -p "$port" "${nodes[@]}" >"$work/addr" ||
		{ bad "cluster start with $n node(s)"; return 1; }
	if ((NETNS)); then
		[[ $(ip netns list | grep -c '^node') == "$n" ]] || bad "$n nodes, but namespaces: $(ip netns list)"
	fi
}

# job WANT_RC OUT TOOL ARGS...: run sfr_dask.py run (--report $work/rep)
job() {
	local want=$1 out=$2 t=$SECONDS
	shift 2
	runs=$((runs + 1))
	rc=0
	echo "# run $* ..."
	/usr/bin/python3 "$D/sfr_dask.py" run --scheduler "$(cat "$work/addr")" \
		--report "$work/rep" "$@" >"$out" 2>"$work/err" || rc=$?
	((rc == want)) || bad "run $*: status $rc, want $want: $(tail -c 400 "$work/err")"
	echo "#   status $rc in $((SECONDS - t)) s"
}

# check_report MANIFEST METHOD: every shard once, in order, on a holder,
# every byte scanned, by METHOD (sfr / user space / raw).
check_report() {
	/usr/bin/python3 - "$1" "$work/rep" "$2" <<'EOF' || bad "report of $*: $(cat "$work/rep.err")"
import json, sys
m, r, method = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
err = []
if [x["index"] for x in r["shards"]] != list(range(len(m["shards"]))):
    err.append("shards %s" % [x["index"] for x in r["shards"]])
for x, s in zip(r["shards"], m["shards"]):
    holders = [h["node"] for h in s["replicas"]]
    if x["worker"] not in holders:
        err.append("shard %d ran on %s, held by %s" % (s["index"], x["worker"], holders))
    if x["bytes_scanned"] != s["size"]:
        err.append("shard %d: %d bytes scanned of %d" % (s["index"], x["bytes_scanned"], s["size"]))
    if not x["method"].startswith(method):
        err.append("shard %d: method %s, want %s" % (s["index"], x["method"], method))
if err:
    open(sys.argv[2] + ".err", "w").write("; ".join(err[:4]))
    sys.exit(1)
EOF
}

method=user
((NETNS)) && method=sfr
for n in 1 2 3; do
	node_dirs "$n"
	ingest "$work/num.txt" "$work/num.$n.json" "$n"
	ingest "$work/text.txt" "$work/text.$n.json" "$n"
	start "$n" || continue
	job 0 "$work/out" --manifest "$work/num.$n.json" avg
	cmp -s "$work/gen.want" "$work/out" || bad "$n node(s): avg differs from sfr-gen --summary: $(diff "$work/gen.want" "$work/out" | head -4)"
	check_report "$work/num.$n.json" "$method"
	# awk: the count exactly, the sum as a double.
	/usr/bin/python3 -c '
import sys
n, s = open(sys.argv[1]).read().split()
kv = dict(l.split(": ") for l in open(sys.argv[2]).read().splitlines())
ok = int(kv["count"]) == int(n) and abs(float(kv["sum"]) - float(s)) <= 1e-9 * max(1, abs(float(s)))
sys.exit(0 if ok else 1)' "$work/awk.want" "$work/out" || bad "$n node(s): avg disagrees with awk ($(cat "$work/awk.want"))"
	job 0 "$work/out" --manifest "$work/text.$n.json" grep -c needle
	cmp -s "$work/c.want" "$work/out" || bad "$n node(s): grep -c: $(cat "$work/out"), want $(cat "$work/c.want")"
	check_report "$work/text.$n.json" "$method"
	if ((n == 3 || !NETNS)); then
		job 0 "$work/out" --manifest "$work/text.$n.json" grep -n needle
		cmp -s "$work/n.want" "$work/out" || bad "$n node(s): grep -n differs from grep -F -n"
		job 0 "$work/out" --manifest "$work/num.$n.json" avg --no-offload
		cmp -s "$work/gen.want" "$work/out" || bad "$n node(s): avg --no-offload differs"
		check_report "$work/num.$n.json" user
	fi
	if ((n == 1 && !NETNS)); then
		# A replica that lost its file: the task fails, the job names it.
		mv "$d/node0/1/num.txt.0001" "$work/saved"
		job 2 "$work/out" --manifest "$work/num.1.json" --retries 0 avg
		grep -q 'shard 1 on node0: .*num.txt.0001: No such file' "$work/err" && [[ ! -s $work/out ]] ||
			bad "a lost replica: '$(tail -c 300 "$work/err")'"
		mv "$work/saved" "$d/node0/1/num.txt.0001"
	fi
	((n == 3)) || "${cl[@]}" stop
done

# Bytes over the network: results only, against shipping the shards.
if ((NETNS)); then
	b0=$("${cl[@]}" net-bytes)
	job 0 "$work/out" --manifest "$work/num.3.json" avg
	b1=$("${cl[@]}" net-bytes)
	sent=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["dask_transfer_bytes"])' "$work/rep")
	((sent * 100 < $(stat -c %s "$work/num.txt"))) || bad "the workers sent $sent bytes for the offloaded avg"
	job 0 "$work/out" --manifest "$work/num.3.json" --raw avg
	b2=$("${cl[@]}" net-bytes)
	cmp -s "$work/gen.want" "$work/out" || bad "--raw avg differs from sfr-gen --summary"
	check_report "$work/num.3.json" raw
	raw=$(stat -c %s "$work/num.txt")
	echo "# veth bytes: offloaded avg $((b1 - b0)), --raw $((b2 - b1)), raw data $raw"
	# The veths also carry Dask's heartbeats (some 3 KB/s per worker here,
	# whatever the data): on this small file the offloaded job's share is
	# held to 1/20 of --raw's; the results themselves (what the workers
	# sent, by Dask's count) to 1% of the data. tools/dask/demo shows the
	# veth share on larger files.
	(((b1 - b0) * 20 < b2 - b1)) || bad "offloaded avg moved $((b1 - b0)) bytes over the veths, --raw $((b2 - b1))"
	(((b2 - b1) > raw)) || bad "--raw moved only $((b2 - b1)) bytes for $raw of data"
fi

# slow_job ARGS...: start a job with the slow CLIs in the background (its
# pid in $jobpid) and return once its first shard is done.
slow_job() {
	runs=$((runs + 1))
	/usr/bin/python3 "$D/sfr_dask.py" run --scheduler "$(cat "$work/addr")" --bin "$work/slow" \
		--manifest "$work/num.3.json" --progress "$@" avg >"$work/out" 2>"$work/err" &
	jobpid=$!
	for ((t = 0; t < 600; t++)); do
		grep -q ' done (1/' "$work/err" && return 0
		sleep 0.2
	done
	bad "slow job $*: no shard finished"
}

# A worker dies in the middle of a job (slow CLIs: a second per shard).
slow_job --report "$work/rep"
killed_at=$(date +%s.%N)
"${cl[@]}" kill node1
rc=0
wait "$jobpid" || rc=$?
((rc == 0)) || bad "kill test: status $rc: $(tail -c 400 "$work/err")"
cmp -s "$work/gen.want" "$work/out" || bad "kill test: the answer differs from sfr-gen --summary"
check_report "$work/num.3.json" "$method"
# Every result from node1 was finished before it died, and a shard node1
# holds was done after that, on its other holder.
/usr/bin/python3 -c '
import json, sys
r, t = json.load(open(sys.argv[1])), float(sys.argv[2])
late = [x["index"] for x in r["shards"] if x["worker"] == "node1" and x["finished"] > t]
moved = [x["index"] for x in r["shards"] if "node1" in x["replicas"] and x["finished"] > t]
sys.exit(0 if moved and not late else 1)' "$work/rep" "$killed_at" ||
	bad "kill test: results of node1 after its death, or none of its shards rerun elsewhere: $(cat "$work/rep" | tr -d '\n ' | head -c 600)"

# Both holders of shards dead in the middle of a job: node1 is; kill node2
# once a shard is done. The job must fail within --grace, naming one of
# them (held by node1 and node2), and print nothing.
slow_job --grace 3 --timeout 300
"${cl[@]}" kill node2
rc=0
t0=$SECONDS
wait "$jobpid" || rc=$?
((rc == 2)) || bad "no live replica: status $rc, want 2"
[[ ! -s $work/out ]] || bad "no live replica: an answer was printed"
grep -Eq '^sfr-dask: shard [0-9]+ \(bytes [0-9]+\.\.[0-9]+, replicas on node1, node2\): no live worker holds it' "$work/err" ||
	bad "no live replica: '$(cat "$work/err")'"
((SECONDS - t0 < 60)) || bad "no live replica: took $((SECONDS - t0)) s after the kill"
# And before a job: the same, without submitting anything.
job 2 "$work/out" --manifest "$work/num.3.json" --grace 2 avg
grep -q 'replicas on node1, node2): no live worker holds it' "$work/err" || bad "no live replica before a job: '$(cat "$work/err")'"

"${cl[@]}" stop

# Bad manifests and usage.
printf 'not json' >"$work/bad.json"
echo '{"format": "sfr-dask-manifest", "version": 9, "shards": []}' >"$work/v9.json"
for m in bad.json v9.json none.json; do
	job 2 "$work/out" --manifest "$work/$m" avg
	grep -q "^sfr-dask: $work/$m: " "$work/err" || bad "manifest $m: '$(cat "$work/err")'"
done
runs=$((runs + 1))
/usr/bin/python3 "$D/sfr_dask.py" ingest -r 3 -n "a=$d" -n "b=$d" "$work/num.txt" "$work/x.json" 2>"$work/err" &&
	bad "ingest -r 3 on 2 nodes: status 0"
grep -q -- '-r 3: between 1 and the 2 node(s)' "$work/err" || bad "ingest -r 3: '$(cat "$work/err")'"
# No scheduler there: an error naming it.
job 2 "$work/out" --manifest "$work/num.3.json" --timeout 5 avg
grep -q "cannot reach the scheduler at tcp://127.0.0.1:$port" "$work/err" || bad "no scheduler: '$(cat "$work/err")'"
# The sfr stats line of an offloaded scan ("N (M emitted by the program)").
printf '#!/bin/sh\nfor a; do f=$a; done\n"%s" "$@" 2>/dev/null; s=$?\necho "sfr-avg: stats: method: sfr" >&2\necho "sfr-avg: stats: bytes scanned: $(stat -c %%s "$f")" >&2\necho "sfr-avg: stats: bytes copied to user space: 120 (0 emitted by the program)" >&2\nexit $s\n' "$BIN/sfr-avg" >"$work/fake-sfr-avg"
mkdir "$work/fake" && mv "$work/fake-sfr-avg" "$work/fake/sfr-avg" && chmod +x "$work/fake/sfr-avg"
if ((!NETNS)) && start 1; then
	job 0 "$work/out" --manifest "$work/num.1.json" --bin "$work/fake" avg
	cmp -s "$work/gen.want" "$work/out" || bad "sfr stats lines: the answer differs"
	check_report "$work/num.1.json" sfr
	"${cl[@]}" stop
fi
runs=$((runs + 1))
/usr/bin/python3 "$D/sfr_dask.py" run --help | grep -q -- '--raw' || bad "run --help lacks --raw"
echo "# $runs runs, $fail failed"
((fail == 0))
