#!/usr/bin/env node
// Builds the addon from source with cargo and copies it to webex_native.node (the package's
// `install` script, so `npm install <this folder or its tarball>` builds it).
//
// Where the Rust sources are: in a clone, the workspace one level up (node/ is a member); in a
// packed tarball, rust/ (a copy of the workspace crates the addon needs, made by
// scripts/vendor.js at pack time).
//
// Options: --release | --debug (default: release, or $WEBEX_NATIVE_PROFILE), --out FILE
// (default: webex_native.node next to package.json).
'use strict';

const {spawnSync} = require('child_process');
const fs = require('fs');
const path = require('path');

const pkgDir = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

let profile = process.env.WEBEX_NATIVE_PROFILE || 'release';
if (flag('--release')) profile = 'release';
if (flag('--debug')) profile = 'debug';
if (!['release', 'debug'].includes(profile)) fail(`unknown profile '${profile}' (release or debug)`);
const out = path.resolve(option('--out') || path.join(pkgDir, 'webex_native.node'));

function fail(message) {
  console.error(`webex-native: ${message}`);
  process.exit(1);
}

function manifest() {
  const vendored = path.join(pkgDir, 'rust', 'Cargo.toml');
  if (fs.existsSync(vendored)) return vendored;
  const workspace = path.join(pkgDir, '..', 'Cargo.toml');
  if (fs.existsSync(workspace) && /"node"/.test(fs.readFileSync(workspace, 'utf8'))) return workspace;
  return fail('no Rust sources found (neither ../Cargo.toml with node/ as a member nor rust/)');
}

const cargo = process.env.CARGO || 'cargo';
const version = spawnSync(cargo, ['--version'], {encoding: 'utf8'});
if (version.status !== 0) {
  fail('building the addon needs Rust (cargo on PATH); install it from https://rustup.rs and install again');
}

const manifestPath = manifest();
const cargoArgs = ['build', '--manifest-path', manifestPath, '-p', 'webex-node', '--message-format=json-render-diagnostics'];
if (profile === 'release') cargoArgs.push('--release');
// In a clone the lock file is exact; a tarball's copy lists the whole workspace's packages
// (cargo prunes those it does not need, which --locked would refuse).
if (!manifestPath.includes(`${path.sep}rust${path.sep}`)) cargoArgs.push('--locked');
console.error(`webex-native: cargo ${cargoArgs.join(' ')}`);
const build = spawnSync(cargo, cargoArgs, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28});
if (build.status !== 0) fail(`cargo build failed (exit ${build.status})`);

// The cdylib's path, as cargo reports it (CARGO_TARGET_DIR and CARGO_BUILD_TARGET move it).
let library;
for (const line of build.stdout.split('\n')) {
  if (!line.startsWith('{')) continue;
  const msg = JSON.parse(line);
  if (msg.reason === 'compiler-artifact' && msg.target.name === 'webex_node' && msg.target.kind.includes('cdylib')) {
    library = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
  }
}
if (!library) fail('cargo did not report the webex_node library');

// Copy next to a temporary name, then rename: a running process that loaded the old file
// keeps its mapping.
fs.mkdirSync(path.dirname(out), {recursive: true});
const tmp = `${out}.${process.pid}.tmp`;
fs.copyFileSync(library, tmp);
fs.renameSync(tmp, out);
console.error(`webex-native: ${profile} addon at ${path.relative(process.cwd(), out) || out}`);
