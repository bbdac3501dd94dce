#!/usr/bin/env bash
# schemathesis against the OpenAPI document a running sigil serves at /openapi.json: a bounded
# number of generated requests per operation, checking that none gets a 5xx and that every 4xx
# carries the error body (schemathesis_hooks.py). Starts its own sigil (lib/with-sigil.js) unless
# SIGIL_URL, SIGIL_CLIENT_ID and SIGIL_SECRET name one. Installs a pinned schemathesis in a venv.
#
#   compat/schemathesis.sh                   # sigil from SIGIL_BIN, default target/debug/sigil
#   SCHEMATHESIS_MAX_EXAMPLES=50 compat/schemathesis.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [[ -z "${SIGIL_URL:-}" ]]; then
  exec node "$here/lib/with-sigil.js" "$0" "$@"
fi

version=4.32.5
venv=${SCHEMATHESIS_VENV:-$here/../target/schemathesis-venv}
if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

# An environment token, so that operations behind one are exercised past authentication.
token=$(python3 - <<'PY'
import json, os, urllib.request
body = json.dumps({"clientId": os.environ["SIGIL_CLIENT_ID"], "secret": os.environ["SIGIL_SECRET"]})
request = urllib.request.Request(
    os.environ["SIGIL_URL"] + "/auth/vendor",
    data=body.encode(),
    headers={"content-type": "application/json"},
)
with urllib.request.urlopen(request) as response:
    print(json.load(response)["token"])
PY
)

cd "$here"
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$here" "$venv/bin/st" run \
  "${SIGIL_OPENAPI:-$SIGIL_URL/openapi.json}" \
  --url "$SIGIL_URL" \
  --checks not_a_server_error,error_body \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 2 \
  --header "Authorization: Bearer $token" \
  --report junit --report-dir "${SCHEMATHESIS_REPORT_DIR:-$here/../target/schemathesis-report}" \
  "$@"
