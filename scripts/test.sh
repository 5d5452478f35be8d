#!/usr/bin/env bash
# Run the whole test suite on a fresh machine (installs everything first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DRONEGIS_TEST_DATA="${DRONEGIS_TEST_DATA:-$PWD/../shared/data}"
exec .venv/bin/python -m pytest "$@"
