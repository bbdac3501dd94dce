#!/usr/bin/env bash
# Frontegg's Python SDK (`frontegg` on PyPI), unmodified, against a fresh sigil (lib/with-sigil.js)
# that only its base URL points at: FRONTEGG_API_GATEWAY_URL, which the SDK reads when imported.
# Installs the pinned packages of requirements.txt in a venv under target/ on first use (again
# whenever requirements.txt changes). Arguments go to pytest.
#
#   compat/python/run.sh                     # sigil from SIGIL_BIN, default target/debug/sigil
#   compat/python/run.sh -k flask -v
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [[ -z "${SIGIL_URL:-}" ]]; then
  exec node "$here/../lib/with-sigil.js" "$0" "$@"
fi

venv=${SIGIL_PYTHON_VENV:-$here/../../target/compat-python-venv}
stamp="$venv/requirements.txt"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"
  "$venv/bin/pip" check --disable-pip-version-check
  cp "$here/requirements.txt" "$stamp"
fi

export FRONTEGG_API_GATEWAY_URL=$SIGIL_URL
cd "$here"
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" -m pytest "$@"
