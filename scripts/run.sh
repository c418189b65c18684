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

export HYPER_REGISTRY_DATA_DIR="${HYPER_REGISTRY_DATA_DIR:-$PWD/data}"
exec hyper-registry serve --demo --host "${HOST:-127.0.0.1}" --port "${PORT:-8080}"
