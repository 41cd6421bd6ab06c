// Errors: every rejection is an Error with the engine's stable code and the cloud's status,
// tracking id and Retry-After; bad input is refused with a message that names the problem.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {Webex, ALICE, setup, rejection} = require('./helpers');

test('cloud errors: code, statusCode, trackingId, retryAfter', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client();

  const missing = await rejection(webex.rooms.get('no-such-room'));
  assert.ok(missing instanceof Error);
  assert.equal(missing.code, 'NOT_FOUND');
  assert.equal(missing.codeNumber, Webex.errorCodes.find((c) => c.name === 'NOT_FOUND').number);
  assert.equal(missing.statusCode, 404);
  assert.match(missing.trackingId, /\S/);
  assert.match(missing.message, /404/);

  const room = await webex.rooms.create({title: 'errors'});
  await webex.memberships.create({roomId: room.id, personEmail: ALICE});
  const dup = await rejection(webex.memberships.create({roomId: room.id, personEmail: ALICE}));
  assert.equal(dup.code, 'CONFLICT');
  assert.equal(dup.statusCode, 409);

  // A Retry-After beyond the engine's patience is not slept through: RATE_LIMITED with the wait.
  env.sandbox.injectFault({path: '/v1/people/me', status: 429, retryAfter: 3600, count: 0});
  const limited = await rejection(webex.people.me());
  assert.equal(limited.code, 'RATE_LIMITED');
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.retryAfter, 3600);
  env.sandbox.clearFaults();

  env.sandbox.injectFault({path: '/v1/rooms', method: 'POST', status: 500, count: 0});
  const server = await rejection(webex.rooms.create({title: 'x'}));
  assert.equal(server.code, 'SERVER');
  assert.equal(server.statusCode, 500);
  env.sandbox.clearFaults();

  const stranger = Webex.init({...env.sandbox.config(), credentials: {access_token: 'not-a-token'}});
  t.after(() => stranger.close());
  assert.equal((await rejection(stranger.people.me())).code, 'UNAUTHORIZED');
});

test('bad input is a clear rejection (wrong types, missing or unknown members)', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client();
  const cases = [
    [() => webex.rooms.create({title: 5}), /rooms\.create: invalid params at `title`: invalid type: integer `5`, expected a string/],
    [() => webex.rooms.create({}), /rooms\.create: invalid params: missing field `title`/],
    [() => webex.rooms.create({titel: 'x'}), /unknown field `titel`/],
    [() => webex.rooms.create({title: 't', isLocked: 'yes'}), /isLocked/],
    [() => webex.rooms.get({}), /^rooms\.get: `roomId` is required$/],
    [() => webex.rooms.get({roomId: 42}), /`roomId` must be a non-empty string/],
    [() => webex.rooms.create('My Room'), /rooms\.create: params must be an object, got a string of 7 characters/],
    [() => webex.rooms.list([1]), /params must be an object, got an array/],
    [() => webex.rooms.create({title: 1n}), /params cannot be sent as JSON/],
    // The official SDK's HTTP form of `request` is named, with where it lives here.
    [() => webex.request({service: 'hydra', resource: 'people/me'}), /use webex\.http\.request\(\{method, service, resource/],
    [() => webex.http.request({method: 'FETCH ME', resource: 'x'}), /is not an HTTP method/],
    [() => webex.request('rooms.creat', {}), /unknown operation 'rooms\.creat'; did you mean 'rooms\.create'\?/],
  ];
  for (const [call, message] of cases) {
    const err = await rejection(call());
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'INVALID_ARGUMENT', err.message);
    assert.match(err.message, message);
  }
});

test('a bad config throws at init, naming the path', () => {
  assert.throws(() => Webex.init({meetings: {bandwidth: {video: 'fast'}}}), {
    code: 'INVALID_ARGUMENT',
    message: 'meetings.bandwidth.video: expected a positive integer, got "fast"',
  });
  assert.throws(() => Webex.init('token'), {code: 'INVALID_ARGUMENT', message: /expected a config object/});
});

test('a closed client rejects with CLOSED; calls in flight with CANCELLED', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client(ALICE);
  await webex.people.me();
  env.sandbox.injectFault({path: '/v1/people/me', delayMs: 60000, count: 3});
  const inFlight = [webex.people.me(), webex.people.me(), webex.people.me()].map(rejection);
  // The sandbox holds those answers for a minute: they are still in flight at close.
  const closing = webex.close();
  assert.equal(webex.closed, true);
  const after = await rejection(webex.rooms.list());
  assert.equal(after.code, 'CLOSED');
  assert.match(after.message, /rooms\.list: this client was closed; create a new one with Webex\.init\(\)/);
  await closing;
  for (const err of await Promise.all(inFlight)) assert.equal(err.code, 'CANCELLED');
  await webex.close(); // a second close is fine
  env.sandbox.clearFaults();
});

test('a secret passed where an object belongs is never echoed in the error', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const token = 'NmU4ZjE2YzEtSECRET-TOKEN-abcdef0123456789';
  assert.throws(() => Webex.init(token), (err) => err.code === 'INVALID_ARGUMENT' && !err.message.includes('SECRET'));
  const webex = env.client();
  const err = await rejection(webex.credentials.set(token));
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.ok(!err.message.includes('SECRET'), err.message);
  assert.match(err.message, /a string of 41 characters/);
});

test('sandbox errors carry the package codes', async () => {
  const sandbox = await Webex.Sandbox.start();
  assert.throws(() => sandbox.injectFault({}), {code: 'INVALID_ARGUMENT'});
  await sandbox.stop();
  assert.throws(() => sandbox.requests(), {code: 'CLOSED'});
  assert.throws(() => sandbox.clearFaults(), {code: 'CLOSED'});
});

test('a rejection carries the stack of the call that made it', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client();
  async function theAppsCallingFunction() {
    return webex.rooms.get('no-such-room');
  }
  const err = await rejection(theAppsCallingFunction());
  assert.equal(err.code, 'NOT_FOUND');
  assert.match(err.stack, /^Error: GET \/v1\/rooms\/no-such-room failed/);
  assert.match(err.stack, /at theAppsCallingFunction/, 'the app can find its call');
});
