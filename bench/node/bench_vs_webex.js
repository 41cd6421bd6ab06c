#!/usr/bin/env node
// Benchmark (not a test): webex-native's Node addon against Cisco's official `webex` npm package
// (3.12.0), both pointed at the same webex-sandbox process, in one run. Prints each figure and
// the ratio native/official (for times and RSS lower is better, for rates higher is better).
//
//   sequential messages.create   mean ms per call, one at a time        goal: >= 2x faster
//   64-in-flight messages.create calls per second                       goal: >= 2x faster
//   RSS after init               MB, client ready and one call made      goal: <= 0.5x
//   messages:created delivery    events per second reaching a handler   goal: >= 2x
//
// Each SDK runs in a child process of its own (so RSS is its own). The delivery test posts from
// this parent process (webex-native, 64 in flight) while the child listens; the child counts
// from its first event to its last.
//
// Needs: cargo, and the official package in target/official/node (tests/official/run.sh puts it
// there; this script installs it there if it is missing). Builds the release addon
// (target/node-release/webex_native.node) and the release sandbox binary.
//
// Run: node bench/node/bench_vs_webex.js [--seq N] [--par N] [--events N]
'use strict';

const {spawn, spawnSync} = require('child_process');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const ROOT = path.resolve(__dirname, '..', '..');
const OFFICIAL_DIR = path.join(ROOT, 'target', 'official', 'node');
const OFFICIAL_VERSION = '3.12.0';
const ADDON = path.join(ROOT, 'target', 'node-release', 'webex_native.node');
const IN_FLIGHT = 64;
const STEP_TIMEOUT_MS = 180_000;

const argv = process.argv.slice(2);
const num = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SEQ = num('--seq', 300);
const PAR = num('--par', 3000);
const EVENTS = num('--events', 2000);

// ---- a child: one SDK, measured ------------------------------------------------------------

async function child(kind) {
  const info = JSON.parse(process.env.WEBEX_SANDBOX_INFO);
  const user = (email) => info.users.find((u) => u.email === email);
  const sdk = kind === 'native' ? nativeSdk(info) : officialSdk(info);
  const say = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

  const bot = await sdk.client(user('sandbox-bot@webex.bot').token);
  await sdk.me(bot);
  const rssAfterInit = process.memoryUsage().rss;

  const room = await bot.rooms.create({title: `bench ${kind}`});
  await bot.memberships.create({roomId: room.id, personEmail: 'alice@example.com'});
  for (let i = 0; i < 20; i++) await bot.messages.create({roomId: room.id, text: `warm ${i}`});

  let t = process.hrtime.bigint();
  for (let i = 0; i < SEQ; i++) await bot.messages.create({roomId: room.id, text: `seq ${i}`});
  const seqMs = Number(process.hrtime.bigint() - t) / 1e6 / SEQ;

  t = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < PAR) {
      const i = next++;
      await bot.messages.create({roomId: room.id, text: `par ${i}`});
    }
  };
  await Promise.all(Array.from({length: IN_FLIGHT}, worker));
  const parPerSec = PAR / (Number(process.hrtime.bigint() - t) / 1e9);

  // Delivery: alice listens, the parent posts EVENTS messages into a room of hers.
  const alice = await sdk.client(user('alice@example.com').token);
  await alice.messages.listen();
  let count = 0;
  let first = 0n;
  const done = new Promise((resolve) => {
    alice.messages.on('created', (event) => {
      if (!event.data.text || !event.data.text.startsWith('deliver ')) return;
      if (count === 0) first = process.hrtime.bigint();
      if (++count === EVENTS) resolve(process.hrtime.bigint());
    });
  });
  say({listening: true, roomId: room.id});
  const last = await done;
  const deliveryPerSec = (EVENTS - 1) / (Number(last - first) / 1e9);
  say({kind, rssAfterInitMb: rssAfterInit / 2 ** 20, seqMs, parPerSec, deliveryPerSec, rssEndMb: process.memoryUsage().rss / 2 ** 20});
  process.exit(0); // the official SDK keeps timers (pings, metrics) alive
}

