#!/usr/bin/env bash
# The benchmark: truecause, ripgrep and GNU grep over the same synthetic
# input in one run, with throughput, peak memory, the ratios the targets
# are stated in, and a check of truecause's explanations against the
# generator's ground truth. See BENCHMARKS.md for what it measures and
# the figures of a run.
#
#   benches/run.sh [--size 1250M] [--seed 1] [--runs 3] [--data DIR]
#                  [--pass-dir DIR] [--rss-sizes "100M 1G 4G"]
#                  [--no-install]
#
# --pass-dir is where the every-line output is written (default: the
# data folder). It is written over a file of the same size, in place
# (the shell's 1<>), and `cat` writes the input the same way as the
# floor: a new file would have the kernel allocate and clear 1.25 GB of
# page cache each time, which on these VMs costs 1 to 2 s for cat as for
# truecause and varies with the host, hiding what truecause does.
#
# It installs what it needs (ripgrep and GNU time, from Debian's
# packages) unless --no-install is given, and says what is missing if it
# cannot. Every timed command runs --runs times over files already in
# the page cache, in rounds (every command once per round); the best
# wall time is kept (the others are printed).
# Exits 1 when the explanations do not match the ground truth.

set -euo pipefail
# $EPOCHREALTIME and awk's numbers with a decimal point, whatever the locale.
export LC_NUMERIC=C

size=1250M
seed=1
runs=3
data=
rss_sizes="100M 1G 4G"
install=1
pass_dir=
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --rss-sizes) rss_sizes=$2; shift 2 ;;
        --pass-dir) pass_dir=$2; shift 2 ;;
        --no-install) install=0; shift ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
data=${data:-$root/target/bench-data}
pass_dir=${pass_dir:-$data}
mkdir -p "$data" "$pass_dir"
log() { echo "== $*" >&2; }

# --- Tools ---------------------------------------------------------------

