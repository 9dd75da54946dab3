#!/usr/bin/env bash
# Fuzzes the parser and evaluator: seeds the corpus from the case suite,
# then runs libFuzzer for the given number of seconds (default 600).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets the stable
# toolchain provide them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p fuzz/corpus/parse_eval
python3 - <<'PY'
import glob, hashlib, os, tomllib
for f in glob.glob('tests/cases/*.toml'):
    for c in tomllib.load(open(f, 'rb')).get('case', []):
        s = c['script'].encode()
        open(os.path.join('fuzz/corpus/parse_eval', hashlib.sha1(s).hexdigest()[:16]), 'wb').write(s)
PY
RUSTC_BOOTSTRAP=1 cargo fuzz run parse_eval fuzz/corpus/parse_eval -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1
