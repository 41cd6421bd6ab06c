// Cisco's official JS SDK (the `webex` npm package, 3.12.0) against the webex-sandbox binary.
//
// Run by tests/official/run.sh: NODE_PATH points at target/official/node/node_modules and
// WEBEX_SANDBOX_INFO holds the sandbox's start-up JSON line. Prints "N passed, M failed" last;
// exit status 1 on any failure, an unhandled rejection, or the hard timeout.
//
// `require('webex')` throws `window is not defined` in plain Node 20 (plugin-meetings pulls in
// @webex/internal-media-core), so the client is assembled the way `Webex.init` does it
// (node_modules/webex/dist/webex.js): WebexCore.extend + the same plugins minus
// plugin-meetings and contact-center, and the `webex` package config (protocol.md §3.4).
'use strict';

const HARD_TIMEOUT_MS = 90_000; // the whole run
const STEP_TIMEOUT_MS = 20_000; // any one SDK call or awaited event

const results = [];
let finished = false;

function finish(code) {
  if (finished) return;
  finished = true;
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  // The SDK keeps timers (pings, metrics) alive: leave explicitly.
  process.exit(code || failed ? 1 : 0);
}

function fail(name, err) {
  results.push({name, ok: false});
  console.log(`FAIL ${name}`);
  console.log(err && err.stack ? err.stack : String(err));
}

const hardTimer = setTimeout(() => {
  fail('hard timeout', new Error(`the test did not finish within ${HARD_TIMEOUT_MS} ms`));
  finish(1);
}, HARD_TIMEOUT_MS);

process.on('unhandledRejection', (reason) => fail('no unhandled promise rejection', reason));
process.on('uncaughtException', (err) => {
  fail('no uncaught exception', err);
  finish(1);
});

function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

