#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""sfr under Dask: reduce each shard where it is stored, fold the results.

  sfr_dask.py ingest -k SHARDS -r REPLICAS -n NODE=DIR... FILE MANIFEST
  sfr_dask.py run --scheduler ADDR --manifest MANIFEST avg [OPTIONS]
  sfr_dask.py run --scheduler ADDR --manifest MANIFEST grep [-c] [-n] [-v] PATTERN

ingest cuts FILE at line ends into SHARDS record-aligned shards, copies
each shard into the directories of REPLICAS nodes (shard i on nodes i,
i + 1, ... of the -n list, wrapping) and writes the manifest: for each
shard its byte range of FILE and where each replica lives.

run submits one task per shard to the Dask scheduler, restricted to the
workers (by --name) that hold the shard. The task runs sfr-avg or sfr-grep
with --partial on the worker's own copy (the CLI falls back to user space
where the worker's kernel has no sfr) and returns the blob (a few hundred
bytes; the selected lines for grep without -c). The blobs are folded by
further tasks, as an ordered pairwise tree of "--merge --partial" steps
(the fold is associative, not commutative), and the client prints the
answer with "--merge", exactly as the CLI prints it for the whole file.
--raw instead ships every shard's bytes to the client, which reduces them
in user space: the baseline that moves the data, not the results.

A shard none of whose holders is connected for --grace seconds is an
error naming it, and so is a job not done by --timeout; nothing is printed
on stdout then. A worker that dies has its tasks rerun by Dask on the
shard's other holders (and a finished shard whose result died with it, if
the fold still needs it).

Exit status: that of the CLI's --merge (sfr-avg: 0, or 1 when no number
was found or --strict found an invalid line; sfr-grep: 0 when a line was
selected, else 1); 2 for an error of sfr-dask itself (a bad manifest, a
shard that cannot be done, a scheduler that cannot be reached).
"""

import argparse
import errno
import json
import os
import subprocess
import sys
import tempfile
import time

PROG = "sfr-dask"
MANIFEST_FORMAT = "sfr-dask-manifest"
MANIFEST_VERSION = 1
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Error(Exception):
    """An error the user sees as one line, exit status 1."""


def note(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


# ---- ingest -----------------------------------------------------------------

def cut_points(f, size, k):
    """The offsets where shards 1..k-1 start: just after a line end."""
    cuts = []
    for i in range(1, k):
        pos = max(size * i // k, cuts[-1] if cuts else 0)
        # The first line end at or after pos - 1: its next byte starts a shard.
        f.seek(max(pos - 1, 0))
        while True:
            buf = f.read(1 << 16)
            if not buf:
                pos = size
                break
            nl = buf.find(b"\n")
            if nl >= 0:
                pos = f.tell() - len(buf) + nl + 1
                break
        cuts.append(pos)
    return [0] + cuts + [size]


def copy_range(src, dst_path, off, length):
    """Bytes @off..@off+@length of @src as the file @dst_path."""
    tmp = f"{dst_path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        left = length
        while left:
            try:
                n = os.copy_file_range(src.fileno(), fd, left, off)
            except OSError as e:
                # Across file systems (EXDEV) and where it is missing: copy.
                if e.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS,
                                   errno.EOPNOTSUPP):
                    raise
                buf = os.pread(src.fileno(), min(left, 1 << 20), off)
                n = len(buf)
                if n:
                    os.write(fd, buf)  # a regular file: written whole
            if n <= 0:
                raise Error(f"{src.name}: ended early at byte {off}")
            off += n
            left -= n
        os.close(fd)
        fd = -1
        os.rename(tmp, dst_path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        os.unlink(tmp)
        raise


def ingest(a):
    nodes = []
    for spec in a.node:
        name, sep, d = spec.partition("=")
        if not sep or not name or not d:
            raise Error(f"-n wants NODE=DIR, got '{spec}'")
        if not os.path.isdir(d):
            raise Error(f"{d}: not a directory (node {name})")
        if name in (n for n, _ in nodes):
            raise Error(f"node {name} given twice")
        nodes.append((name, d))
    if not nodes:
        raise Error("no nodes: give -n NODE=DIR at least once")
    if not 1 <= a.replicas <= len(nodes):
        raise Error(f"-r {a.replicas}: between 1 and the {len(nodes)} node(s)")
    if a.shards < 1:
        raise Error(f"-k {a.shards}: at least 1 shard")
    stem = os.path.basename(a.file)
    with open(a.file, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        cuts = cut_points(f, size, a.shards)
        shards = []
        for i in range(a.shards):
            off, length = cuts[i], cuts[i + 1] - cuts[i]
            reps = []
            for j in range(a.replicas):
                name, d = nodes[(i + j) % len(nodes)]
                path = os.path.join(os.path.abspath(d), f"{stem}.{i:04d}")
                copy_range(f, path, off, length)
                reps.append({"node": name, "path": path})
            shards.append({"index": i, "offset": off, "size": length,
                           "replicas": reps})
            if a.progress:
                note(f"ingest: shard {i + 1}/{a.shards}, {length} bytes, on "
                     + ", ".join(r["node"] for r in reps))
    m = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION,
         "source": os.path.abspath(a.file), "size": size, "shards": shards}
    tmp = f"{a.manifest}.tmp.{os.getpid()}"
    with open(tmp, "w") as out:
        json.dump(m, out, indent=1)
        out.write("\n")
    os.rename(tmp, a.manifest)
    return 0


def load_manifest(path):
    try:
        with open(path) as f:
            m = json.load(f)
    except OSError as e:
        raise Error(f"{path}: {e.strerror}")
    except ValueError as e:
        raise Error(f"{path}: not a manifest (bad JSON: {e})")
    if not isinstance(m, dict) or m.get("format") != MANIFEST_FORMAT:
        raise Error(f"{path}: not an sfr-dask manifest")
    if m.get("version") != MANIFEST_VERSION:
        raise Error(f"{path}: manifest version {m.get('version')}, this is {MANIFEST_VERSION}")
    off = 0
    try:
        for i, s in enumerate(m["shards"]):
            if s["index"] != i or s["offset"] != off or s["size"] < 0 or not s["replicas"]:
                raise ValueError(f"shard {i}")
            for r in s["replicas"]:
                if not r["node"] or not r["path"]:
                    raise ValueError(f"shard {i}")
            off += s["size"]
        if off != m["size"] or not m["shards"]:
            raise ValueError("sizes")
    except (KeyError, TypeError, ValueError) as e:
        raise Error(f"{path}: inconsistent manifest ({e})")
    return m


# ---- tasks (run on the workers) ------------------------------------------------

def tool_path(tool, bindir=None):
    """sfr-TOOL in @bindir, else in $SFR_BIN, else in this repository's build."""
    b = bindir or os.environ.get("SFR_BIN") or os.path.join(ROOT, "examples", ".output")
    return os.path.join(b, f"sfr-{tool}")


