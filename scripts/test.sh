#!/usr/bin/env bash
# Install the project with its test dependencies into .venv and run every check:
# ruff, mypy and the whole pytest suite. Idempotent; needs only Python 3.11+.
#
# Service-backed tests (PostgreSQL) run when the service answers on 127.0.0.1 and
# are skipped, with the reason printed, when it does not -- except under CI=true,
# where an unreachable service fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
python -m pip install --quiet --disable-pip-version-check -e ".[all,test]"

echo "== ruff"
ruff check src tests bench
echo "== mypy"
mypy
echo "== pytest"
exec python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
