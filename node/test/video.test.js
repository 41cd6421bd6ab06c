// Meeting video end to end against the sandbox's media server, as tests/video.rs does it in
// Rust: Bob sees the sandbox's media bot (its VP8 test pattern, from the bot's participant
// id, starting at a 320x240 keyframe), then Alice's frames (the same pattern pushed with
// sendVideo at 15 fps); his keyframe request reaches Alice; bad frames get clear errors.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {ALICE, BOB, setup, nextEvent, within} = require('./helpers');

const ASSET = path.join(__dirname, '..', '..', 'sandbox', 'assets', 'test-pattern-320x240.ivf');
const BOT = 'media-bot@sandbox.example';
const FRAME_US = 66667; // 15 fps

/** The frames of an IVF file: a header (its length at bytes 6..8), then per frame 12 bytes (u32 LE size, u64 LE pts) and the frame. */
function ivfFrames(file) {
  const data = fs.readFileSync(file);
  assert.equal(data.toString('latin1', 0, 4), 'DKIF', 'not an IVF file');
  const frames = [];
  for (let at = data.readUInt16LE(6); at + 12 <= data.length; ) {
    const size = data.readUInt32LE(at);
    at += 12;
    frames.push(data.subarray(at, at + size));
    at += size;
  }
  return frames;
}

/** A VP8 frame is a keyframe when bit 0 of its first byte is clear (RFC 6386 §9.1). */
const isKeyframe = (frame) => (frame[0] & 1) === 0;

const PATTERN = ivfFrames(ASSET);

/**
 * Bob's screen: the frames of his onVideo handler, by sender. `see(id, n)` resolves with the
 * first `n` frames of participant `id` (counting those already seen); rejects after 10 s
 * without them.
 */
function screen() {
  const bySender = new Map();
  const waits = [];
  return {
    bySender,
    handler(frame) {
      const list = bySender.get(frame.participantId) || [];
      list.push(frame);
      bySender.set(frame.participantId, list);
      for (let i = waits.length - 1; i >= 0; i--) {
        const w = waits[i];
        if (w.id === frame.participantId && list.length >= w.n) waits.splice(i, 1)[0].resolve(list.slice(0, w.n));
      }
    },
    see(id, n) {
      const list = bySender.get(id) || [];
      if (list.length >= n) return Promise.resolve(list.slice(0, n));
      return within(new Promise((resolve) => waits.push({id, n, resolve})), 10000, `${n} frames of ${id}`);
    },
  };
}

/** Alice's camera: the pattern in a loop, one frame every 66 ms from a timer. */
function camera(webex, meetingId) {
  let next = 0;
  const timer = setInterval(() => {
    const frame = PATTERN[next++ % PATTERN.length];
    webex.meetings.sendVideo(meetingId, frame, {keyframe: isKeyframe(frame), durationUs: FRAME_US});
  }, FRAME_US / 1000);
  return {stop: () => clearInterval(timer)};
}

/** Every frame is one of the pattern's, whole, starting at a 320x240 keyframe. */
function checkFrames(frames, meetingId) {
  assert.ok(frames[0].keyframe, 'the first frame is a keyframe');
  assert.deepEqual([frames[0].width, frames[0].height], [320, 240]);
  for (const f of frames) {
    assert.equal(f.meetingId, meetingId);
    assert.equal(f.codec, 'VP8');
    assert.ok(Buffer.isBuffer(f.data), 'data is a Buffer');
    assert.ok(PATTERN.some((p) => p.equals(f.data)), 'a frame that is not the test pattern');
    assert.equal(f.keyframe, isKeyframe(f.data));
    assert.equal(typeof f.rtpTimestamp, 'number');
    assert.equal(f.dropped, 0);
  }
}

