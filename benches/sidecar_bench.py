#!/usr/bin/env python3
"""The sidecar benchmark: latency, memory and idle CPU of
`truecause --follow`, against a peer run in the same session.

Three phases, each with truecause and the peer side by side on the same
inputs:

1. latency: two followed files and a kmsg-format FIFO. A child's death
   (`child N exited with returncode -9`) is written to one file and the
   kernel's `Killed process N` record to the FIFO; the time from writing
   the second (the line that completes the evidence) to the explanation
   on truecause's stdout is measured. The peer is `tail -F` on the files
   piped into a Python script doing the same match (remember the pids of
   SIGKILLed children; print when the kernel names one), reading its own
   FIFO.
2. load: three followed files and the FIFO at LINES_PER_SEC lines a
   second in all, for LOAD_SECONDS; resident memory (VmRSS, VmHWM) and
   CPU time sampled every half second.
   One line in EVIDENCE_EVERY (10,000) is a SIGKILLed child's death,
   and one in EVIDENCE_EVERY a kernel kill of another pid, so the
   correlator keeps, decides and expires events along the way.
3. idle: nothing written for IDLE_SECONDS; CPU time used.

Memory and CPU of a process tree are summed over the process and its
children (the peer is two processes). CPU time comes from
/proc/PID/task/*/schedstat (nanoseconds) and /proc/PID/stat (clock
ticks). The figures are printed as a Markdown table, with ratios
truecause / peer.

Usage: sidecar_bench.py TRUECAUSE_BINARY [--load-seconds N]
       [--idle-seconds N] [--rounds N] [--rate N] [--evidence-every N]
Only the standard library is used.
"""

import argparse
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PEER_MATCHER = r'''
import re, sys, threading
dead, killed = set(), set()
lock = threading.Lock()
child = re.compile(rb"child (\d+) exited with returncode -9")
kill = re.compile(rb"Killed process (\d+) \(")
def seen(line, out):
    for pattern, mine, other in ((child, dead, killed), (kill, killed, dead)):
        m = pattern.search(line)
        if not m:
            continue
        with lock:
            mine.add(m.group(1))
            hit = m.group(1) in other
        if hit:
            out.write(b"[peer] pid " + m.group(1) + b" was OOM-killed\n")
            out.flush()
def fifo(path, out):
    with open(path, "rb", buffering=0) as f:
        buf = b""
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for l in lines:
                seen(l, out)
out = sys.stdout.buffer
threading.Thread(target=fifo, args=(sys.argv[1], out), daemon=True).start()
for line in sys.stdin.buffer:
    seen(line, out)
'''


def btime():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise SystemExit("no btime in /proc/stat")


BOOT = btime()


def kmsg_record(seq, text):
    usec = int((time.time() - BOOT) * 1e6)
    return f"6,{seq},{usec},-;{text}\n"


def py_stamp():
    t = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ",%03d" % (
        int(t * 1000) % 1000
    )