def out_opt(tool, path):
    return ["-o", path] if tool == "avg" else [f"--output={path}"]


def run_tool(tool, args, what, bindir=None):
    """Run an sfr CLI; its stdout, and stderr lines. A failure raises."""
    p = subprocess.run([tool_path(tool, bindir)] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    ok = (0, 1) if tool == "grep" else (0,)
    err = p.stderr.decode(errors="replace").splitlines()
    if p.returncode not in ok:
        raise RuntimeError(f"{what}: sfr-{tool} exit status {p.returncode}: "
                           + " / ".join(err[-3:]))
    return p.stdout, err


def scan_shard(shard, tool, args, raw, bindir):
    """Task: reduce the local replica of @shard; the blob and what happened."""
    from distributed import get_worker

    me = get_worker().name
    path = next((r["path"] for r in shard["replicas"] if r["node"] == me), None)
    what = f"shard {shard['index']} on {me}"
    if path is None:
        raise RuntimeError(f"{what}: this worker holds no replica")
    try:
        size = os.stat(path).st_size
    except OSError as e:
        raise RuntimeError(f"{what}: {path}: {e.strerror}") from None
    if size != shard["size"]:
        raise RuntimeError(f"{what}: {path} has {size} bytes, the manifest says {shard['size']}")
    t0 = time.monotonic()
    meta = {"index": shard["index"], "worker": me, "size": size,
            "replicas": [r["node"] for r in shard["replicas"]]}
    if raw:
        with open(path, "rb") as f:
            data = f.read()
        meta.update(method="raw", bytes_scanned=len(data),
                    seconds=time.monotonic() - t0, finished=time.time())
        return {"data": data, "shards": [meta]}
    blob, err = run_tool(tool, ["--partial", "--stats"] + out_opt(tool, "-")
                         + args + [path], what, bindir)
    stats = {}
    for line in err:
        k, sep, v = line.partition(": stats: ")
        if sep:
            key, _, val = v.partition(": ")
            stats[key] = val
    meta.update(method=stats.get("method", "?"),
                bytes_scanned=int(stats.get("bytes scanned", "-1").split()[0]),
                copied=int(stats.get("bytes copied to user space", "-1").split()[0]),
                seconds=time.monotonic() - t0, finished=time.time())
    return {"data": blob, "shards": [meta]}


def fold_pair(tool, bindir, a, b):
    """Task: the blob of two adjacent shard ranges, a before b."""
    with tempfile.TemporaryDirectory(prefix="sfr-dask.") as d:
        pa, pb, po = (os.path.join(d, n) for n in ("a", "b", "out"))
        for p, x in ((pa, a), (pb, b)):
            with open(p, "wb") as f:
                f.write(x["data"])
        what = f"fold of shards {a['shards'][0]['index']}..{b['shards'][-1]['index']}"
        run_tool(tool, ["--merge", "--partial"] + out_opt(tool, po) + [pa, pb], what, bindir)
        with open(po, "rb") as f:
            data = f.read()
    return {"data": data, "shards": a["shards"] + b["shards"]}


def worker_sent_bytes(dask_worker):
    return dask_worker.transfer_outgoing_bytes_total


# ---- the driver ----------------------------------------------------------------

def tool_args(a):
    """The CLI options for each shard, and those of the final --merge."""
    if a.tool == "avg":
        args = []
        for opt, val in (("-d", a.delimiter), ("-f", a.field), ("-s", a.scale),
                         ("--decimals", a.decimals), ("-j", a.jobs)):
            if val is not None:
                args += [opt, str(val)]
        if a.no_offload:
            args.append("--no-offload")
        return args, ["--strict"] if a.strict else []
    args = [o for o, on in (("-c", a.count), ("-n", a.line_number),
                            ("-v", a.invert_match), ("--no-offload", a.no_offload)) if on]
    if a.jobs is not None:
        args += ["-j", str(a.jobs)]
    return args + ["-e", a.pattern], []


def preflight(tool, args):
    """Let the local CLI judge the options (a usage error is its message)."""
    p = subprocess.run([tool_path(tool), "--partial", "--no-offload"]
                       + out_opt(tool, "-") + args + ["/dev/null"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1) or (tool == "avg" and p.returncode):
        sys.stderr.write(p.stderr.decode(errors="replace"))
        raise Error(f"sfr-{tool} refused the options")


def live_workers(client):
    return {w["name"]: addr for addr, w in client.scheduler_info()["workers"].items()}


def orphans(m, live):
    return [s for s in m["shards"] if not any(r["node"] in live for r in s["replicas"])]


def describe(s):
    return (f"shard {s['index']} (bytes {s['offset']}..{s['offset'] + s['size']}, "
            f"replicas on {', '.join(r['node'] for r in s['replicas'])})")


def tree(client, tool, bindir, futs):
    """Fold @futs pairwise, in order, as tasks; the future of the whole."""
    level = 0
    while len(futs) > 1:
        nxt = [client.submit(fold_pair, tool, bindir, futs[i], futs[i + 1], pure=False,
                             retries=2, key=f"sfr-fold-{level}-{i}-{os.getpid()}-{time.time_ns()}")
               for i in range(0, len(futs) - 1, 2)]
        if len(futs) % 2:
            nxt.append(futs[-1])
        futs = nxt
        level += 1
    return futs[0]


def stuck_keys(keys, dask_scheduler=None):
    """On the scheduler: those of @keys waiting for a worker none can be."""
    return [k for k in keys
            if k in dask_scheduler.tasks and dask_scheduler.tasks[k].state == "no-worker"]


def sent_bytes(client):
    """Bytes each live worker has sent (Dask's counter), by address."""
    got = client.run(worker_sent_bytes, on_error="return")
    return {w: n for w, n in got.items() if isinstance(n, int)}


def run(a):
    m = load_manifest(a.manifest)
    args, final_args = tool_args(a)
    preflight(a.tool, args)
    rep = open(a.report, "w") if a.report else None
    # Dask takes seconds to import (tens under emulation): after the checks.
    import distributed
    from distributed import Client

    t0 = time.monotonic()
    deadline = t0 + a.timeout
    try:
        client = Client(a.scheduler, timeout=min(a.timeout, 60))
    except OSError as e:
        raise Error(f"cannot reach the scheduler at {a.scheduler}: {e}")
    scans = []
    try:
        # Wait until every shard has a holder connected (or --grace passes).
        since = None
        while True:
            lost = orphans(m, live_workers(client))
            if not lost:
                break
            now = time.monotonic()
            since = since or now
            if now - since >= a.grace or now >= deadline:
                raise Error(f"{describe(lost[0])}: no live worker holds it"
                            + (f" (and {len(lost) - 1} more shard(s))" if len(lost) > 1 else ""))
            time.sleep(0.5)
        sent0 = sent_bytes(client)
        tag = f"{os.getpid()}-{time.time_ns()}"
        keys = {f"sfr-scan-{s['index']}-{tag}": s for s in m["shards"]}
        scans = [client.submit(scan_shard, s, a.tool, args, a.raw, a.bin,
                               workers=[r["node"] for r in s["replicas"]],
                               allow_other_workers=False, retries=a.retries, pure=False,
                               key=k)
                 for k, s in keys.items()]
        final = None if a.raw else tree(client, a.tool, a.bin, scans)
        wanted = list(scans) if a.raw else [final]
        # Progress, and a rerun that no worker can take (all the holders of
        # a shard gone, even one that was done: its result died with them).
        ndone = 0
        since = None
        while True:
            try:
                distributed.wait(wanted, timeout=0.5)
                break
            except TimeoutError:
                pass
            for i, f in enumerate(scans):
                if f is not None and f.done():
                    ndone += 1
                    if a.progress:
                        note(f"shard {i} done ({ndone}/{len(scans)})")
                    # The fold holds what it still needs; a result lost
                    # after that is rerun only if the fold needs it.
                    if not a.raw:
                        scans[i] = None
            stuck = client.run_on_scheduler(stuck_keys, list(keys))
            now = time.monotonic()
            since = (since or now) if stuck else None
            if stuck and now - since >= a.grace:
                raise Error(f"{describe(keys[stuck[0]])}: no live worker holds it")
            if now >= deadline:
                left = [i for i, f in enumerate(scans) if f is not None]
                raise Error(f"timed out after {a.timeout:g} s"
                            + (f": {describe(m['shards'][left[0]])} not done" if left else ""))
        try:
            if a.raw:
                results = client.gather(wanted)
                data = [r["data"] for r in results]
                metas = [r["shards"][0] for r in results]
            else:
                res = final.result()
                data, metas = [res["data"]], res["shards"]
        except RuntimeError as e:  # a task's own error
            raise Error(str(e))
        except Exception as e:  # KilledWorker, ...
            raise Error(f"{type(e).__name__}: {e}")
        sent1 = sent_bytes(client)
        sent = sum(n - sent0[w] for w, n in sent1.items() if w in sent0)
    finally:
        client.cancel([f for f in scans if f is not None])
        client.close()
    wall = time.monotonic() - t0
    check_metas(m, metas)
    status = answer(a, data, final_args)
    if a.stats or rep:
        report(a, rep, m, metas, wall, sent, sum(len(x) for x in data))
    return status


def answer(a, data, final_args):
    """
    Print the answer with the local CLI: --merge of the folded blob, or
    (--raw) the shards' bytes in order on its standard input. Its status.
    """
    with tempfile.TemporaryDirectory(prefix="sfr-dask.") as d:
        p = os.path.join(d, "result.blob")
        if a.raw:
            args, _ = tool_args(a)
            cmd = [tool_path(a.tool), "--no-offload"] + \
                [x for x in args if x != "--no-offload"] + final_args + ["-"]
        else:
            with open(p, "wb") as f:
                f.write(data[0])
            cmd = [tool_path(a.tool), "--merge"] + final_args + [p]
        sys.stdout.flush()
        r = subprocess.Popen(cmd, stdin=subprocess.PIPE if a.raw else subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        if a.raw:
            try:
                for x in data:
                    r.stdin.write(x)
            except BrokenPipeError:
                pass
            r.stdin.close()
        err = r.stderr.read()
        r.wait()
        for line in err.decode(errors="replace").splitlines():
            print(line.replace(p, "the distributed input"), file=sys.stderr)
        return r.returncode


def check_metas(m, metas):
    """Each shard exactly once, in order, from one of its holders."""
    if [x["index"] for x in metas] != list(range(len(m["shards"]))):
        raise Error(f"internal: shard results {[x['index'] for x in metas]}")
    for x, s in zip(metas, m["shards"]):
        if x["worker"] not in (r["node"] for r in s["replicas"]):
            raise Error(f"internal: shard {x['index']} ran on {x['worker']}, not a holder")


def report(a, rep_file, m, metas, wall, sent, result_bytes):
    rep = {"tool": a.tool, "raw": a.raw, "wall_seconds": wall,
           "raw_bytes": m["size"], "result_bytes": result_bytes,
           "dask_transfer_bytes": sent, "shards": metas}
    if a.stats:
        for x in metas:
            note(f"stats: shard {x['index']}: {x['worker']} ({x['method']}), "
                 f"{x['bytes_scanned']} of {x['size']} bytes, {x['seconds']:.3f} s")
        note(f"stats: shards: {len(metas)}, on {len(set(x['worker'] for x in metas))} worker(s)")
        note(f"stats: raw data: {m['size']} bytes; results to the client: "
             f"{result_bytes} bytes; sent by the workers (Dask): {sent} bytes")
        note(f"stats: wall time: {wall:.3f} s")
    if rep_file:
        with rep_file:
            json.dump(rep, rep_file, indent=1)
            rep_file.write("\n")


def parse(argv):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("ingest", help="split a file into shards placed on nodes")
    g.add_argument("-k", "--shards", type=int, default=12, help="how many shards (default 12)")
    g.add_argument("-r", "--replicas", type=int, default=2, help="copies of each shard (default 2)")
    g.add_argument("-n", "--node", action="append", default=[], metavar="NODE=DIR",
                   help="a node (a Dask worker --name) and its data directory; repeatable")
    g.add_argument("--progress", action="store_true", help="a line per shard on stderr")
    g.add_argument("file", metavar="FILE")
    g.add_argument("manifest", metavar="MANIFEST")
    r = sub.add_parser("run", help="run sfr-avg or sfr-grep on every shard and fold")
    r.add_argument("--scheduler", required=True, help="the Dask scheduler (tcp://HOST:PORT)")
    r.add_argument("--manifest", required=True)
    r.add_argument("--timeout", type=float, default=600, help="give up after SECS (default 600)")
    r.add_argument("--grace", type=float, default=30,
                   help="a shard with no live holder for SECS is an error (default 30)")
    r.add_argument("--retries", type=int, default=2, help="reruns of a failed task (default 2)")
    r.add_argument("--raw", action="store_true",
                   help="baseline: ship the shards' bytes to the client and reduce there")
    r.add_argument("--stats", action="store_true", help="per shard and total figures on stderr")
    r.add_argument("--bin", metavar="DIR",
                   help="where sfr-avg and sfr-grep are on the workers (default: their"
                   " $SFR_BIN, else examples/.output of this repository)")
    r.add_argument("--report", metavar="FILE", help="the figures as JSON")
    r.add_argument("--progress", action="store_true", help="a line per finished shard on stderr")
    tools = r.add_subparsers(dest="tool", required=True)
    av = tools.add_parser("avg", help="sfr-avg")
    av.add_argument("-d", "--delimiter")
    av.add_argument("-f", "--field")
    av.add_argument("-s", "--scale")
    av.add_argument("--decimals")
    av.add_argument("--strict", action="store_true")
    gr = tools.add_parser("grep", help="sfr-grep")
    gr.add_argument("-c", "--count", action="store_true")
    gr.add_argument("-n", "--line-number", action="store_true")
    gr.add_argument("-v", "--invert-match", action="store_true")
    gr.add_argument("pattern", metavar="PATTERN")
    for t in (av, gr):
        t.add_argument("-j", "--jobs")
        t.add_argument("--no-offload", action="store_true")
    return p.parse_args(argv)


def main(argv):
    a = parse(argv)
    try:
        return ingest(a) if a.cmd == "ingest" else run(a)
    except Error as e:
        note(str(e))
        return 2
    except OSError as e:
        note(f"{e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
