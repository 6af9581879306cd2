#!/usr/bin/env bash
# Compares two truecause binaries on the rule library's workload, and
# prints CPU seconds (best of N runs) and peak RSS for each:
#
#   quiet  200 MB of fixture lines that are no events (INFO lines,
#          tracebacks, the kernel report's context lines), shuffled;
#   dense  the fixture runs (sdk-oom, subprocess-oom, celery-oom,
#          gunicorn-timeout-oom, kill9, sdk-oom-timeout) one after another,
#          100 s of log time apart, as two sources (worker log, dmesg):
#          about 10,000 incidents in 60 MB.
#
# Usage: benches/rules-replay.sh BASE_BINARY NEW_BINARY [RUNS]
# Report ratios (NEW/BASE) from one session: absolute times depend on the
# machine and on what else runs on it.
set -euo pipefail
base="$1"; new="$2"; runs="${3:-5}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fixtures="$here/../fixtures"
work="${TRUECAUSE_BENCH_DIR:-$(mktemp -d)}"

python3 - "$fixtures" "$work" <<'PY'
import datetime as dt, glob, os, random, re, sys
fixtures, work = sys.argv[1], sys.argv[2]
os.chdir(fixtures)
random.seed(7)
events = ("Killed", "exit code", "returncode -9", "SIGKILL", "timeout",
          "TIMEOUT", "WorkerLost", "invoked", "memory: usage", "oom-kill",
          "] [  ")
quiet = [l for f in glob.glob("*/worker.log") + glob.glob("*/gunicorn.log")
         + glob.glob("*/dmesg.txt")
         for l in open(f, encoding="utf-8", errors="replace")
         if not any(e in l for e in events)]
with open(f"{work}/quiet.log", "w") as out:
    size = 0
    while size < 200_000_000:
        l = random.choice(quiet); out.write(l); size += len(l)

runs = ["sdk-oom", "subprocess-oom", "celery-oom", "gunicorn-timeout-oom",
        "kill9", "sdk-oom-timeout"]
stamps = [(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(,\d{3})", "{t}{rest}"),
          (r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(,\d{3}:)", "[{t}{rest}"),
          (r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)( \+0000\])", "[{t}{rest}")]
def shift(line, s):
    for rx, fmt in stamps:
        m = re.match(rx, line)
        if m:
            t = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
            t = (t + dt.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")
            return fmt.format(t=t, rest=m.group(2)) + line[m.end():]
    m = re.match(r"^\[\s*(\d+)\.(\d+)\]", line)
    if m:
        return "[%5d.%s]" % (int(m.group(1)) + s, m.group(2)) + line[m.end():]
    return line
def first(lines):
    for l in lines:
        m = re.match(r"^\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", l)
        if m:
            return dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
data = {}
for r in runs:
    log = f"{r}/gunicorn.log" if r.startswith("gunicorn") else f"{r}/worker.log"
    w = open(log).read().splitlines(True)
    data[r] = (w, open(f"{r}/dmesg.txt").read().splitlines(True), first(w))
t0 = dt.datetime(2026, 12, 3, 14, 0, 0)
with open(f"{work}/dense-worker.log", "w") as W, open(f"{work}/dense-dmesg.txt", "w") as D:
    k = size = 0
    while size < 60_000_000:
        w, d, b = data[runs[k % len(runs)]]
        s = int((t0 + dt.timedelta(seconds=100 * k) - b).total_seconds())
        for l in w: l = shift(l, s); W.write(l); size += len(l)
        for l in d: l = shift(l, s); D.write(l); size += len(l)
        k += 1
PY

measure() {
  local label="$1"; shift
  local best="" rss=0
  for _ in $(seq "$runs"); do
    local line
    line="$( { /usr/bin/time -f "%U %S %M" "$@" >/dev/null; } 2>&1 | tail -1)"
    local cpu kb
    cpu="$(echo "$line" | awk '{print $1 + $2}')"
    kb="$(echo "$line" | awk '{print $3}')"
    if [[ -z "$best" ]] || awk -v a="$cpu" -v b="$best" 'BEGIN{exit !(a<b)}'; then best="$cpu"; fi
    (( kb > rss )) && rss="$kb"
  done
  echo "$label cpu_best=${best}s peak_rss=${rss}kB"
}
args=(--tz UTC --boot-time 1796303308 --log-level error)
for bin in "$base" "$new"; do
  measure "quiet $bin" "$bin" "${args[@]}" "$work/quiet.log"
  measure "dense $bin" "$bin" "${args[@]}" "$work/dense-worker.log" "$work/dense-dmesg.txt"
done
