// Handles: released by close() and by finalizers; the process exits on its own after close()
// (no thread-safe function keeps it alive), also after listening; the ES module entry point.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {spawnSync} = require('node:child_process');
const path = require('node:path');
const native = require('../native');
const {Webex, setup} = require('./helpers');

const pkg = path.join(__dirname, '..');

function runNode(args, script, env = {}) {
  // A generous guard so a regression fails instead of hanging CI; not a timing assertion.
  return spawnSync(process.execPath, [...args, '-e', script], {
    cwd: pkg,
    encoding: 'utf8',
    timeout: 120000,
    env: {...process.env, ...env},
  });
}

test('close() releases the handle', async () => {
  const before = native.openClients();
  const webex = Webex.init({credentials: {access_token: 'x'}});
  assert.equal(native.openClients(), before + 1);
  await webex.close();
  assert.equal(native.openClients(), before);
});

test('a client nobody references is closed by its finalizer', async () => {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  const before = native.openClients();
  (() => {
    for (let i = 0; i < 5; i++) Webex.init({credentials: {access_token: 'x'}});
  })();
  assert.equal(native.openClients(), before + 5);
  // Finalizers run after collection, and the close then finishes on a thread of its own:
  // collect and yield to the loop until every handle is released.
  for (let round = 0; native.openClients() > before; round++) {
    assert.ok(round < 1000, `still open after ${round} collections: ${native.openClients() - before}`);
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(native.openClients(), before);
});

test('the process exits on its own after close(), also after listening', () => {
  const script = `
    const Webex = require('.');
    (async () => {
      const sb = await Webex.Sandbox.start();
      const webex = Webex.init(sb.config());
      webex.on('ready', () => {});
      await webex.people.me();
      await webex.messages.listen();
      await webex.close();
      await sb.stop();
      console.log('closed');
    })();`;
  const run = runNode([], script);
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'closed');
});

test('a listening client keeps the process alive until it is closed', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  // The child listens, then waits for an event that only arrives after it is alive and
  // listening: it must not exit early.
  const script = `
    const Webex = require('.');
    const webex = Webex.init(JSON.parse(process.env.CONFIG));
    webex.messages.listen().then(() => {
      console.log('listening');
      webex.messages.on('created', (e) => { console.log('got', e.data.text); webex.close(); });
      return webex.messages.create({toPersonEmail: 'alice@example.com', text: 'to myself'});
    });`;
  const run = runNode([], script, {CONFIG: JSON.stringify(env.sandbox.config())});
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'listening\ngot to myself\n');
});

test('listening through request() keeps the process alive too, and stopListening lets it exit', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  // As the test above, with the operations called by name: they used to skip the
  // bookkeeping, so the child exited at once (listen) or never (stopListening).
  const script = `
    const Webex = require('.');
    const webex = Webex.init(JSON.parse(process.env.CONFIG));
    webex.request('messages.listen').then(() => {
      webex.messages.on('created', async (e) => {
        console.log('got', e.data.text);
        await webex.request('messages.stopListening');
        console.log('stopped');
      });
      return webex.messages.create({toPersonEmail: 'alice@example.com', text: 'to myself'});
    });`;
  const run = runNode([], script, {CONFIG: JSON.stringify(env.sandbox.config())});
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'got to myself\nstopped\n');
});