function nativeSdk(info) {
  const Webex = require(path.join(ROOT, 'node'));
  return {
    me: (webex) => webex.people.me(),
    async client(token) {
      const webex = Webex.init({credentials: {access_token: token}, services: {discovery: {hydra: info.hydra, u2c: info.u2c}}});
      await new Promise((resolve) => webex.once('ready', resolve));
      return webex;
    },
  };
}

// The official client as Webex.init builds it, assembled for plain Node (see
// tests/official/webex_npm_test.js for why `require('webex')` cannot be used).
function officialSdk(info) {
  if (!global._babelPolyfill) require('@babel/polyfill');
  for (const plugin of [
    '@webex/plugin-authorization',
    '@webex/internal-plugin-calendar',
    '@webex/internal-plugin-device',
    '@webex/internal-plugin-dss',
    '@webex/internal-plugin-presence',
    '@webex/internal-plugin-support',
    '@webex/internal-plugin-llm',
    '@webex/internal-plugin-task',
    '@webex/plugin-attachment-actions',
    '@webex/plugin-device-manager',
    '@webex/plugin-logger',
    '@webex/plugin-messages',
    '@webex/plugin-memberships',
    '@webex/plugin-people',
    '@webex/plugin-rooms',
    '@webex/plugin-teams',
    '@webex/plugin-team-memberships',
    '@webex/plugin-webhooks',
    '@webex/plugin-encryption',
  ]) {
    require(plugin);
  }
  const merge = require('lodash/merge');
  const WebexCore = require('@webex/webex-core').default;
  const webexDir = path.dirname(require.resolve('webex/package'));
  const webexConfig = require(`${webexDir}/dist/config.js`).default;
  const Webex = WebexCore.extend({webex: true, version: require('webex/package').version});
  return {
    me: (webex) => webex.people.get('me'),
    async client(token) {
      const config = merge({sdkType: 'webex'}, webexConfig, {
        services: {discovery: {u2c: info.u2c, hydra: info.hydra}},
        logger: {level: 'error'},
      });
      const webex = new Webex({credentials: token, config});
      await new Promise((resolve) => (webex.ready ? resolve() : webex.once('ready', resolve)));
      return webex;
    },
  };
}

// ---- the parent ----------------------------------------------------------------------------

function build() {
  console.log('building: release addon, release sandbox binary');
  const addon = spawnSync(process.execPath, [path.join(ROOT, 'node', 'scripts', 'build.js'), '--release', '--out', ADDON], {stdio: 'inherit'});
  if (addon.status !== 0) throw new Error('the release addon did not build');
  const cargo = spawnSync('cargo', ['build', '--release', '--locked', '-p', 'webex-sandbox', '--bin', 'webex-sandbox', '--message-format=json-render-diagnostics'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 28,
  });
  if (cargo.status !== 0) throw new Error('the sandbox binary did not build');
  let bin;
  for (const line of cargo.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.executable && m.target.name === 'webex-sandbox') bin = m.executable;
  }
  const version = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(OFFICIAL_DIR, 'node_modules', 'webex', 'package.json'), 'utf8')).version;
    } catch {
      return null;
    }
  })();
  if (version !== OFFICIAL_VERSION) {
    console.log(`installing webex@${OFFICIAL_VERSION} into ${path.relative(ROOT, OFFICIAL_DIR)}`);
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', OFFICIAL_DIR, `webex@${OFFICIAL_VERSION}`], {stdio: 'inherit'});
    if (npm.status !== 0) throw new Error('npm install webex failed');
  }
  return bin;
}

