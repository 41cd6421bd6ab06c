// Events as the official SDK delivers them: `ready` on the client, `listen()` then
// `on('created')` on the namespace (and `<resource>:<event>` on the client), held until a
// handler is attached.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {on} = require('node:events');
const {ALICE, setup, nextEvent} = require('./helpers');

test('ready is held until a handler is attached', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client();
  // Make sure the engine has emitted `ready` before anyone listens: a call completes after it.
  await webex.people.me();
  assert.equal(webex.ready, true);
  const data = await new Promise((resolve) => webex.once('ready', resolve));
  assert.deepEqual(data, {});
});

test("listen(), then messages.on('created') and 'messages:created' on the client", async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const bot = env.client();
  const alice = env.client(ALICE);
  const room = await bot.rooms.create({title: 'events'});
  await bot.memberships.create({roomId: room.id, personEmail: ALICE});
  await alice.messages.listen();

  const onNamespace = nextEvent(alice.messages, 'created', (e) => e.data.text === 'hello alice');
  const onClient = nextEvent(alice, 'messages:created', (e) => e.data.text === 'hello alice');
  const sent = await bot.messages.create({roomId: room.id, text: 'hello alice'});
  const event = await onNamespace;
  assert.equal(event.resource, 'messages');
  assert.equal(event.event, 'created');
  assert.equal(event.data.id, sent.id);
  assert.equal(event.data.roomId, room.id);
  assert.equal(event.actorId, env.sandbox.bot.personId);
  assert.equal(event.createdBy, env.sandbox.user(ALICE).personId);
  assert.equal((await onClient).data.id, sent.id);

  const deleted = nextEvent(alice.messages, 'deleted');
  await bot.messages.remove(sent.id);
  assert.equal((await deleted).data.id, sent.id);
  await alice.messages.stopListening();
});

test('resource events wait for their handler, in order, none dropped', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const bot = env.client();
  const alice = env.client(ALICE);
  const room = await bot.rooms.create({title: 'held'});
  await bot.memberships.create({roomId: room.id, personEmail: ALICE});
  await alice.messages.listen();
  await alice.memberships.listen();
  // Nobody handles messages yet. A membership event sent after the messages tells when the
  // engine has delivered them (the socket delivers in order).
  const sent = [];
  for (let i = 0; i < 20; i++) sent.push((await bot.messages.create({roomId: room.id, text: `held ${i}`})).id);
  const marker = nextEvent(alice.memberships, 'created');
  await bot.memberships.create({roomId: room.id, personEmail: 'bob@example.com'});
  await marker;

  const received = [];
  const all = new Promise((resolve) => {
    alice.messages.on('created', (e) => {
      received.push(e.data.id);
      if (received.length === sent.length) resolve();
    });
  });
  await all;
  assert.deepEqual(received, sent);
});

test('rooms, memberships and attachmentActions events', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const bot = env.client();
  const alice = env.client(ALICE);
  await Promise.all([alice.rooms.listen(), alice.memberships.listen(), alice.attachmentActions.listen()]);
  const room = await bot.rooms.create({title: 'before'});
  const added = nextEvent(alice.memberships, 'created');
  await bot.memberships.create({roomId: room.id, personEmail: ALICE});
  assert.equal((await added).data.roomId, room.id);
  const renamed = nextEvent(alice.rooms, 'updated');
  await bot.rooms.update({roomId: room.id, title: 'after'});
  assert.equal((await renamed).data.id, room.id);
  const card = {content: {type: 'AdaptiveCard', version: '1.2', body: [], actions: [{type: 'Action.Submit', title: 'OK'}]}};
  const msg = await bot.messages.create({roomId: room.id, text: 'card', attachments: [card]});
  const submitted = nextEvent(alice.attachmentActions, 'created');
  const action = await alice.attachmentActions.create({type: 'submit', messageId: msg.id, inputs: {ok: true}});
  assert.equal((await submitted).data.id, action.id);
});

test('a handler that throws on a held event loses none of the others', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client(ALICE);
  const texts = ['m0', 'm1', 'm2', 'm3'];
  for (const text of texts) webex._event(JSON.stringify({type: 'messages:created', data: {data: {text}}}));
  const seen = [];
  let all;
  const done = new Promise((resolve) => (all = resolve));
  webex.messages.on('created', (e) => {
    seen.push(e.data.text);
    if (e.data.text === 'm1' && seen.length === 2) throw new Error('handler bug on m1');
    if (seen.length === texts.length) all();
  });
  // The held events go out when the listener is in place; deliver them now, as the engine's
  // next event would, and let the handler's error surface here instead of as uncaught.
  assert.throws(() => webex._flush(), /handler bug on m1/);
  await done;
  assert.deepEqual(seen, texts);
});

test('events nobody listens to are held up to a bound, with one warning', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client(ALICE);
  const warned = [];
  const onWarning = (w) => w.code === 'WEBEX_EVENTS_HELD' && warned.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  for (let i = 0; i < 1010; i++) webex._event(JSON.stringify({type: 'event:typing', data: {i}}));
  const got = [];
  webex.on('event:typing', (e) => got.push(e.i));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(got.length, 1000);
  assert.equal(got[0], 10, 'the oldest went first');
  assert.equal(warned.length, 1);
});

test("close() ends with one 'close' event", async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client(ALICE);
  let closes = 0;
  webex.on('close', () => closes++);
  await webex.close();
  assert.equal(closes, 1);
  await webex.close().catch(() => {}); // a second close changes nothing
  assert.equal(closes, 1);
});

test("events.on(webex.messages, 'created', {close: ['close']}) ends when the client closes", async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const bot = env.client();
  const alice = env.client(ALICE);
  const room = await bot.rooms.create({title: 'loop'});
  await bot.memberships.create({roomId: room.id, personEmail: ALICE});
  await alice.messages.listen();
  const seen = [];
  // Without `close` on the namespace this loop would never end (the test would time out).
  const loop = (async () => {
    for await (const [event] of on(alice.messages, 'created', {close: ['close']})) {
      seen.push(event.data.text);
      await alice.close();
    }
  })();
  await bot.messages.create({roomId: room.id, text: 'the only one'});
  await loop;
  assert.deepEqual(seen, ['the only one']);
});
