// List operations: a Promise of the first page, async iteration across pages (`pages.next`
// with the page's cursor), and the pages themselves.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {Webex, setup} = require('./helpers');

test('lists: first page, every item across pages, pages, all()', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client();
  const room = await webex.rooms.create({title: 'paging'});
  const texts = [];
  for (let i = 0; i < 7; i++) {
    texts.push(`m${i}`);
    await webex.messages.create({roomId: room.id, text: `m${i}`});
  }

  const first = await webex.messages.list({roomId: room.id, max: 3});
  assert.ok(first instanceof Webex.Page);
  assert.equal(first.items.length, 3);
  assert.equal(first.length, 3);
  assert.equal(typeof first.cursor, 'string');
  assert.ok(first.hasNext());

  const seen = [];
  for await (const message of webex.messages.list({roomId: room.id, max: 3})) seen.push(message.text);
  assert.deepEqual(seen, [...texts].reverse(), 'newest first, every message once, across 3 pages');

  const sizes = [];
  for await (const page of webex.messages.list({roomId: room.id, max: 3}).pages()) sizes.push(page.items.length);
  assert.deepEqual(sizes, [3, 3, 1]);

  // The official SDK's idiom: `page.hasNext() && page.next()`.
  const second = first.hasNext() && (await first.next());
  assert.equal(second.items.length, 3);
  const last = await second.nextPage();
  assert.equal(last.items.length, 1);
  assert.equal(last.hasNext(), false);
  assert.equal(await last.nextPage(), null);
  assert.deepEqual([...last].map((m) => m.text), ['m0'], 'a page iterates its items');

  assert.equal((await webex.messages.list({roomId: room.id, max: 2}).all()).length, 7);

  // The `.then` of a list is the first page's; errors reject it and the iteration alike.
  const err = await webex.messages.list({roomId: room.id, max: 'three'}).catch((e) => e);
  assert.equal(err.code, 'INVALID_ARGUMENT');
  await assert.rejects(async () => {
    for await (const _ of webex.messages.list({roomId: 'no-such-room'})) assert.fail('no items');
  }, {code: 'NOT_FOUND'});
});