function startSandbox(bin) {
  const proc = spawn(bin, ['--port', '0'], {stdio: ['ignore', 'pipe', 'ignore']});
  return new Promise((resolve, reject) => {
    readline.createInterface({input: proc.stdout}).once('line', (line) => resolve({proc, info: line}));
    proc.once('exit', (code) => reject(new Error(`webex-sandbox exited (${code})`)));
  });
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runChild(kind, infoLine, poster) {
  const env = {...process.env, WEBEX_SANDBOX_INFO: infoLine, WEBEX_NATIVE_ADDON: ADDON};
  if (kind === 'official') env.NODE_PATH = path.join(OFFICIAL_DIR, 'node_modules');
  const proc = spawn(process.execPath, [__filename, '--child', kind, '--seq', SEQ, '--par', PAR, '--events', EVENTS], {env, stdio: ['ignore', 'pipe', 'inherit']});
  const lines = readline.createInterface({input: proc.stdout});
  let result;
  const finished = new Promise((resolve, reject) => {
    lines.on('line', async (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // an SDK's own output
      }
      if (msg.listening) {
        await poster(msg.roomId);
      } else {
        result = msg;
      }
    });
    proc.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`${kind} child exited ${code}`))));
  });
  return withTimeout(finished, `${kind} measurements`);
}

async function main() {
  const bin = build();
  const {proc: sandbox, info} = await startSandbox(bin);
  const parsed = JSON.parse(info);
  console.log(`sandbox ${parsed.hydra}; ${SEQ} sequential, ${PAR} with ${IN_FLIGHT} in flight, ${EVENTS} events`);

  process.env.WEBEX_NATIVE_ADDON = ADDON;
  const Webex = require(path.join(ROOT, 'node'));
  const bot = Webex.init({
    credentials: {access_token: parsed.users.find((u) => u.email === 'sandbox-bot@webex.bot').token},
    services: {discovery: {hydra: parsed.hydra, u2c: parsed.u2c}},
  });
  let postRate = 0;
  const poster = async (roomId) => {
    const t = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < EVENTS) {
        const i = next++;
        await bot.messages.create({roomId, text: `deliver ${i}`});
      }
    };
    await Promise.all(Array.from({length: IN_FLIGHT}, worker));
    postRate = EVENTS / (Number(process.hrtime.bigint() - t) / 1e9);
  };

  const results = {};
  try {
    for (const kind of ['native', 'official']) {
      results[kind] = await runChild(kind, info, poster);
      console.log(`${kind.padEnd(8)} ${JSON.stringify(results[kind], (k, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))} (posting ran at ${postRate.toFixed(0)}/s)`);
    }
  } finally {
    await bot.close();
    sandbox.kill();
  }

  const n = results.native;
  const o = results.official;
  const rows = [
    ['sequential messages.create (ms/call)', n.seqMs, o.seqMs, o.seqMs / n.seqMs, 'x faster', 2, true],
    [`${IN_FLIGHT}-in-flight messages.create (calls/s)`, n.parPerSec, o.parPerSec, n.parPerSec / o.parPerSec, 'x faster', 2, true],
    ['RSS after init (MB)', n.rssAfterInitMb, o.rssAfterInitMb, n.rssAfterInitMb / o.rssAfterInitMb, 'x the RSS', 0.5, false],
    ['messages:created delivery (events/s)', n.deliveryPerSec, o.deliveryPerSec, n.deliveryPerSec / o.deliveryPerSec, 'x the rate', 2, true],
  ];
  console.log('\nmeasure                                   webex-native    webex 3.12   ratio         goal');
  for (const [name, a, b, ratio, unit, goal, higher] of rows) {
    const met = higher ? ratio >= goal : ratio <= goal;
    console.log(`${name.padEnd(42)}${a.toFixed(2).padStart(12)}${b.toFixed(2).padStart(14)}   ${ratio.toFixed(2).padStart(6)}${unit.padEnd(10)} ${higher ? '>=' : '<='} ${goal} ${met ? 'met' : 'MISSED'}`);
  }
}

if (argv[0] === '--child') {
  child(argv[1]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(`bench failed: ${err.stack || err}`);
    process.exit(1);
  });
}
