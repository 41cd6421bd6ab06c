//! The header drift check: the checked-in `include/webex.h` must be exactly what cbindgen
//! generates from this crate now. After changing the ABI, regenerate it with
//! `WEBEX_BLESS=1 cargo test -p webex-ffi --test header` and commit the result.

use std::path::PathBuf;

#[test]
fn checked_in_header_matches_a_fresh_generation() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("ffi-c/cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("the header is UTF-8");
    assert!(fresh.contains("webex_client_call") && fresh.contains("webex_sandbox_start"), "cbindgen saw every module");

    let path = crate_dir.join("../include/webex.h");
    if std::env::var_os("WEBEX_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write include/webex.h");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != fresh {
        let line = current
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| current.lines().count().min(fresh.lines().count()) + 1, |i| i + 1);
        panic!(
            "include/webex.h differs from what cbindgen generates from ffi-c (first difference at line {line}).\n\
             Regenerate it with `WEBEX_BLESS=1 cargo test -p webex-ffi --test header` and commit it."
        );
    }
}
