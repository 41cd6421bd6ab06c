#!/usr/bin/env node
// prepack: copies the Rust sources the addon is built from into rust/ (the workspace's
// manifest and lock file, and the crates core, sandbox and node), so the packed tarball
// builds on a machine that has Rust and nothing else. postpack (--clean) removes the copy.
'use strict';

const fs = require('fs');
const path = require('path');

const pkgDir = path.resolve(__dirname, '..');
const root = path.resolve(pkgDir, '..');
const dest = path.join(pkgDir, 'rust');

fs.rmSync(dest, {recursive: true, force: true});
if (process.argv.includes('--clean')) process.exit(0);

const skip = new Set(['target', 'node_modules', 'rust', 'tests', 'benches']);
function copy(from, to) {
  fs.mkdirSync(to, {recursive: true});
  for (const entry of fs.readdirSync(from, {withFileTypes: true})) {
    if (skip.has(entry.name) || entry.name.endsWith('.node')) continue;
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) copy(src, path.join(to, entry.name));
    else if (entry.isFile()) fs.copyFileSync(src, path.join(to, entry.name));
  }
}

// The workspace manifest with only the crates the addon needs as members.
const manifest = fs
  .readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
  .replace(/^members = .*$/m, 'members = ["core", "sandbox", "node"]')
  .replace(/^default-members = .*$/m, 'default-members = ["node"]');
fs.mkdirSync(dest, {recursive: true});
fs.writeFileSync(path.join(dest, 'Cargo.toml'), manifest);
fs.copyFileSync(path.join(root, 'Cargo.lock'), path.join(dest, 'Cargo.lock'));
copy(path.join(root, 'core'), path.join(dest, 'core'));
copy(path.join(root, 'sandbox'), path.join(dest, 'sandbox'));
fs.mkdirSync(path.join(dest, 'node'), {recursive: true});
for (const f of ['Cargo.toml', 'build.rs']) fs.copyFileSync(path.join(pkgDir, f), path.join(dest, 'node', f));
copy(path.join(pkgDir, 'src'), path.join(dest, 'node', 'src'));
console.error(`webex-native: Rust sources copied to ${path.relative(process.cwd(), dest)}`);
