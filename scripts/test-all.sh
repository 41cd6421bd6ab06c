#!/usr/bin/env bash
# Every test in every language webex-native ships today, from a fresh clone.
# What it needs beyond Rust it installs itself. Prints each step; stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0

step() { printf '\n== %s\n' "$*"; }

step "format (rustfmt)"
cargo fmt --all -- --check

step "lint (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tools the tests use (tinyproxy: REST and the socket through a real proxy)"
if ! command -v tinyproxy >/dev/null && [ ! -x /usr/sbin/tinyproxy ]; then
  apt-get update && apt-get install -y tinyproxy
fi

step "Rust tests: engine, sandbox, end to end"
cargo test --workspace --locked

step "official SDKs (webexpythonsdk, the webex npm package) against the sandbox binary"
bash tests/official/run.sh

step "quick start on the embedded sandbox"
cargo run --locked --example quickstart

step "meeting example: a bot says 440 Hz in a sandbox meeting, a listener hears it"
cargo run --locked --example meeting_bot

# The C ABI. The header drift check (include/webex.h vs a fresh cbindgen run) is a Rust test,
# ffi-c/tests/header.rs, so it already ran with the Rust tests above.
step "C ABI: libwebex, C tests, C quick start (shared and static library)"
need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc)
command -v c++ >/dev/null || need+=(g++)
if ((${#need[@]})); then apt-get update && apt-get install -y "${need[@]}"; fi
cargo build --locked -p webex-ffi
make -C tests/c test

step "C quick start, misuse and close tests under valgrind memcheck"
make -C tests/c valgrind

# Python: `pip install ./py` into a venv under target/ (git-ignored), then pytest against the
# embedded sandbox, mypy --strict on the examples (with the generated stubs) and the quick start.
# CI builds the wheel with cargo's dev profile (MATURIN_PEP517_ARGS): it reuses the debug
# dependencies the Rust steps above already built and compiles only webex-py; a user's
# `pip install ./py` builds release (py/pyproject.toml), as does the benchmark (bench/python).
step "Python: pip install ./py, pytest, stub drift, mypy --strict, quick start"
py_venv=target/python/venv
[[ -x "$py_venv/bin/python" ]] || python3 -m venv "$py_venv"
"$py_venv/bin/pip" install --quiet --disable-pip-version-check pytest mypy
MATURIN_PEP517_ARGS="--profile dev" "$py_venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./py
"$py_venv/bin/python" -m pytest -q py/tests
"$py_venv/bin/python" -m mypy --strict examples/python
"$py_venv/bin/python" examples/python/quickstart.py
"$py_venv/bin/python" examples/python/meeting_bot.py

# The Node.js addon. Its dev tools (typescript, @types/node) go to node/node_modules (git-ignored);
# a user's install (`npm install ./node`, which runs the package's install script: cargo build
# and copy) goes to a scratch project under target/. Debug build: tests only; the benchmark
# (bench/node) builds release.
step "Node.js addon: npm install ./node, node --test, index.d.ts drift, TypeScript example, quick start"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt-get update && apt-get install -y nodejs npm; fi
export WEBEX_NATIVE_PROFILE=debug
npm install --prefix node --no-audit --no-fund --loglevel=error
npm install --prefix target/node --no-audit --no-fund --loglevel=error "$PWD/node"
(cd node && node --test test/*.test.js)
node node/scripts/gen-types.js --check
node/node_modules/.bin/tsc -p examples/node --strict --noEmit
# The types as an ES module and a CommonJS app see them under `nodenext` (the package imports
# itself by name through its `exports`).
node/node_modules/.bin/tsc -p node/test/types
NODE_PATH="$PWD/target/node/node_modules" node examples/node/quickstart.js
NODE_PATH="$PWD/target/node/node_modules" node examples/node/meeting_bot.js
unset WEBEX_NATIVE_PROFILE

step "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

printf '\nall tests passed\n'
