#!/usr/bin/env bash
# Runs one fuzz target for the given number of seconds (default 600):
#   fuzz/run.sh [TARGET] [SECONDS]      TARGET: parse_eval (default) or remote_input
# parse_eval parses and runs scripts; its corpus is seeded from the case
# suite. remote_input feeds the remote inputs (subsystem request lines,
# shell input); its corpus is seeded with requests and the case scripts.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets the stable
# toolchain provide them.
set -euo pipefail
cd "$(dirname "$0")/.."
target=parse_eval
if [[ $# -gt 0 && ! "$1" =~ ^[0-9]+$ ]]; then
    target="$1"
    shift
fi
seconds="${1:-600}"
case "$target" in
    parse_eval | remote_input) ;;
    *)
        echo "fuzz/run.sh: unknown target '$target' (parse_eval, remote_input)" >&2
        exit 64
        ;;
esac
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus="fuzz/corpus/$target"
mkdir -p "$corpus"
TARGET="$target" CORPUS="$corpus" python3 - <<'PY'
import glob, hashlib, json, os, tomllib
corpus, target = os.environ['CORPUS'], os.environ['TARGET']
def seed(data):
    open(os.path.join(corpus, hashlib.sha1(data).hexdigest()[:16]), 'wb').write(data)
scripts = [c['script'] for f in glob.glob('tests/cases/*.toml')
           for c in tomllib.load(open(f, 'rb')).get('case', [])]
for s in scripts:
    seed(s.encode())
if target == 'remote_input':
    for i, s in enumerate(scripts[:200]):
        seed((json.dumps({'id': i, 'op': 'invoke', 'script': s}) + '\n').encode())
    for req in [
        {'id': 1, 'op': 'invoke', 'script': '1', 'args': ['a'], 'output': 'text', 'width': 80},
        {'id': 2, 'op': 'complete', 'line': 'Get-CsA', 'cursor': 7},
        {'op': 'cancel', 'id': 1},
    ]:
        seed((json.dumps(req) + '\n').encode())
    seed(b"ab\x7f\x1b[A\x1b[B\x03\r\nif ($x) {\r'a'\r}\r\x04")
PY
# -detect_leaks=0: a value that holds itself (`$h.self = $h`) is a
# reference cycle that lives until its session ends; remote sessions run in
# their own processes, so the server reclaims it then (tests/remote.rs
# values_that_hold_themselves_are_freed_with_their_session). Such a cycle is
# expected here, not a finding. libFuzzer's flag covers the runs; the
# sanitizer's own check at process exit needs ASAN_OPTIONS as well, or it
# reports those cycles and leaves an empty-input crash file behind.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- \
    -detect_leaks=0 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1
