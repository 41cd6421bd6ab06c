//! Writes `webex.pc` (pkg-config) next to the libraries this build produces, so C programs in
//! this tree build with `PKG_CONFIG_PATH=target/debug pkg-config --cflags --libs webex`.
//!
//! The file describes the build tree (headers in `include/`, libraries in `target/<profile>/`,
//! an rpath so programs run without `LD_LIBRARY_PATH`); a packager installing elsewhere writes
//! their own.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("ffi-c lives in the workspace root").to_path_buf();
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: the libraries land in <target>/<profile>.
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let Some(libdir) = out.ancestors().nth(3).map(Path::to_path_buf) else { return };
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let pc = format!(
        "prefix={root}\nincludedir=${{prefix}}/include\nlibdir={libdir}\n\n\
         Name: webex\n\
         Description: webex-native, the Webex SDK's C ABI (build tree)\n\
         Version: {version}\n\
         URL: https://github.com/webex-native/webex-native\n\
         Cflags: -I${{includedir}}\n\
         Libs: -L${{libdir}} -Wl,-rpath,${{libdir}} -lwebex\n\
         Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc\n",
        root = root.display(),
        libdir = libdir.display(),
    );
    // Best effort: a read-only target dir must not fail the library's build.
    let path = libdir.join("webex.pc");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(pc.as_str()) {
        let _ = std::fs::write(&path, pc);
    }
}