test("Bob sees the media bot's test pattern and Alice's frames; bad frames are refused", async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const alice = env.client(ALICE);
  const bob = env.client(BOB);
  const {meetingNumber: number} = await alice.scheduledMeetings.create({
    title: 'Video check',
    start: '2030-01-01T10:00:00Z',
    end: '2030-01-01T10:30:00Z',
  });

  // Bob watches (his handler set before he joins), then the bot joins with its pattern.
  const b = await bob.meetings.create({destination: number});
  const tv = screen();
  bob.meetings.onVideo(b.id, tv.handler);
  const bView = await bob.meetings.join({meetingId: b.id, video: {receive: true}});
  assert.deepEqual([bView.state, bView.mediaState], ['JOINED', 'CONNECTED']);
  const botIn = nextEvent(bob, 'members:update', (u) => u.meetingId === b.id && u.full.some((m) => m.email === BOT));
  assert.deepEqual(env.sandbox.meetingControl(number, 'addBot', {video: 'VP8'}), {email: BOT});
  const botId = (await within(botIn, 10000, 'the bot in the roster')).full.find((m) => m.email === BOT).id;
  const fromBot = await tv.see(botId, 20);
  checkFrames(fromBot, b.id);
  assert.deepEqual([...tv.bySender.keys()], [botId], 'Bob sees only the bot, by its participant id');
  console.log(`video: Bob got ${fromBot.length} frames of the bot`);

  // Alice joins sending video and pushes the same pattern at 15 fps.
  const a = await alice.meetings.create({destination: number});
  const aView = await alice.meetings.join({meetingId: a.id, video: {send: true, codec: 'VP8'}});
  assert.deepEqual([aView.state, aView.mediaState], ['JOINED', 'CONNECTED']);
  const aliceId = aView.selfId;
  const cam = camera(alice, a.id);
  t.after(() => cam.stop());
  const fromAlice = await tv.see(aliceId, 15);
  checkFrames(fromAlice, b.id);
  console.log(`video: Bob got ${fromAlice.length} frames of Alice`);

  // Bob asks for a keyframe of Alice: her client is told to send one.
  const asked = nextEvent(alice, 'meeting:keyframeRequested', (e) => e.meetingId === a.id);
  assert.deepEqual(await bob.meetings.requestKeyframe({meetingId: b.id, participantId: aliceId}), {});
  await within(asked, 10000, "Alice's meeting:keyframeRequested");

  // Bad frames and arguments: thrown synchronously, named.
  const invalid = (fn, words = []) =>
    assert.throws(fn, (e) => e.code === 'INVALID_ARGUMENT' && typeof e.codeNumber === 'number' && words.every((w) => e.message.includes(w)));
  invalid(() => alice.meetings.sendVideo(a.id, Buffer.alloc(0)), ['empty']);
  invalid(() => alice.meetings.sendVideo(a.id, 'not a frame'), ['data', 'string']);
  invalid(() => alice.meetings.sendVideo(a.id, [1, 2, 3]), ['data', 'array']);
  invalid(() => alice.meetings.sendVideo(a.id, PATTERN[0], {keyframe: 'yes'}), ['keyframe']);
  invalid(() => alice.meetings.sendVideo(a.id, PATTERN[0], {durationUs: -1}), ['durationUs']);
  invalid(() => alice.meetings.sendVideo(a.id, PATTERN[0], {durationUs: 0}), ['duration']);
  invalid(() => alice.meetings.sendVideo(a.id, PATTERN[0], 'fast'), ['options']);
  invalid(() => alice.meetings.sendVideo(a.id, PATTERN[1], {keyframe: true}), ['keyframe']);
  invalid(() => bob.meetings.onVideo(b.id, 'not a function'), ['handler']);
  assert.throws(() => alice.meetings.sendVideo('no such meeting', PATTERN[0], {keyframe: true}), {code: 'NOT_FOUND'});
  assert.throws(() => bob.meetings.onVideo('no such meeting', () => {}), {code: 'NOT_FOUND'});
  // Any byte view is taken as its bytes (here a Uint8Array over part of an ArrayBuffer).
  const copy = new Uint8Array(new ArrayBuffer(PATTERN[0].length + 8), 8);
  copy.set(PATTERN[0]);
  alice.meetings.sendVideo(a.id, copy, {keyframe: true});

  // Leaving: her frames are refused with CLOSED; after close too.
  cam.stop();
  await alice.meetings.leave(a.id);
  assert.throws(
    () => alice.meetings.sendVideo(a.id, PATTERN[0], {keyframe: true}),
    (e) => e.code === 'CLOSED' && e.message.includes('LEFT'),
  );
  bob.meetings.onVideo(b.id, null);
  bob.meetings.onVideo(b.id, null);
  await alice.close();
  assert.throws(() => alice.meetings.sendVideo(a.id, PATTERN[0], {keyframe: true}), {code: 'CLOSED'});
  assert.throws(() => alice.meetings.onVideo(a.id, () => {}), {code: 'CLOSED'});
  alice.meetings.onVideo(a.id, null);
});
