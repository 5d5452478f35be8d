#!/usr/bin/env bash
# Run the demo end to end on the embedded sample flight (installs everything first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/dronegis demo "$@"
