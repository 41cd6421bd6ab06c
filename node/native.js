// Loads the compiled addon: node/webex_native.node (built by scripts/build.js at install), or
// the file named by WEBEX_NATIVE_ADDON (the benchmark points it at a release build).
'use strict';

const path = require('path');

const file = process.env.WEBEX_NATIVE_ADDON
  ? path.resolve(process.env.WEBEX_NATIVE_ADDON)
  : path.join(__dirname, 'webex_native.node');

try {
  module.exports = require(file);
} catch (err) {
  err.message =
    `webex-native: cannot load the addon ${file}: ${err.message}. ` +
    'It is built from source when the package is installed (Rust needed: https://rustup.rs); ' +
    'to build it again run `npm run build` in the package folder.';
  throw err;
}
