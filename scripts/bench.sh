#!/usr/bin/env bash
# Benchmarks side by side with their peer tools, on a fresh clone or here:
#
#   bash scripts/bench.sh [NAME...]            # all benchmarks when no name is given
#   bash scripts/bench.sh thermal -- --flir-frames 100   # arguments for one benchmark
#   bash scripts/bench.sh --list               # names, scripts, peers
#
# Sets every peer up first (idempotent): the project venv (scripts/setup.sh: exiftool,
# gdal-bin with gdal2tiles, flirimageextractor, orthority, exactextract, dji-thermal-cli),
# the Debian MapServer 8 (cgi-mapserver, mapserver-bin) with lighttpd as its FastCGI
# front, wrk (the HTTP load generator of the tile benchmark), and TiTiler in its own venv
# (benchmarks/_work/peers/titiler, git-ignored).
# Then benchmarks/run.py checks the peers (a missing one is an error, exit 3), runs the
# benchmarks, writes benchmarks/results/*.json and regenerates benchmarks/RESULTS.md.
# Every server a benchmark starts is stopped by its PID, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${DRONEGIS_VENV:-$ROOT/.venv}"

if [ "${1:-}" = "--list" ]; then
  exec "$VENV/bin/python" benchmarks/run.py --list
fi

bash scripts/setup.sh

need_apt=()
command -v exiftool >/dev/null || need_apt+=(libimage-exiftool-perl)
command -v gdal2tiles.py >/dev/null || need_apt+=(gdal-bin)
command -v mapserv >/dev/null || need_apt+=(cgi-mapserver mapserver-bin)
command -v lighttpd >/dev/null || need_apt+=(lighttpd)
command -v wrk >/dev/null || need_apt+=(wrk)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: ERROR: missing Debian packages ${need_apt[*]}; install them (as root) and run again" >&2
    exit 3
  fi
  echo "bench: apt-get install ${need_apt[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${need_apt[@]}" >/dev/null
fi

# TiTiler in its own venv, from the same Python and the project's pinned versions.
TITILER="$ROOT/benchmarks/_work/peers/titiler"
stamp="$TITILER/.installed"
want="$(cat benchmarks/requirements-titiler.txt constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bench: installing TiTiler into $TITILER" >&2
  base="$("$VENV/bin/python" -c 'import sys; print(sys._base_executable)')"
  rm -rf "$TITILER"
  "$base" -m venv "$TITILER"
  "$TITILER/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$TITILER/bin/python" -m pip install -q -c constraints.txt -r benchmarks/requirements-titiler.txt
  echo "$want" > "$stamp"
fi

# The harness runs in its own process group; Ctrl-C or a kill of this script reaches it,
# and it stops its benchmark and every server that benchmark started.
set -m
"$VENV/bin/python" benchmarks/run.py "$@" &
harness=$!
trap 'kill -TERM -- "-$harness" 2>/dev/null || true; wait "$harness" || true; exit 130' INT TERM HUP
trap 'kill -TERM -- "-$harness" 2>/dev/null || true' EXIT
set +e
wait "$harness"
status=$?
trap - EXIT
exit "$status"
