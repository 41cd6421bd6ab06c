// Credentials and storage from JS, with the config document every language uses: the OAuth
// code flow against the sandbox's idbroker, tokens and the device kept in the app's own
// storage adapter (a JS object) across clients, an adapter's mistakes, and engine logs as
// `logger` events without a token in them.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {spawnSync} = require('node:child_process');
const path = require('node:path');
const {Webex, ALICE} = require('./helpers');

const REDIRECT = 'https://app.example.test/callback';
const DEVICES = '/wdm/api/v1/devices';

/** A sandbox, and clients closed with it at the end of the test. */
async function start(t) {
  const sandbox = await Webex.Sandbox.start();
  const clients = [];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sandbox.stop();
  });
  return {
    sandbox,
    init(config) {
      const webex = Webex.init(config);
      clients.push(webex);
      return webex;
    },
  };
}

/** The config of an OAuth integration: client id and secret, no token. */
function oauthConfig(sandbox, extra = {}) {
  const {clientId, clientSecret, idbroker} = sandbox.oauth;
  return {
    credentials: {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uri: REDIRECT,
      scope: 'spark:all',
      idbroker: {url: idbroker},
    },
    services: sandbox.config().services,
    ...extra,
  };
}

/** What the user's browser does: open the authorize URL, consent, land on the redirect. */
async function consent(authorizeUrl, email) {
  const response = await fetch(`${authorizeUrl}&login_hint=${email}`, {redirect: 'manual'});
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get('location'));
  assert.ok(location.href.startsWith(REDIRECT), location.href);
  return {code: location.searchParams.get('code'), state: location.searchParams.get('state')};
}

/** The OAuth code flow: the authorize URL, the browser step, the code exchanged for tokens. */
async function logIn(webex, email) {
  const url = await webex.authorization.url({state: 'xyz'});
  const {code, state} = await consent(url, email);
  assert.equal(state, 'xyz');
  const granted = await webex.authorization.exchangeCode({code});
  assert.equal(granted.hasRefreshToken, true);
  assert.equal(granted.access_token, undefined, 'tokens stay in the engine');
  return granted;
}

/** A Map-backed adapter that records the calls it gets. */
function mapAdapter() {
  return {
    map: new Map(),
    calls: [],
    get(key) {
      this.calls.push(`get ${key}`);
      return this.map.get(key);
    },
    put(key, json) {
      this.calls.push(`put ${key}`);
      this.map.set(key, json);
    },
    delete(key) {
      this.calls.push(`delete ${key}`);
      this.map.delete(key);
    },
  };
}