test('a joined meeting keeps the process alive until it ends', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const host = env.client('alice@example.com');
  const scheduled = await host.scheduledMeetings.create({title: 'alive', start: '2030-01-01T10:00:00Z', end: '2030-01-01T10:30:00Z'});
  // The child joins and waits for the meeting to end, which the test does once the child says
  // it joined: without the meeting keeping it alive, the child exited right after joining.
  const script = `
    const Webex = require('.');
    const webex = Webex.init(JSON.parse(process.env.CONFIG));
    webex.on('meeting:ended', () => { console.log('ended'); webex.close(); });
    webex.meetings.create({destination: process.env.NUMBER})
      .then((m) => webex.meetings.join({meetingId: m.id}))
      .then(() => console.log('joined'));`;
  const {spawn} = require('node:child_process');
  const child = spawn(process.execPath, ['-e', script], {
    cwd: pkg,
    env: {...process.env, CONFIG: JSON.stringify(env.sandbox.config()), NUMBER: scheduled.meetingNumber},
  });
  let out = '';
  let ended = false;
  child.stdout.on('data', (chunk) => {
    out += chunk;
    if (!ended && out.includes('joined')) {
      ended = true;
      env.sandbox.meetingControl(scheduled.meetingNumber, 'end');
    }
  });
  const guard = setTimeout(() => child.kill(), 120000); // a hang guard, not a timing assertion
  const status = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(guard);
  assert.equal(status, 0);
  assert.equal(out, 'joined\nended\n');
});

test('a meeting whose leave fails does not keep the process alive', () => {
  // The cloud is gone when the child leaves: the leave fails (it used to wait forever for
  // the event socket), and the meeting must not hold the process.
  const script = `
    const Webex = require('.');
    (async () => {
      const sb = await Webex.Sandbox.start();
      const webex = Webex.init(sb.config());
      const {meetingNumber} = await webex.scheduledMeetings.create({title: 't', start: '2030-01-01T10:00:00Z', end: '2030-01-01T10:30:00Z'});
      const m = await webex.meetings.create({destination: meetingNumber});
      await webex.meetings.join({meetingId: m.id});
      await sb.stop();
      await webex.meetings.leave(m.id).catch((e) => console.log('leave failed:', e.code));
    })();`;
  const run = runNode([], script);
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'leave failed: NETWORK\n');
});

test('the ES module entry point', () => {
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `
      import Webex, {Sandbox, operations} from 'webex-native';
      const sb = await Sandbox.start();
      const webex = Webex.init(sb.config());
      const me = await webex.people.me();
      console.log(me.emails[0], operations.length === Webex.operations.length);
      await webex.close();
      await sb.stop();`],
    {cwd: pkg, encoding: 'utf8', timeout: 120000},
  );
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'sandbox-bot@webex.bot true\n');
});

test('a client nobody references keeps working while it listens or has calls in flight', async (t) => {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  const env = await setup();
  t.after(() => env.done());
  const sb = env.sandbox;
  // A bot the app keeps no reference to: it listens, and answers through its handler.
  let listening;
  const isListening = new Promise((resolve) => (listening = resolve));
  const heard = new Promise((resolve) => {
    (async () => {
      const bot = Webex.init(sb.config());
      bot.messages.on('created', (e) => resolve({text: e.data.text, bot}));
      await bot.messages.listen();
      listening();
    })();
  });
  await isListening;
  // A call whose client was a temporary, answered after a delay.
  sb.injectFault({path: '/v1/people/me', delayMs: 300});
  const me = Webex.init(sb.config('bob@example.com')).people.me();
  for (let i = 0; i < 20; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal((await me).emails[0], 'bob@example.com');
  const alice = env.client('alice@example.com');
  await alice.messages.create({toPersonEmail: sb.bot.email, text: 'still there?'});
  const {text, bot} = await heard;
  assert.equal(text, 'still there?');
  await bot.close();
});

test('the process exits on its own once the socket gives up (offline.permanent)', () => {
  const script = `
    const Webex = require('.');
    (async () => {
      const sb = await Webex.Sandbox.start();
      const webex = Webex.init({...sb.config(), mercury: {maxRetries: 1, backoffTimeReset: 10, backoffTimeMax: 50}});
      webex.on('offline.permanent', (e) => console.log('gave up'));
      await webex.messages.listen();
      await sb.stop(); // every reconnection is refused; the client is never closed
    })();`;
  const run = runNode([], script);
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error}`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'gave up');
});
