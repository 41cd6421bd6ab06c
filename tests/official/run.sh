#!/usr/bin/env bash
# Cisco's own SDKs against the sandbox: webexpythonsdk 2.0.6 and the `webex` npm package 3.12.0,
# each run against a fresh `webex-sandbox` process. Everything downloaded goes under
# target/official/ (git-ignored): the venv in target/official/venv, node_modules in
# target/official/node. Runs both tests, then exits non-zero if either failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY_SDK=webexpythonsdk==2.0.6
NPM_SDK_VERSION=3.12.0
OUT=target/official
mkdir -p "$OUT"

say() { printf -- '-- %s\n' "$*"; }

for tool in cargo python3 node npm; do
  command -v "$tool" >/dev/null || { echo "tests/official/run.sh needs $tool on PATH" >&2; exit 1; }
done

say "build the sandbox binary"
# Ask cargo where the binary is (CARGO_BUILD_TARGET / CARGO_TARGET_DIR move it).
sandbox_bin=$(cargo build --locked -p webex-sandbox --bin webex-sandbox \
  --message-format=json-render-diagnostics |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "webex-sandbox":
        print(m["executable"])')
[[ -x "$sandbox_bin" ]] || { echo "webex-sandbox binary not found" >&2; exit 1; }

say "python venv with $PY_SDK ($OUT/venv)"
if ! "$OUT/venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("webexpythonsdk") != "2.0.6")' 2>/dev/null; then
  rm -rf "$OUT/venv"
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install --quiet --disable-pip-version-check "$PY_SDK"
fi

say "npm package webex@$NPM_SDK_VERSION ($OUT/node)"
if [[ "$(node -p "require('./$OUT/node/node_modules/webex/package.json').version" 2>/dev/null)" != "$NPM_SDK_VERSION" ]]; then
  npm install --no-audit --no-fund --loglevel=error --prefix "$OUT/node" "webex@$NPM_SDK_VERSION"
fi

# One sandbox per test, so each starts from the seeded state. Its start-up JSON line goes to the
# test in WEBEX_SANDBOX_INFO; its stderr is kept in $OUT/<test>.sandbox.log.
sandbox_pid=
stop_sandbox() {
  if [[ -n "$sandbox_pid" ]]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
    sandbox_pid=
  fi
}
trap stop_sandbox EXIT

start_sandbox() { # $1 = log name
  local info="$OUT/$1.sandbox.json"
  : >"$info"
  "$sandbox_bin" --port 0 >"$info" 2>"$OUT/$1.sandbox.log" &
  sandbox_pid=$!
  for _ in $(seq 100); do
    if [[ -s "$info" ]] && [[ "$(tail -c1 "$info" | od -An -c)" == *'\n'* ]]; then
      WEBEX_SANDBOX_INFO=$(head -n1 "$info")
      export WEBEX_SANDBOX_INFO
      return 0
    fi
    kill -0 "$sandbox_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "webex-sandbox did not start; its stderr:" >&2
  cat "$OUT/$1.sandbox.log" >&2
  return 1
}

failed=()
run_test() { # $1 = name, rest = command
  local name=$1
  shift
  say "$name"
  if start_sandbox "$name" && "$@"; then :; else failed+=("$name"); fi
  stop_sandbox
}

run_test webexpythonsdk "$OUT/venv/bin/python" tests/official/webexpythonsdk_test.py
run_test webex-npm env NODE_PATH="$PWD/$OUT/node/node_modules" node tests/official/webex_npm_test.js

if ((${#failed[@]})); then
  echo "official SDK tests failed: ${failed[*]} (sandbox logs: $OUT/*.sandbox.log)" >&2
  exit 1
fi
echo "official SDK tests passed"
