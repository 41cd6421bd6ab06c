// The seed's quick start, unchanged but for the package name, on the embedded sandbox.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {setup} = require('./helpers');

test('the seed snippet runs as written', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const {sandbox} = env;
  process.env.HYDRA_SERVICE_URL = sandbox.hydra;
  process.env.U2C_SERVICE_URL = sandbox.u2c;
  t.after(() => {
    delete process.env.HYDRA_SERVICE_URL;
    delete process.env.U2C_SERVICE_URL;
  });
  const token = sandbox.bot.token;

  // ---- the seed, verbatim (package name changed) ----
  const Webex = require('..');
  const webex = Webex.init({credentials: {access_token: token}});
  const ready = new Promise((resolve) => webex.once('ready', resolve));
  const result = webex.rooms.create({title: 'My First Room'}).then((room) =>
    Promise.all([
      webex.memberships.create({roomId: room.id, personEmail: 'alice@example.com'}),
      webex.memberships.create({roomId: room.id, personEmail: 'bob@example.com'}),
    ]).then(() => webex.messages.create({markdown: '**Hi Everyone**', roomId: room.id}))
  );
  // ---- end of the seed ----

  t.after(() => webex.close());
  await ready;
  const message = await result;
  assert.equal(message.markdown, '**Hi Everyone**');
  assert.equal(message.text, 'Hi Everyone');
  const members = await webex.memberships.list({roomId: message.roomId});
  assert.deepEqual(members.items.map((m) => m.personEmail).sort(), ['alice@example.com', 'bob@example.com', sandbox.bot.email].sort());
});
