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

step "Rust tests: engine, sandbox, end to end"
cargo test --workspace --locked

step "quick start on the embedded sandbox"
cargo run --locked --example quickstart

step "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

printf '\nall tests passed\n'