need() {
    local bin=$1 pkg=$2
    if command -v "$bin" >/dev/null 2>&1; then return; fi
    if [ "$install" = 1 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $pkg"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq "$pkg") >/dev/null 2>&1 || true
    fi
    if ! command -v "$bin" >/dev/null 2>&1; then
        echo "run.sh: $bin is missing: install the $pkg package" \
             "(or 'cargo install ripgrep' for rg), then run again" >&2
        exit 2
    fi
}
need rg ripgrep
need grep grep
need python3 python3
if [ ! -x /usr/bin/time ]; then need time time; fi
gtime=/usr/bin/time
[ -x "$gtime" ] || { echo "run.sh: GNU time is missing at /usr/bin/time" >&2; exit 2; }

log "building truecause and the generator (release)"
(cd "$root" && cargo build --release --quiet --bin truecause \
    --example generate)
tc=$root/target/release/truecause
gen=$root/target/release/examples/generate

# --- Inputs --------------------------------------------------------------

# Generate once per seed and size; the files are deterministic.
inputs() {
    local sz=$1 dir=$data/seed$seed-$1
    if [ ! -s "$dir/synthetic-truth.tsv" ]; then
        log "generating $sz of synthetic logs (seed $seed) in $dir"
        "$gen" --seed "$seed" --size "$sz" --out "$dir" >&2
    fi
    echo "$dir"
}
dir=$(inputs "$size")
worker=$dir/synthetic-worker.log
kernel=$dir/synthetic-dmesg.txt
read -r -a replay_args < "$dir/synthetic-args.txt"
bytes=$(( $(stat -c %s "$worker") + $(stat -c %s "$kernel") ))
lines=$(cat "$worker" "$kernel" | wc -l)

# The shipped rules' patterns, for rg (Rust syntax, named groups
# dropped: rg refuses a name used twice) and for grep -E (POSIX ERE; the
# report says whether grep's counts are rg's).
python3 - "$root/rules" "$dir" <<'EOF'
import glob, re, sys, tomllib
rules, out = sys.argv[1], sys.argv[2]
rx = []
for f in sorted(glob.glob(rules + "/*.toml")):
    with open(f, "rb") as fh:
        rx += [p["regex"] for p in tomllib.load(fh).get("pattern", [])]
plain = [re.sub(r"\(\?P<\w+>", "(", r) for r in rx]
# Escapes of characters that are not regex syntax (\' in a literal TOML
# string) are accepted by the regex crate since regex-syntax 0.7, but not
# by older ripgreps (Debian's 13), and GNU grep reads \' as an anchor.
meta = set("\\.+*?()|[]{}^$#&-~")
plain = [re.sub(r"\\([^\w\s])",
                lambda m: m.group(0) if m.group(1) in meta else m.group(1), r)
         for r in plain]
# grep -E reads POSIX ERE: Perl classes are spelt out (inside a bracket
# too, where `\[` is not an escape and `]` must come first), groups lose
# their `?:` and names, `(?i:...)` spells each letter in both cases, and
# lazy repeats turn greedy (a line matches either way). A construct with
# no ERE spelling stops the script.
def posix(r):
    out, i, n = [], 0, len(r)
    fold = [False]  # case-insensitive, per open group
    classes = {"d": "0-9", "s": "[:space:]", "w": "[:alnum:]_"}
    def letter(c):
        return f"[{c.lower()}{c.upper()}]" if fold[-1] and c.isalpha() else c
    while i < n:
        c = r[i]
        if c == "\\":
            e = r[i + 1]
            i += 2
            if e in classes:
                out.append(f"[{classes[e]}]")
            elif e.lower() in classes:
                out.append(f"[^{classes[e.lower()]}]")
            elif e == "b" or not e.isalnum() and e in "\\.+*?()|[]{}^$":
                out.append("\\" + e)
            elif e.isalnum():
                raise ValueError(f"no ERE for \\{e} in {r}")
            else:
                out.append(letter(e))
        elif c == "[":
            # A bracket: its items, with `]` put first and `-` last, where
            # POSIX reads them as themselves.
            i += 1
            negate = r[i] == "^"
            i += negate
            items, close, dash = [], False, False
            first = True
            while first or r[i] != "]":
                first = False
                if r[i] == "\\":
                    e = r[i + 1]
                    i += 2
                    if e in classes:
                        items.append(classes[e])
                    elif e == "]":
                        close = True
                    elif e == "-":
                        dash = True
                    elif e.isalnum():
                        raise ValueError(f"no ERE for \\{e} in [...] in {r}")
                    else:
                        items.append(e)
                elif r[i] == "]":
                    close = True
                    i += 1
                elif fold[-1] and r[i] == "-" and r[i + 1] != "]":
                    # Both cases of a range's ends would make other ranges.
                    raise ValueError(f"no ERE for a range under (?i: in {r}")
                else:
                    if fold[-1] and r[i].isalpha():
                        items.append(r[i].lower() + r[i].upper())
                    else:
                        items.append(r[i])
                    i += 1
            i += 1
            body = ("]" if close else "") + "".join(items) + ("-" if dash else "")
            out.append("[" + ("^" if negate else "") + body + "]")
        elif r.startswith("(?", i):
            j = i + 2
            if r.startswith("P<", j):
                j = r.index(">", j) + 1
                fold.append(fold[-1])
            elif r.startswith(":", j):
                j += 1
                fold.append(fold[-1])
            elif r.startswith("i:", j):
                j += 2
                fold.append(True)
            else:
                raise ValueError(f"no ERE for {r[i:i+4]} in {r}")
            out.append("(")
            i = j
        elif c == "(":
            fold.append(fold[-1])
            out.append("(")
            i += 1
        elif c == ")":
            fold.pop()
            out.append(")")
            i += 1
        elif c in "*+?" and i + 1 < n and r[i + 1] == "?":
            # A lazy repeat matches the same lines.
            out.append(c)
            i += 2
        else:
            out.append(letter(c))
            i += 1
    return "".join(out)

posix = [posix(r) for r in plain]
open(out + "/patterns.rg", "w").write("\n".join(plain) + "\n")
open(out + "/patterns.grep", "w").write("\n".join(posix) + "\n")
print(len(rx), "patterns", file=sys.stderr)
EOF

# --- Measuring -----------------------------------------------------------

# The commands, by name. They are timed in rounds, each command once per
# round, rather than each --runs times in a row: these machines speed up
# and slow down by a fifth over minutes, and a ratio between two
# commands measured minutes apart would carry that.
names=(cat rg grep explained passthrough catfile nullpass)
declare -A best rss all
# time_once NAME: run the command NAME once under GNU time, and keep its
# best wall time and that run's peak RSS.
time_once() {
    local name=$1 t0 t
    local gt=("$gtime" -f "%M" -o "$data/time.txt")
    t0=$EPOCHREALTIME
    case "$name" in
        cat) "${gt[@]}" cat "$worker" "$kernel" > /dev/null ;;
        rg) "${gt[@]}" rg -j1 --no-mmap -c -f "$dir/patterns.rg" \
                "$worker" "$kernel" > "$data/rg.out" ;;
        grep) "${gt[@]}" env LC_ALL=C grep -E -c -f "$dir/patterns.grep" \
                "$worker" "$kernel" > "$data/grep.out" ;;
        explained) "${gt[@]}" "$tc" --annotations-only --color never \
                "${replay_args[@]}" "$worker" "$kernel" \
                > "$data/explained.txt" ;;
        # Written over the file made before the first round, in place
        # (1<>): see --pass-dir above.
        passthrough) "${gt[@]}" "$tc" --color never "${replay_args[@]}" \
                "$worker" "$kernel" 1<> "$pass_dir/passthrough.txt" ;;
        # Every line again, thrown away: the merge without the writing.
        nullpass) "${gt[@]}" "$tc" --color never "${replay_args[@]}" \
                "$worker" "$kernel" > /dev/null ;;
        catfile) "${gt[@]}" cat "$worker" "$kernel" \
                1<> "$pass_dir/cat.txt" ;;
    esac
    t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
    all[$name]="${all[$name]:-} $t"
    if [ -z "${best[$name]:-}" ] \
        || awk "BEGIN{exit !($t < ${best[$name]})}"; then
        best[$name]=$t
        rss[$name]=$(cat "$data/time.txt")
    fi
}

