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