class Reader:
    """Reads a process's stdout lines on a thread, with arrival times."""

    def __init__(self, stream):
        self.q = queue.Queue()
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream):
        for line in iter(stream.readline, b""):
            self.q.put((time.monotonic(), line))

    def wait(self, needle, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                t, line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if needle in line:
                return t

    def drain(self):
        while True:
            try:
                self.q.get_nowait()
            except queue.Empty:
                return


def tree(pid):
    """pid and its descendants."""
    pids = [pid]
    i = 0
    while i < len(pids):
        p = pids[i]
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    pids += [int(x) for x in f.read().split()]
        except OSError:
            pass
        i += 1
    return pids


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ns(pid):
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except OSError:
        pass
    return total


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


class Measured:
    def __init__(self, name, popen):
        self.name = name
        self.popen = popen

    def pids(self):
        return tree(self.popen.pid)

    def rss_kb(self):
        return sum(status_kb(p, "VmRSS") for p in self.pids())

    def hwm_kb(self):
        return sum(status_kb(p, "VmHWM") for p in self.pids())

    def cpu(self):
        ps = self.pids()
        return sum(cpu_ns(p) for p in ps), sum(cpu_ticks(p) for p in ps)


def mkfifo(path):
    os.mkfifo(path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truecause")
    ap.add_argument("--load-seconds", type=float, default=20)
    ap.add_argument("--idle-seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--evidence-every", type=int, default=10000,
                    help="one line in N is a SIGKILLed child, one in N a "
                    "kernel kill of another pid (0: none)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="truecause-bench-")
    files = [os.path.join(work, f"w{i}.log") for i in range(3)]
    for f in files:
        open(f, "w").close()
    tc_fifo = mkfifo(os.path.join(work, "kmsg-tc"))
    peer_fifo = mkfifo(os.path.join(work, "kmsg-peer"))

    # As a sidecar runs: with a checkpoint and metrics.
    tc = subprocess.Popen(
        [args.truecause, "--follow", "--from", "start", "--tz", "UTC",
         f"--kmsg={tc_fifo}", "--state", os.path.join(work, "state.json"),
         "--metrics", "127.0.0.1:0", *files],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    tail = subprocess.Popen(
        ["tail", "-q", "-F", "-n", "+1", *files],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    peer = subprocess.Popen(
        [sys.executable, "-c", PEER_MATCHER, peer_fifo],
        stdin=tail.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    tail.stdout.close()
    # Each FIFO is opened for writing once the reader has it open.
    fifos = {"tc": open(tc_fifo, "w"), "peer": open(peer_fifo, "w")}
    tc_out, peer_out = Reader(tc.stdout), Reader(peer.stdout)
    time.sleep(1.0)

    seq = 1000
    logs = [open(f, "a", buffering=1) for f in files]

    def kernel(text):
        nonlocal seq
        seq += 1
        rec = kmsg_record(seq, text)
        for f in fifos.values():
            f.write(rec)
            f.flush()

    # Phase 1: latency.
    lat = {"tc": [], "peer": []}
    for r in range(args.rounds):
        pid = 40000 + r
        child = (f"{py_stamp()} ERROR worker[4100]: job {r}: child {pid} "
                 f"exited with returncode -9 after 1.0s\n")
        kill = (f"Memory cgroup out of memory: Killed process {pid} (claude) "
                f"total-vm:1180680kB, anon-rss:189380kB, file-rss:47360kB, "
                f"shmem-rss:0kB, UID:0 pgtables:820kB oom_score_adj:0")
        tc_out.drain()
        peer_out.drain()
        # The clock starts just before the line that completes the
        # evidence is written: the kernel's in even rounds, the worker's
        # in odd ones.
        if r % 2 == 0:
            logs[0].write(child)
            time.sleep(0.05)
            t0 = time.monotonic()
            kernel(kill)
        else:
            kernel(kill)
            time.sleep(0.05)
            t0 = time.monotonic()
            logs[0].write(child)
        for name, out, needle in (
            ("tc", tc_out, f"pid {pid})".encode()),
            ("peer", peer_out, f"pid {pid} was".encode()),
        ):
            t1 = out.wait(needle)
            if t1 is not None:
                lat[name].append((t1 - t0) * 1000)
        time.sleep(0.05)

    procs = {"tc": Measured("truecause", tc), "peer": Measured("tail -F | python", peer)}
    tail_only = Measured("tail -F", tail)

    # Phase 2: load.
    rss = {k: [] for k in procs}
    rss["tail"] = []
    cpu0 = {k: m.cpu() for k, m in procs.items()}
    start = time.monotonic()
    n = 0
    tick = 0.01
    next_sample = start
    while time.monotonic() - start < args.load_seconds:
        due = int((time.monotonic() - start) * args.rate)
        while n < due:
            n += 1
            every = args.evidence_every
            if every and n % every == 0:
                # Evidence too, so the correlator keeps and expires
                # events: a SIGKILLed child, and a kill of another pid.
                logs[n % 3].write(
                    f"{py_stamp()} ERROR worker[4100]: job {n}: child "
                    f"{n} exited with returncode -9 after 1.0s\n")
            elif every and n % every == every // 2:
                kernel(f"Memory cgroup out of memory: Killed process "
                       f"{n} (claude) total-vm:1180680kB, "
                       f"anon-rss:189380kB, file-rss:47360kB, "
                       f"shmem-rss:0kB, UID:0 pgtables:820kB "
                       f"oom_score_adj:0")
            elif n % 10 == 0:
                kernel(f"audit: type=1400 audit({time.time():.3f}:{n}): "
                       f"apparmor=\"ALLOWED\" operation=\"open\" n={n}")
            else:
                logs[n % 3].write(
                    f"{py_stamp()} INFO worker[4100]: task {n} processed "
                    f"in 12 ms (queue=default, retries=0)\n")
        now = time.monotonic()
        if now >= next_sample:
            for k, m in procs.items():
                rss[k].append(m.rss_kb())
            rss["tail"].append(tail_only.rss_kb())
            next_sample += 0.5
        time.sleep(tick)
    load_secs = time.monotonic() - start
    cpu1 = {k: m.cpu() for k, m in procs.items()}
    hwm = {k: m.hwm_kb() for k, m in procs.items()}
    hwm["tail"] = tail_only.hwm_kb()
    time.sleep(1.0)

    # Phase 3: idle.
    idle0 = {k: m.cpu() for k, m in procs.items()}
    idle0["tail"] = tail_only.cpu()
    time.sleep(args.idle_seconds)
    idle1 = {k: m.cpu() for k, m in procs.items()}
    idle1["tail"] = tail_only.cpu()

    for p in (tc, tail, peer):
        p.send_signal(signal.SIGTERM)
    for p in (tc, tail, peer):
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
    for f in list(fifos.values()) + logs:
        try:
            f.close()
        except OSError:
            pass

    def med(xs):
        return statistics.median(xs) if xs else float("nan")

    def pct(xs, q):
        if not xs:
            return float("nan")
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    def ratio(a, b):
        return a / b if b else float("inf")

    print(f"lines written in the load phase: {n} in {load_secs:.1f} s "
          f"({n / load_secs:.0f} lines/s; evidence every "
          f"{args.evidence_every or 'never'})")
    print()
    print("| measure | truecause | peer: tail -F \\| python | ratio |")
    print("| --- | --- | --- | --- |")
    t, p = lat["tc"], lat["peer"]
    print(f"| latency, median (ms); explained {len(t)}/{len(p)} of "
          f"{args.rounds} | "
          f"{med(t):.1f} | {med(p):.1f} | {ratio(med(t), med(p)):.2f} |")
    print(f"| latency, 90th percentile (ms) | {pct(t, 0.9):.1f} | "
          f"{pct(p, 0.9):.1f} | {ratio(pct(t, 0.9), pct(p, 0.9)):.2f} |")
    for label, idx in (("kernel line last", 0), ("worker line last", 1)):
        tt = t[idx::2]
        pp = p[idx::2]
        print(f"| latency, median (ms), {label} | {med(tt):.1f} | "
              f"{med(pp):.1f} | {ratio(med(tt), med(pp)):.2f} |")
    r_tc, r_peer = rss["tc"], rss["peer"]
    print(f"| RSS at start of load (MiB) | {r_tc[0] / 1024:.1f} | "
          f"{r_peer[0] / 1024:.1f} | {ratio(r_tc[0], r_peer[0]):.2f} |")
    print(f"| RSS at end of load (MiB) | {r_tc[-1] / 1024:.1f} | "
          f"{r_peer[-1] / 1024:.1f} | {ratio(r_tc[-1], r_peer[-1]):.2f} |")
    print(f"| RSS max over load (MiB) | {max(r_tc) / 1024:.1f} | "
          f"{max(r_peer) / 1024:.1f} | {ratio(max(r_tc), max(r_peer)):.2f} |")
    print(f"| VmHWM (MiB) | {hwm['tc'] / 1024:.1f} | {hwm['peer'] / 1024:.1f} "
          f"| {ratio(hwm['tc'], hwm['peer']):.2f} |")
    load_cpu = {k: (cpu1[k][0] - cpu0[k][0]) / 1e9 / load_secs * 100
                for k in procs}
    print(f"| CPU under load (% of a core) | {load_cpu['tc']:.2f} | "
          f"{load_cpu['peer']:.2f} | {ratio(load_cpu['tc'], load_cpu['peer']):.2f} |")
    idle_ms = {k: (idle1[k][0] - idle0[k][0]) / 1e6 for k in idle1}
    idle_ticks = {k: idle1[k][1] - idle0[k][1] for k in idle1}
    idle_ratio = (f"{ratio(idle_ms['tc'], idle_ms['peer']):.2f}"
                  if idle_ms["peer"] > 0 else "(peer used none)")
    print(f"| idle CPU over {args.idle_seconds:.0f} s (ms; utime+stime ticks) "
          f"| {idle_ms['tc']:.2f}; {idle_ticks['tc']} | {idle_ms['peer']:.2f}; "
          f"{idle_ticks['peer']} | {idle_ratio} |")
    print()
    print(f"plain `tail -F` alone: RSS max {max(rss['tail']) / 1024:.1f} MiB, "
          f"VmHWM {hwm['tail'] / 1024:.1f} MiB, idle CPU "
          f"{idle_ms['tail']:.2f} ms")
    print("truecause RSS over the load phase (MiB, every 0.5 s): "
          + " ".join(f"{x / 1024:.1f}" for x in r_tc))


if __name__ == "__main__":
    main()