/** Wait (yielding to the event loop) until `pred()` holds; writes arrive on the JS thread. */
async function eventually(pred, what) {
  for (let round = 0; !pred(); round++) {
    assert.ok(round < 500, `still not the case after ${round} rounds: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const devicePosts = (sandbox) => sandbox.requests().filter((r) => r.method === 'POST' && r.path.startsWith(DEVICES)).length;

test('OAuth code flow: authorization.url, the browser, exchangeCode, then calls as the user', async (t) => {
  const {sandbox, init} = await start(t);
  const webex = init(oauthConfig(sandbox));
  const url = await webex.authorization.url({state: 'xyz'});
  assert.ok(url.startsWith(`${sandbox.oauth.idbroker}/`), url);
  assert.match(url, /response_type=code/);
  await logIn(webex, ALICE);
  const me = await webex.people.me();
  assert.equal(me.emails[0], ALICE);
  const status = await webex.credentials.status();
  assert.equal(status.canAuthorize, true);
  assert.equal(status.renewal, 'refreshToken');
});

test('storage through a JS object: tokens and the device survive into a client with no token', async (t) => {
  const {sandbox, init} = await start(t);
  const store = mapAdapter();
  const storage = {boundedAdapter: store, unboundedAdapter: store};

  const first = init(oauthConfig(sandbox, {storage}));
  // The engine read every key it stores, once, when the client was created (nothing yet).
  assert.deepEqual(store.calls, ['get credentials', 'get device']);
  await logIn(first, ALICE);
  await first.mercury.connect();
  await first.close();
  await eventually(() => store.map.has('credentials') && store.map.has('device'), 'credentials and device stored');
  const credentials = JSON.parse(store.map.get('credentials'));
  assert.equal(typeof credentials.access_token, 'string');
  assert.ok(credentials.access_token.length > 0);
  const device = JSON.parse(store.map.get('device'));
  assert.ok(device.url.includes(DEVICES), device.url);
  assert.equal(devicePosts(sandbox), 1);
  assert.ok(store.calls.every((c) => /^(get|put) (credentials|device)$/.test(c)), store.calls.join(', '));

  // Only the adapter (the config holds no token): logged in, and the stored device reused.
  store.calls.length = 0;
  const second = init(oauthConfig(sandbox, {config: {storage}}));
  assert.deepEqual(store.calls, ['get credentials', 'get device'], 'one object for both settings is read once');
  assert.equal((await second.people.me()).emails[0], ALICE);
  await second.messages.listen();
  assert.equal(devicePosts(sandbox), 1, 'no second device registration');
  await second.messages.stopListening();
  // Writes arrive in the engine's order: the device forgotten after it was stored.
  await second.device.unregister();
  await eventually(() => !store.map.has('device'), 'the device deleted');
  assert.equal(store.calls.at(-1), 'delete device');
  assert.ok(store.map.has('credentials'));
});

test("an adapter's mistakes: a missing method or an async get is a TypeError; a throwing put is logged", async (t) => {
  const {sandbox, init} = await start(t);
  const noPut = {get() {}, delete() {}};
  assert.throws(() => Webex.init(oauthConfig(sandbox, {storage: {boundedAdapter: noPut}})), (err) => {
    assert.equal(err.name, 'TypeError');
    assert.match(err.message, /`put` must be a function, got undefined/);
    return true;
  });
  const asyncGet = {async get() {}, put() {}, delete() {}};
  assert.throws(() => Webex.init(oauthConfig(sandbox, {storage: {unboundedAdapter: asyncGet}})), (err) => {
    assert.equal(err.name, 'TypeError');
    assert.match(err.message, /get\("credentials"\) returned a Promise; get must be synchronous/);
    return true;
  });
  // A rejected Promise from get is refused too, and its rejection handled (no crash).
  const rejectingGet = {get: () => Promise.reject(new Error('no')), put() {}, delete() {}};
  assert.throws(() => Webex.init({storage: {boundedAdapter: rejectingGet}}), /returned a Promise/);
  await new Promise((resolve) => setImmediate(resolve));
  const numberGet = {get: () => 42, put() {}, delete() {}};
  assert.throws(() => Webex.init({storage: {boundedAdapter: numberGet}}), /returned a number; get must be synchronous/);
  assert.throws(() => Webex.init({storage: {boundedAdapter: {get: 'x'}}}), /`get` must be a function, got a string/);

  // Failing writes (a throw, a rejected Promise) and a throwing get: warnings, never a crash.
  const warnings = [];
  const onLog = (record) => {
    if (record.target === 'webex::storage') warnings.push(record);
  };
  Webex.logger.on('log', onLog);
  t.after(() => Webex.logger.off('log', onLog));
  const failing = {
    get() {
      throw new Error('cannot read');
    },
    put() {
      throw new Error('disk full');
    },
    delete: async () => {
      throw new Error('still full');
    },
  };
  const webex = init(oauthConfig(sandbox, {storage: {boundedAdapter: failing, unboundedAdapter: failing}, logger: {level: 'warn'}}));
  await logIn(webex, ALICE);
  assert.equal((await webex.people.me()).emails[0], ALICE);
  await webex.mercury.connect();
  await webex.device.unregister();
  await eventually(() => warnings.some((w) => w.message.includes('delete("device")')), 'the failed delete logged');
  const messages = warnings.map((w) => w.message).join('\n');
  assert.match(messages, /could not read "credentials": get threw Error: cannot read/);
  assert.match(messages, /put\("credentials"\) failed: it threw Error: disk full/);
  assert.match(messages, /delete\("device"\) failed: its Promise rejected with Error: still full/);
  assert.ok(warnings.every((w) => w.level === 'warn'));
});

// After the other clients of this file: the engine's level is the most verbose any client asked
// for, for the whole process, so the listener stays attached (without one, the records would go
// to the console).
test('logger: engine records as `log` events, in batches, without the access token', async (t) => {
  const {sandbox, init} = await start(t);
  const records = [];
  Webex.logger.on('log', (record) => records.push(record));
  const store = mapAdapter();
  const webex = init(oauthConfig(sandbox, {storage: {boundedAdapter: store}, logger: {level: 'debug'}}));
  await logIn(webex, ALICE);
  await webex.people.me();
  await webex.messages.listen();
  await webex.messages.stopListening();
  await eventually(() => store.map.has('credentials'), 'credentials stored');
  const {access_token: token, refresh_token: refresh} = JSON.parse(store.map.get('credentials'));
  await eventually(() => records.some((r) => r.level === 'debug'), 'debug records');
  for (const record of records) {
    assert.deepEqual(Object.keys(record).sort(), ['level', 'message', 'target', 'timestampMs']);
    assert.equal(typeof record.timestampMs, 'number');
    for (const secret of [token, refresh, sandbox.oauth.clientSecret]) {
      if (secret) assert.ok(!record.message.includes(secret), `a secret in ${record.target}: ${record.message}`);
    }
  }
  // The same records as `logs.history`.
  const history = await webex.logs.history();
  assert.ok(history.some((h) => h.message === records[0].message));
});

test('neither an adapter nor the logger keeps the process alive', () => {
  const script = `
    const Webex = require('.');
    (async () => {
      const sb = await Webex.Sandbox.start();
      const map = new Map();
      const store = {get: (k) => map.get(k), put: (k, v) => map.set(k, v), delete: (k) => map.delete(k)};
      Webex.logger.on('log', () => {});
      const webex = Webex.init({...sb.config(), storage: {boundedAdapter: store, unboundedAdapter: store}, logger: {level: 'debug'}});
      await webex.messages.listen();
      await webex.close();
      await sb.stop();
      console.log('closed', map.has('device'));
    })();`;
  const run = spawnSync(process.execPath, ['-e', script], {cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 120000});
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'closed true');
});
