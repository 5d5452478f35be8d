#!/usr/bin/env bash
# Set up everything dronegis needs on a fresh machine: Debian packages, the venv
# (Python 3.12) and the project with its extras. Idempotent: a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${DRONEGIS_VENV:-$ROOT/.venv}"

need_apt=()
command -v exiftool >/dev/null || need_apt+=(libimage-exiftool-perl)
command -v gdalwarp >/dev/null || need_apt+=(gdal-bin)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs npm)
# QGIS's Python bindings for the client tests (run by the system python3, offscreen): ~100 MB download
dpkg-query -W -f='${Status}' python3-qgis 2>/dev/null | grep -q "ok installed" || need_apt+=(python3-qgis)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}" >&2
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (not root, skipping apt)" >&2
  fi
fi

find_python() {
  for candidate in "python3.12" "$HOME/.pyenv/versions/3.12.1/bin/python3.12"; do
    if PYENV_VERSION=3.12.1 "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  for candidate in $(ls -d "$HOME"/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null); do
    echo "$candidate"; return 0
  done
  echo "setup: Python 3.12 not found" >&2; return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(find_python)"
  echo "setup: creating venv with $PY" >&2
  PYENV_VERSION=3.12.1 "$PY" -m venv "$VENV"
fi

stamp="$VENV/.dronegis-installed"
want="$(cat pyproject.toml constraints.txt requirements-peers.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing dronegis and its extras into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  # opencv-contrib-python-headless replaces opencv-python-headless (both install cv2/): never keep both
  if "$VENV/bin/python" -m pip show -q opencv-python-headless >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip uninstall -y -q opencv-python-headless
  fi
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dji,dask,notebooks,test]"
  "$VENV/bin/python" -m pip install -q -c constraints.txt --no-deps -r requirements-peers.txt
  echo "$want" > "$stamp"
fi

# OpenLayers for the map viewer and Swagger UI for /docs come from npm at install time, into the package.
if [ -f viewer/package.json ] && command -v npm >/dev/null; then
  built=dronegis/api/static/ol/ol.js
  if [ ! -f "$built" ] || [ ! -f dronegis/api/static/swagger-ui/swagger-ui-bundle.js ] \
    || [ viewer/package.json -nt "$built" ] || [ viewer/src/ol-entry.js -nt "$built" ] \
    || [ ! -f viewer/node_modules/axe-core/axe.min.js ]; then
    echo "setup: installing OpenLayers, Swagger UI and axe-core (accessibility tests) from npm" >&2
    (cd viewer && npm install --no-audit --no-fund --silent && npm run --silent build)
  fi
fi
