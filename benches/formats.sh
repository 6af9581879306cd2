#!/usr/bin/env bash
# Replay in the modes and formats the main benchmark (run.sh) does not
# time: the worker log rewritten into Python logging's default format,
# every line as JSON, and stamps read in the machine's zone (no --tz);
# and, to show what the every-line merge pays for two sources taking
# turns, each log alone and both with the kernel's lines placed after
# all of the worker's (its boot time moved 10^8 s later).
# Each row is timed against the annotations-only run of the same input
# in the same rounds, since these machines are noisy. See BENCHMARKS.md.
#
#   benches/formats.sh [--size 1250M] [--seed 1] [--runs 3] [--data DIR]
#
# The Python-format log is SYNTHETIC twice over: the generator's Celery
# log with each `[STAMP: LEVEL/PROCESS]` header rewritten to
# `STAMP LEVEL worker[4242]:`. It is written next to the generator's
# files, once. Output goes to /dev/null: these rows are about reading,
# not writing (run.sh times the writing).
set -euo pipefail
export LC_NUMERIC=C
size=1250M
seed=1
runs=3
data=
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        *) echo "formats.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
data=${data:-$root/target/bench-data}
dir=$data/seed$seed-$size
log() { echo "== $*" >&2; }

log "building truecause and the generator (release)"
(cd "$root" && cargo build --release --quiet --bin truecause \
    && cargo build --release --quiet --example generate)
tc=$root/target/release/truecause
if [ ! -s "$dir/synthetic-worker.log" ]; then
    log "generating $size of synthetic logs (seed $seed) in $dir"
    "$root/target/release/examples/generate" --seed "$seed" --size "$size" \
        --out "$dir"
fi
worker=$dir/synthetic-worker.log
kernel=$dir/synthetic-dmesg.txt
python=$dir/synthetic-python-worker.log
if [ ! -s "$python" ] || [ "$python" -ot "$worker" ]; then
    log "rewriting the worker log into Python logging's format"
    sed -E 's/^\[([0-9-]+ [0-9:]+,[0-9]{3}): ([A-Z]+)\/[^]]+\] /\1 \2 worker[4242]: /' \
        "$worker" > "$python"
fi
read -r -a args < "$dir/synthetic-args.txt"
boot=("${args[0]}" "${args[1]}")
late=("${args[0]}" "$((args[1] + 100000000))" "${args[@]:2}")

# name|command words, run with output to /dev/null. The first of each
# pair is the annotations-only baseline of the second.
rows=(
    "celery, annotations only|--annotations-only ${args[*]} $worker $kernel"
    "celery, every line|${args[*]} $worker $kernel"
    "celery no --tz, annotations only|--annotations-only ${boot[*]} $worker $kernel"
    "celery no --tz, every line|${boot[*]} $worker $kernel"
    "python, annotations only|--annotations-only ${args[*]} $python"
    "python, every line|${args[*]} $python"
    "python no --tz, annotations only|--annotations-only $python"
    "python no --tz, every line|$python"
    "celery, annotations only as JSON|--format json --annotations-only ${args[*]} $worker $kernel"
    "celery, every line as JSON|--format json ${args[*]} $worker $kernel"
    "worker log alone, annotations only|--annotations-only ${args[*]} $worker"
    "worker log alone, every line|${args[*]} $worker"
    "kernel log alone, annotations only|--annotations-only ${args[*]} $kernel"
    "kernel log alone, every line|${args[*]} $kernel"
    "kernel lines after the worker's, annotations only|--annotations-only ${late[*]} $worker $kernel"
    "kernel lines after the worker's, every line|${late[*]} $worker $kernel"
)
cat "$worker" "$kernel" "$python" > /dev/null
declare -A all best
for round in $(seq "$runs"); do
    log "round $round of $runs"
    for row in "${rows[@]}"; do
        name=${row%%|*}
        read -r -a words <<< "${row#*|}"
        t0=$EPOCHREALTIME
        "$tc" --color never "${words[@]}" > /dev/null
        t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
        all[$name]="${all[$name]:-} $t"
        if [ -z "${best[$name]:-}" ] \
            || awk "BEGIN{exit !($t < ${best[$name]})}"; then
            best[$name]=$t
        fi
    done
done

echo "Input: seed $seed, $size; best of $runs rounds, output to /dev/null."
echo
echo "| replay | seconds | every line / annotations only | all rounds |"
echo "| --- | --- | --- | --- |"
base=
for row in "${rows[@]}"; do
    name=${row%%|*}
    if [ -z "$base" ]; then
        ratio="-"
        base=${best[$name]}
    else
        ratio=$(awk -v a="${best[$name]}" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
        base=
    fi
    echo "| $name | ${best[$name]} | $ratio |${all[$name]} |"
done
