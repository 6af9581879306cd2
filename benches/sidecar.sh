#!/usr/bin/env bash
# The sidecar benchmark (issue 4): latency of an explanation, resident
# memory under 2,000 lines/s, and idle CPU of `truecause --follow`, each
# against `tail -F` piped into a Python matcher run in the same session.
# See benches/sidecar_bench.py for what is measured and how, and
# benches/README-sidecar.md for the figures.
#
# Usage: benches/sidecar.sh [--load-seconds N] [--idle-seconds N]
#                           [--rounds N] [--rate N] [--evidence-every N]
# Builds the release binary first. Needs python3 and GNU tail.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
exec python3 "$here/sidecar_bench.py" "$root/target/release/truecause" "$@"
