// The sandbox over HTTPS (`Sandbox.start({tls: true})`), as the real cloud is only reachable:
// its config carries the CA to trust, so REST and live events work; without that CA the
// client refuses the server with an error that names the fix.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {Webex, ALICE, nextEvent, rejection} = require('./helpers');

test('REST and events over https:// with the sandbox CA', async (t) => {
  const sandbox = await Webex.Sandbox.start({tls: true});
  assert.match(sandbox.url, /^https:\/\//);
  assert.match(sandbox.caCertificate, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(sandbox.config().http.caCertificates, sandbox.caCertificate);
  const bot = Webex.init(sandbox.config());
  const alice = Webex.init(sandbox.config(ALICE));
  t.after(async () => {
    await Promise.all([bot.close(), alice.close()]);
    await sandbox.stop();
  });
  const room = await bot.rooms.create({title: 'over TLS'});
  await bot.memberships.create({roomId: room.id, personEmail: ALICE});
  await alice.messages.listen();
  const created = nextEvent(alice.messages, 'created');
  const sent = await bot.messages.create({roomId: room.id, text: 'encrypted'});
  assert.equal((await created).data.id, sent.id);
  const create = sandbox.requests().filter((r) => r.method === 'POST' && r.path === '/v1/rooms');
  assert.deepEqual(create.map((r) => r.version), ['HTTP/2.0']);
});

test('without the CA the server is refused, by name, and nothing reaches it', async (t) => {
  const sandbox = await Webex.Sandbox.start({tls: true});
  const config = sandbox.config();
  delete config.http;
  const stranger = Webex.init(config);
  t.after(async () => {
    await stranger.close();
    await sandbox.stop();
  });
  const refused = await rejection(stranger.people.me());
  assert.equal(refused.code, 'NETWORK');
  assert.match(refused.message, /certificate is not trusted/);
  assert.match(refused.message, /http\.caCertificates/);
  assert.ok(!refused.message.includes(sandbox.token(sandbox.bot.email)));
  assert.deepEqual(sandbox.requests(), []);
});

test('Sandbox.start options are checked', async () => {
  await assert.rejects(Webex.Sandbox.start({tsl: true}), (e) => e.code === 'INVALID_ARGUMENT' && /unknown option 'tsl'/.test(e.message));
  await assert.rejects(Webex.Sandbox.start({tls: 'yes'}), (e) => e.code === 'INVALID_ARGUMENT' && /tls must be true or false/.test(e.message));
  const plain = await Webex.Sandbox.start();
  assert.equal(plain.caCertificate, null);
  assert.equal(plain.config().http, undefined);
  await plain.stop();
});
