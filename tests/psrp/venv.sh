#!/bin/sh
# The PSRP clients tests/psrp.rs drives: psrpcore and pypsrp 1.0.0b1, in a
# virtualenv of their own at $1 (default target/psrp-venv).
set -eu
dir="${1:-target/psrp-venv}"
python3 -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check \
    psrpcore==0.3.1 'pypsrp[ssh]==1.0.0b1'
