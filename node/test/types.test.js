// index.d.ts is generated from the operation table: fail when the committed file drifts.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {spawnSync} = require('node:child_process');
const path = require('node:path');

test('index.d.ts matches the operation table', () => {
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'gen-types.js'), '--check'], {encoding: 'utf8'});
  assert.equal(run.status, 0, run.stderr);
});

test('meeting events are typed by name (tsc --strict)', () => {
  const tsc = path.join(__dirname, '..', 'node_modules', '.bin', 'tsc');
  const fixture = path.join(__dirname, 'fixtures', 'meeting-events.ts');
  const args = ['--strict', '--noEmit', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node10',
    '--esModuleInterop', '--types', 'node', '--typeRoots', path.join(__dirname, '..', 'node_modules', '@types'), fixture];
  const run = spawnSync(tsc, args, {encoding: 'utf8'});
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