async function check(name, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), name);
    results.push({name, ok: true});
    console.log(`ok   ${name}`);
    return true;
  } catch (err) {
    fail(name, err);
    return false;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function assertEq(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// ---- the client, as Webex.init builds it ------------------------------------------------------

if (!global._babelPolyfill) require('@babel/polyfill'); // what webex/dist/index.js does first

// The plugins of webex/dist/webex.js, in its order, minus @webex/plugin-meetings and
// @webex/contact-center (both need a browser).
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
// The package's "exports" hide dist/config.js: load it by path.
const webexDir = require('path').dirname(require.resolve('webex/package'));
const webexConfig = require(`${webexDir}/dist/config.js`).default;
const webexVersion = require('webex/package').version;

const Webex = WebexCore.extend({webex: true, version: webexVersion});

const INFO = JSON.parse(process.env.WEBEX_SANDBOX_INFO);
const user = (email) => {
  const u = INFO.users.find((x) => x.email === email);
  assert(u, `sandbox user ${email}`);
  return u;
};
const BOT = user('sandbox-bot@webex.bot');
const ALICE = user('alice@example.com');

function makeClient(token) {
  const config = merge({sdkType: 'webex'}, webexConfig, {
    services: {discovery: {u2c: INFO.u2c, hydra: INFO.hydra}},
    logger: {level: process.env.WEBEX_LOG_LEVEL || 'error'},
  });
  const webex = new Webex({credentials: token, config});
  // `ready` = storage loaded and the catalogs fetched (or given up on).
  return withTimeout(
    new Promise((resolve) => (webex.ready ? resolve() : webex.once('ready', resolve))),
    'client ready'
  ).then(() => webex);
}

// ---- the test --------------------------------------------------------------------------------

async function main() {
  console.log(`webex ${webexVersion} against ${INFO.hydra}`);
  const ctx = {};

  await check('bot client ready, authorized, catalog loaded', async () => {
    ctx.bot = await makeClient(BOT.token);
    assert(ctx.bot.canAuthorize, 'canAuthorize');
    const services = ctx.bot.internal.services;
    await services.waitForCatalog('postauth', 10);
    assert(services.get('hydra'), 'catalog names hydra');
    assert(services.get('wdm'), 'catalog names wdm');
  });
  if (!ctx.bot) return;

  await check('people.get("me")', async () => {
    const me = await ctx.bot.people.get('me');
    assertEq(me.id, BOT.personId, 'me.id');
    assert(me.emails.includes(BOT.email), `me.emails ${me.emails}`);
    assertEq(me.orgId, INFO.orgId, 'me.orgId');
  });

  await check('rooms.create', async () => {
    const title = `official js sdk ${Date.now()}`;
    ctx.room = await ctx.bot.rooms.create({title});
    assertEq(ctx.room.title, title, 'room.title');
    assertEq(ctx.room.creatorId, BOT.personId, 'room.creatorId');
  });
  if (!ctx.room) return;

  await check('memberships.create (alice)', async () => {
    const m = await ctx.bot.memberships.create({roomId: ctx.room.id, personEmail: ALICE.email});
    assertEq(m.roomId, ctx.room.id, 'membership.roomId');
    assertEq(m.personId, ALICE.personId, 'membership.personId');
  });

  await check('messages.create', async () => {
    const msg = await ctx.bot.messages.create({roomId: ctx.room.id, markdown: '**first** message'});
    assertEq(msg.roomId, ctx.room.id, 'message.roomId');
    assertEq(msg.text, 'first message', 'message.text');
    assertEq(msg.personId, BOT.personId, 'message.personId');
  });

  await check('alice: messages.listen() (WDM device + Mercury websocket)', async () => {
    ctx.alice = await makeClient(ALICE.token);
    await ctx.alice.messages.listen();
    assert(ctx.alice.internal.device.registered, 'device registered');
    assert(ctx.alice.internal.mercury.connected, 'mercury connected');
  });
  if (!ctx.alice || !ctx.alice.internal.mercury.connected) return;

  await check("alice's messages 'created' handler receives the bot's message", async () => {
    const received = new Promise((resolve) => {
      ctx.alice.messages.on('created', (event) => resolve(event));
    });
    const sent = await ctx.bot.messages.create({roomId: ctx.room.id, text: 'hello alice'});
    const event = await withTimeout(received, "alice's 'created' event", 15_000);
    assertEq(event.data.id, sent.id, 'event.data.id');
    assertEq(event.data.text, 'hello alice', 'event.data.text');
    assertEq(event.data.roomId, ctx.room.id, 'event.data.roomId');
    assertEq(event.data.personId, BOT.personId, 'event.data.personId');
    assertEq(event.resource, 'messages', 'event.resource');
    assertEq(event.event, 'created', 'event.event');
    assertEq(event.actorId, BOT.personId, 'event.actorId');
    assertEq(event.createdBy, ALICE.personId, 'event.createdBy');
    ctx.sent = sent;
  });

  await check("alice's messages 'deleted' handler sees the bot delete it", async () => {
    assert(ctx.sent, 'the previous step posted a message');
    const received = new Promise((resolve) => {
      ctx.alice.messages.on('deleted', (event) => resolve(event));
    });
    await ctx.bot.messages.remove(ctx.sent.id);
    const event = await withTimeout(received, "alice's 'deleted' event", 15_000);
    assertEq(event.data.id, ctx.sent.id, 'event.data.id');
    assertEq(event.data.roomId, ctx.room.id, 'event.data.roomId');
    assertEq(event.data.personId, BOT.personId, 'event.data.personId');
    assertEq(event.event, 'deleted', 'event.event');
  });

  await check('alice: stopListening, device unregister', async () => {
    ctx.alice.messages.stopListening();
    ctx.alice.messages.off('created');
    ctx.alice.messages.off('deleted');
    await ctx.alice.internal.mercury.disconnect();
    await ctx.alice.internal.device.unregister();
    assert(!ctx.alice.internal.device.registered, 'device unregistered');
  });
}

main()
  .catch((err) => fail('main', err))
  .finally(() => {
    clearTimeout(hardTimer);
    // Let any late rejection surface before counting.
    setTimeout(() => finish(0), 200);
  });