row() {
    # row NAME SECONDS RSS_KB CORRELATES
    awk -v n="$1" -v s="$2" -v r="$3" -v c="$4" -v b="$bytes" -v l="$lines" \
        -v rg="$rg_s" 'BEGIN {
        printf "| %s | %.3f | %.0f | %.2f | %.1f | %.2f | %s |\n",
            n, s, b / s / 1e6, l / s / 1e6, r / 1024, rg / s, c }'
}

log "warming the page cache, and making the files written in place"
cat "$worker" "$kernel" > /dev/null
"$tc" --color never "${replay_args[@]}" "$worker" "$kernel" \
    > "$pass_dir/passthrough.txt"
cat "$worker" "$kernel" > "$pass_dir/cat.txt"
for round in $(seq "$runs"); do
    log "round $round of $runs"
    for name in "${names[@]}"; do
        time_once "$name"
    done
done
for name in "${names[@]}"; do
    log "$name:${all[$name]} s (best ${best[$name]} s, peak RSS ${rss[$name]} KB)"
done
cat_s=${best[cat]}; cat_rss=${rss[cat]}
rg_s=${best[rg]}; rg_rss=${rss[rg]}
grep_s=${best[grep]}; grep_rss=${rss[grep]}
expl_s=${best[explained]}; expl_rss=${rss[explained]}
text_s=${best[passthrough]}; text_rss=${rss[passthrough]}
catfile_s=${best[catfile]}; catfile_rss=${rss[catfile]}
null_s=${best[nullpass]}; null_rss=${rss[nullpass]}
# The two runs of the bound are timed in the same round, a second apart:
# their ratio round by round is steadier than the ratio of two bests,
# which these machines may give minutes apart.
paired=$(paste <(tr ' ' '\n' <<< "${all[passthrough]}" | sed '/^$/d') \
               <(tr ' ' '\n' <<< "${all[explained]}" | sed '/^$/d') |
    awk '{ printf "%.3f\n", $1 / $2 }' | sort -n |
    awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f (rounds:", m; for (i = 1; i <= NR; i++) printf " %.2f", v[i]; printf ")" }')

# Startup: an empty input, 50 times, each timed from fork to exit with
# bash's own clock ($EPOCHREALTIME, which forks nothing: a `date` call
# inside the interval would add its own fork and exec, 2 ms or more
# here); the fastest and the median.
: > "$data/empty.log"
for _ in $(seq 50); do
    t0=$EPOCHREALTIME
    "$tc" --tz UTC "$data/empty.log" > /dev/null
    t1=$EPOCHREALTIME
    echo "$t0 $t1"
done | awk '{ printf "%d\n", ($2 - $1) * 1e9 }' | sort -n > "$data/startup.txt"
startup_ms=$(awk '{ v[NR] = $1 } END {
    printf "%.2f (median %.2f)", v[1] / 1e6, v[int((NR + 1) / 2)] / 1e6 }' \
    "$data/startup.txt")

# --- Ground truth --------------------------------------------------------

# Each explanation's head line names the symptom (`file:line: root
# cause: ... [confidence, kind]`); the truth lists file, line and kind.
sed -n 's/^\[truecause\] \([^ ]*\):\([0-9]*\): root cause: .*, \([a-z_]*\)\]$/\1\t\2\t\3/p' \
    "$data/explained.txt" | sed 's|^.*/||' | sort > "$data/found.tsv"
sort "$dir/synthetic-truth.tsv" > "$data/truth.tsv"
truth_n=$(wc -l < "$data/truth.tsv")
missing=$(comm -23 "$data/truth.tsv" "$data/found.tsv" | wc -l)
extra=$(comm -13 "$data/truth.tsv" "$data/found.tsv" | wc -l)

# grep's patterns are a translation: say whether they counted what rg's
# counted (rg leaves out a file with no matching line, grep says 0).
counts() { grep -v ':0$' "$1" | sort; }
if [ "$(counts "$data/rg.out")" = "$(counts "$data/grep.out")" ]; then
    grep_counts="the same as rg's"
else
    grep_counts="NOT rg's: $(tr '\n' ' ' < "$data/grep.out")"
fi

# The pass-through holds every input line: strip the marker lines.
pass_lines=$(grep -vc '^\[truecause\]' "$pass_dir/passthrough.txt")
rm -f "$pass_dir/passthrough.txt" "$pass_dir/cat.txt"

# --- Peak memory at several sizes ----------------------------------------

rss_rows=()
for sz in $rss_sizes; do
    d=$(inputs "$sz")
    read -r -a a < "$d/synthetic-args.txt"
    cat "$d"/synthetic-worker.log "$d"/synthetic-dmesg.txt > /dev/null
    $gtime -f "%M" -o "$data/time.txt" "$tc" --annotations-only \
        --color never "${a[@]}" "$d/synthetic-worker.log" \
        "$d/synthetic-dmesg.txt" > /dev/null
    e=$(cat "$data/time.txt")
    $gtime -f "%M" -o "$data/time.txt" "$tc" --color never "${a[@]}" \
        "$d/synthetic-worker.log" "$d/synthetic-dmesg.txt" > /dev/null
    p=$(cat "$data/time.txt")
    rss_rows+=("| $sz | $(awk -v k="$e" 'BEGIN{printf "%.1f", k/1024}') | $(awk -v k="$p" 'BEGIN{printf "%.1f", k/1024}') |")
done

# --- Report ----------------------------------------------------------------

{
    echo "Input: seed $seed, $size: $bytes bytes, $lines lines" \
         "($(wc -l < "$worker") worker, $(wc -l < "$kernel") kernel);" \
         "best of $runs runs, page cache warm."
    echo "Machine: $(nproc) cores, $(awk '/model name/{sub(/.*: /,"");print;exit}' /proc/cpuinfo)," \
         "$(free -g | awk '/Mem:/{print $2}') GB; $(uname -sr)."
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| tool | seconds | MB/s | M lines/s | peak RSS MB | speed vs rg | correlates |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    row "cat > /dev/null" "$cat_s" "$cat_rss" no
    row "rg -j1 --no-mmap -c -f (shipped patterns)" "$rg_s" "$rg_rss" no
    row "LC_ALL=C grep -E -c -f (same patterns)" "$grep_s" "$grep_rss" no
    row "truecause --annotations-only" "$expl_s" "$expl_rss" yes
    row "cat, every byte over a file in $pass_dir" "$catfile_s" "$catfile_rss" no
    row "truecause, every line over a file in $pass_dir" "$text_s" "$text_rss" yes
    row "truecause, every line to /dev/null" "$null_s" "$null_rss" yes
    echo
    awk -v e="$expl_s" -v t="$text_s" -v r="$rg_s" -v s="$startup_ms" \
        -v p="$paired" 'BEGIN {
        printf "- explanations only vs rg -j1: %.2fx the throughput (target >= 2)\n", r / e
        printf "- every line vs explanations only: %.2fx the time (target <= 1.5)\n", t / e
        printf "  round by round: median %s\n", p
        printf "- startup, empty input, embedded rules: %s ms, fastest of 50 (target < 10)\n", s }'
    echo "- grep -E's line counts: $grep_counts"
    echo "- explanations vs ground truth: $truth_n expected, $missing missing, $extra extra"
    echo "- pass-through: $pass_lines of $lines input lines"
    echo
    echo "| input | peak RSS MB, explanations only | peak RSS MB, every line |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${rss_rows[@]}"
} | tee "$data/report.md"

if [ "$missing" != 0 ] || [ "$extra" != 0 ] || [ "$pass_lines" != "$lines" ]; then
    echo "run.sh: explanations or pass-through do not match" >&2
    exit 1
fi
