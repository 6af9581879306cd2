#!/usr/bin/env bash
# A worst case for the correlator: every symptom and every cause inside
# one window. Writes a SYNTHETIC worker log of N child exits by SIGKILL
# (all stamped the same second) and a dmesg of M OOM kills of those
# children (within the same second), then times an annotations-only
# replay and checks that every symptom was explained. Lines are shaped
# like fixtures/subprocess-oom's; the data is made up.
#
#   benches/flood.sh [--symptoms 100000] [--kills 20000] [--runs 3]

set -euo pipefail
symptoms=100000
kills=20000
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
        --symptoms) symptoms=$2; shift 2 ;;
        --kills) kills=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "flood.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/target/bench-data/flood-$symptoms-$kills
mkdir -p "$data"
(cd "$root" && cargo build --release --quiet --bin truecause)
tc=$root/target/release/truecause

python3 - "$data" "$symptoms" "$kills" <<'PY'
import sys
out, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{out}/synthetic-flood-worker.log", "w") as f:
    for i in range(n):
        f.write(f"2026-12-03 10:00:00,500 ERROR worker[{1000 + i % 50}]: "
                f"job {i}: child {20000 + i} exited with returncode -9 "
                f"after 0.9s (0 bytes of output)\n")
with open(f"{out}/synthetic-flood-dmesg.txt", "w") as f:
    for i in range(m):
        f.write(f"[  100.{i:06d}] Memory cgroup out of memory: Killed "
                f"process {20000 + i} (claude) total-vm:1205524kB, "
                f"anon-rss:220396kB, file-rss:37420kB, shmem-rss:0kB, "
                f"UID:0 pgtables:912kB oom_score_adj:0\n")
PY

worker=$data/synthetic-flood-worker.log
kernel=$data/synthetic-flood-dmesg.txt
bytes=$(( $(stat -c %s "$worker") + $(stat -c %s "$kernel") ))
best=
for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$tc" --annotations-only --color never --tz UTC \
        --boot-time 2026-12-03T09:58:20Z "$worker" "$kernel" \
        > "$data/explained.txt"
    t=$(( $(date +%s%N) - t0 ))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
explained=$(grep -c '^\[truecause\] .*root cause' "$data/explained.txt" || true)
awk -v t="$best" -v b="$bytes" -v s="$symptoms" -v k="$kills" -v e="$explained" 'BEGIN {
    printf "flood: %d symptoms, %d kills, %.1f MB: best %.2f s (%.2f MB/s, %.0f symptoms/s), %d explained\n",
        s, k, b / 1e6, t / 1e9, b / (t / 1e9) / 1e6, s / (t / 1e9), e }'
[ "$explained" = "$symptoms" ] || { echo "flood.sh: $explained of $symptoms symptoms explained" >&2; exit 1; }
