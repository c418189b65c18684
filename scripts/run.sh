#!/usr/bin/env bash
# Install Hyper Registry into .venv and start the server on SQLite (./data) with the
# demo organisation loaded. Prints the URL and, on the first start, the admin token.
# Idempotent: run it again and it starts on the same data (the demo stays unchanged).
#
#   HOST=0.0.0.0 PORT=9000 scripts/run.sh      # listen elsewhere
#   HYPER_REGISTRY_DATA_DIR=/srv/hr scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
python -m pip install --quiet --disable-pip-version-check -e ".[all]"

# The web UI: built when npm is here (once; again when its sources change). Without npm
# the server still serves the API, and "/" says how to build the UI.
if command -v npm >/dev/null 2>&1; then
  if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package.json web/package-lock.json web/vite.config.ts -newer web/dist/index.html 2>/dev/null | head -1)" ]; then
    echo "building the web UI (npm ci && npm run build in web/) ..."
    (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent) \
      || echo "warning: the web UI did not build; the API still works (see docs/web.md)" >&2
  fi
else
  echo "note: npm is not installed, so the web UI is not built; the API works. To build it:" >&2
  echo "      cd web && npm ci && npm run build   (Node.js 20+)" >&2
fi

export HYPER_REGISTRY_DATA_DIR="${HYPER_REGISTRY_DATA_DIR:-$PWD/data}"
exec hyper-registry serve --demo --host "${HOST:-127.0.0.1}" --port "${PORT:-8080}"
