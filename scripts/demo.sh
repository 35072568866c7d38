#!/usr/bin/env bash
# Run the action end to end against the local Amplify simulator (see scripts/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q --no-deps --require-hashes -r requirements.txt
    .venv/bin/pip install -q -r requirements-dev.txt
fi
exec .venv/bin/python scripts/demo.py "$@"
