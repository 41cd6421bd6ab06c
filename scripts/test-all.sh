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

step "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

printf '\nall tests passed\n'
