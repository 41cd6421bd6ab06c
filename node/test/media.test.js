// Meeting audio end to end against the sandbox's media server, as tests/media.rs and
// tests/reconnect.rs do it in Rust: Alice's 440 Hz tone (sendAudio, paced by a 20 ms timer)
// reaches Bob (onAudio), her mute stops her packets at the server, bad frames get clear
// errors, an audio handler never keeps the process alive (the meeting does, until left), and
// with reconnection enabled her media comes back by itself after the server cut it.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {spawnSync} = require('node:child_process');
const path = require('node:path');
const {ALICE, BOB, setup, nextEvent, within} = require('./helpers');

const RATE = 48000;
const FRAME = 960; // samples per 20 ms frame

/** Frame `index` of a continuous `hz` tone, mono. */
function toneFrame(hz, index) {
  const pcm = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) pcm[i] = Math.trunc(Math.sin((2 * Math.PI * hz * (index * FRAME + i)) / RATE) * 8000);
  return pcm;
}

/** Power of `freq` Hz in `samples` (Goertzel). */
function tonePower(samples, freq) {
  const c = 2 * Math.cos((2 * Math.PI * freq) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/** The strongest frequency between `lo` and `hi` Hz (1 Hz steps) of mono 48 kHz PCM. */
function dominantFrequency(samples, lo, hi) {
  let best = lo;
  let bestPower = -1;
  for (let f = lo; f <= hi; f++) {
    const p = tonePower(samples, f);
    if (p > bestPower) [best, bestPower] = [f, p];
  }
  return best;
}

/**
 * Alice's voice: one tone frame every 20 ms from a timer. `after(n)` resolves once n more
 * frames went out (counted by the timer, no polling). With `lossy`, frames refused with
 * `CLOSED` (while her media reconnects) are lost, as a live microphone's would be, and
 * counted in `refused`.
 */
function speaker(webex, meetingId, {lossy = false} = {}) {
  let next = 0;
  const waiting = [];
  const voice = {refused: 0};
  const timer = setInterval(() => {
    try {
      webex.meetings.sendAudio(meetingId, toneFrame(440, next++));
    } catch (err) {
      if (!lossy || err.code !== 'CLOSED') throw err;
      voice.refused++;
    }
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (next >= waiting[i].until) waiting.splice(i, 1)[0].resolve();
    }
  }, 20);
  return Object.assign(voice, {
    after: (n) => new Promise((resolve) => waiting.push({until: next + n, resolve})),
    stop: () => clearInterval(timer),
  });
}

/**
 * Bob's ears: the frames of his onAudio handler. `hear(samples)` resolves with the PCM of the
 * first `samples` (or a little more) arriving after the call; rejects after 10 s without.
 */
function listener() {
  const frames = [];
  let want = null;
  return {
    frames,
    handler(frame) {
      frames.push(frame);
      if (!want) return;
      want.pcm.push(frame.pcm);
      want.count += frame.pcm.length;
      if (want.count >= want.samples) {
        const done = want;
        want = null;
        clearTimeout(done.timer);
        const all = new Int16Array(done.count);
        let at = 0;
        for (const chunk of done.pcm) all.set(chunk, (at += chunk.length) - chunk.length);
        done.resolve(all);
      }
    },
    hear(samples) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const count = want ? want.count : 0;
          want = null;
          reject(new Error(`Bob heard ${count} of ${samples} samples in 10 s`));
        }, 10000);
        want = {samples, count: 0, pcm: [], resolve, timer};
      });
    },
  };
}

const aliceMuted = (muted) => (update) => update.full.some((m) => m.email === ALICE && m.audioMuted === muted);

async function scheduledMeeting(webex) {
  const meeting = await webex.scheduledMeetings.create({
    title: 'Tone check',
    start: '2030-01-01T10:00:00Z',
    end: '2030-01-01T10:30:00Z',
  });
  return meeting.meetingNumber;
}

const AUDIO = {send: true, receive: true};

test("Bob hears Alice's 440 Hz tone, then her mute; bad frames and frames after leaving are refused", async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const alice = env.client(ALICE);
  const bob = env.client(BOB);
  const number = await scheduledMeeting(alice);

  const a = await alice.meetings.create({destination: number});
  const aView = await alice.meetings.join({meetingId: a.id, audio: AUDIO});
  assert.equal(aView.state, 'JOINED');
  assert.equal(aView.mediaState, 'CONNECTED');
  const aliceId = aView.selfId;
  assert.ok(aliceId);

  // Bob's handler is set before he joins; Alice already talks while he joins.
  const b = await bob.meetings.create({destination: number});
  const ears = listener();
  bob.meetings.onAudio(b.id, ears.handler);
  const voice = speaker(alice, a.id);
  t.after(() => voice.stop());
  const first = ears.hear(FRAME);
  const bView = await bob.meetings.join({meetingId: b.id, audio: AUDIO});
  assert.equal(bView.mediaState, 'CONNECTED');
  await first;

  // The tone: half a second of Bob's PCM from Alice peaks at 440 Hz.
  const pcm = await ears.hear(RATE / 2);
  const f = dominantFrequency(pcm.subarray(pcm.length - RATE / 2), 300, 600);
  assert.ok(f >= 435 && f <= 445, `Bob hears ${f} Hz`);
  for (const frame of ears.frames) {
    assert.equal(frame.meetingId, b.id);
    assert.equal(frame.participantId, aliceId, 'Bob hears only Alice, by her participant id');
    assert.ok(frame.pcm instanceof Int16Array);
    assert.equal(frame.pcm.length, frame.frames * frame.channels);
    assert.deepEqual([frame.frames, frame.channels, frame.sampleRate], [FRAME, 1, RATE]);
    assert.equal(frame.dropped, 0);
  }
  console.log(`media: Bob got ${ears.frames.length} frames of Alice, ${f} Hz`);

  // Mute: once Bob's roster shows it, Alice's further frames never reach the server.
  const shown = nextEvent(bob, 'members:update', (u) => u.meetingId === b.id && aliceMuted(true)(u));
  assert.equal((await alice.meetings.muteAudio(a.id)).audioMuted, true);
  await shown;
  const packets = () => env.sandbox.meetingControl(number, 'media').find((m) => m.email === ALICE).audioPackets;
  const before = packets();
  assert.ok(before > 0);
  await voice.after(25);
  assert.equal(packets(), before, 'muted Alice sent packets');

  // Bad frames: the engine's errors, thrown synchronously.
  const wrong = (fn) => assert.throws(fn, (e) => e.code === 'INVALID_ARGUMENT' && typeof e.codeNumber === 'number');
  assert.throws(
    () => alice.meetings.sendAudio(a.id, new Int16Array(500)),
    (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('500') && e.message.includes('480 or 960'),
  );
  wrong(() => alice.meetings.sendAudio(a.id, toneFrame(440, 0), 3));
  wrong(() => alice.meetings.sendAudio(a.id, [0, 1, 2]));
  wrong(() => alice.meetings.sendAudio(a.id, Buffer.alloc(1919)));
  wrong(() => alice.meetings.sendAudio(a.id, toneFrame(440, 0), 1.5));
  wrong(() => bob.meetings.onAudio(b.id, 'not a function'));
  assert.throws(() => alice.meetings.sendAudio('no such meeting', toneFrame(440, 0)), {code: 'NOT_FOUND'});
  assert.throws(() => bob.meetings.onAudio('no such meeting', () => {}), {code: 'NOT_FOUND'});
  // A Buffer of int16 LE is taken as well (also at an odd offset).
  alice.meetings.sendAudio(a.id, Buffer.from(toneFrame(440, 0).buffer));
  alice.meetings.sendAudio(a.id, Buffer.concat([Buffer.alloc(1), Buffer.alloc(2 * FRAME)]).subarray(1));

  // Leaving: her frames are refused with CLOSED.
  voice.stop();
  await alice.meetings.leave(a.id);
  assert.throws(
    () => alice.meetings.sendAudio(a.id, toneFrame(440, 0)),
    (e) => e.code === 'CLOSED' && e.message.includes('LEFT'),
  );

  // Clearing the handler, twice; after close, sending is CLOSED and clearing does nothing.
  bob.meetings.onAudio(b.id, null);
  bob.meetings.onAudio(b.id, null);
  await alice.close();
  assert.throws(() => alice.meetings.sendAudio(a.id, toneFrame(440, 0)), {code: 'CLOSED'});
  assert.throws(() => alice.meetings.onAudio(a.id, () => {}), {code: 'CLOSED'});
  alice.meetings.onAudio(a.id, null);
});

test('the sandbox cuts Alice\'s media; with reconnection enabled it comes back and Bob hears her again', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const alice = env.client(ALICE, {meetings: {reconnection: {enabled: true}}});
  const bob = env.client(BOB);
  const number = await scheduledMeeting(alice);
  const a = await alice.meetings.create({destination: number});
  const aliceId = (await alice.meetings.join({meetingId: a.id, audio: AUDIO})).selfId;
  const b = await bob.meetings.create({destination: number});
  const ears = listener();
  bob.meetings.onAudio(b.id, ears.handler);
  assert.equal((await bob.meetings.join({meetingId: b.id, audio: AUDIO})).mediaState, 'CONNECTED');
  const voice = speaker(alice, a.id, {lossy: true});
  t.after(() => voice.stop());

  // Bob hears Alice's 440 Hz (the last half second of a second of it).
  const heard = async (what) => {
    const from = ears.frames.length;
    const pcm = await ears.hear(RATE);
    const f = dominantFrequency(pcm.subarray(pcm.length - RATE / 2), 300, 600);
    assert.ok(f >= 435 && f <= 445, `${what}: Bob hears ${f} Hz`);
    assert.ok(ears.frames.slice(from).every((frame) => frame.participantId === aliceId), `${what}: Bob hears only Alice`);
    return f;
  };
  await heard('before the cut');

  // The media server drops her session; Locus still has her in the meeting.
  const events = [];
  for (const kind of ['reconnectionStarting', 'reconnectionSuccess', 'reconnectionFailure']) {
    alice.on(`meeting:${kind}`, (e) => e.meetingId === a.id && events.push({kind, attempt: e.attempt}));
  }
  const back = nextEvent(alice, 'meeting:reconnectionSuccess', (e) => e.meetingId === a.id);
  assert.deepEqual(env.sandbox.meetingControl(number, 'cut', {email: ALICE}), {});
  await within(back, 30000, "Alice's reconnectionSuccess");
  assert.deepEqual(events, [
    {kind: 'reconnectionStarting', attempt: 1},
    {kind: 'reconnectionSuccess', attempt: 1},
  ]);
  const view = await alice.meetings.get(a.id);
  assert.deepEqual([view.state, view.mediaState], ['JOINED', 'CONNECTED']);

  const f = await heard('after the reconnection');
  console.log(`media: Alice reconnected (${voice.refused} frame(s) refused meanwhile); Bob hears ${f} Hz again`);

  // The control's own errors: the sandbox's message, as INVALID_ARGUMENT.
  assert.throws(() => env.sandbox.meetingControl(number, 'cut', {}), (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('email'));
  assert.throws(() => env.sandbox.meetingControl(number, 'explode'), (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('explode'));
  assert.throws(() => env.sandbox.meetingControl('999', 'end'), (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('not running'));
  assert.throws(() => env.sandbox.meetingControl(number, 'cut', 'alice'), (e) => e.code === 'INVALID_ARGUMENT' && e.message.includes('object'));
});

test('an audio handler never keeps the process alive', () => {
  // The child hears a frame, then stops its timer and both leave the meeting (which kept the
  // process alive), leaving everything else as it is: Bob's handler set, both clients open,
  // the sandbox running. It must exit.
  const script = `
    const Webex = require('.');
    (async () => {
      const sb = await Webex.Sandbox.start();
      globalThis.sandbox = sb; // kept: a sandbox nobody references is stopped by its finalizer
      const alice = Webex.init(sb.config('${ALICE}'));
      const bob = Webex.init(sb.config('${BOB}'));
      const {meetingNumber} = await alice.scheduledMeetings.create({title: 't', start: '2030-01-01T10:00:00Z', end: '2030-01-01T10:30:00Z'});
      const a = await alice.meetings.create({destination: meetingNumber});
      await alice.meetings.join({meetingId: a.id, audio: {send: true, receive: true}});
      const b = await bob.meetings.create({destination: meetingNumber});
      let timer;
      bob.meetings.onAudio(b.id, (frame) => {
        if (!timer) return;
        clearInterval(timer);
        timer = undefined;
        console.log('heard', frame.frames);
        Promise.all([alice.meetings.leave(a.id), bob.meetings.leave(b.id)]).catch((e) => console.error('leave failed:', e.message));
      });
      await bob.meetings.join({meetingId: b.id, audio: {send: true, receive: true}});
      timer = setInterval(() => alice.meetings.sendAudio(a.id, new Int16Array(960)), 20);
    })();`;
  const run = spawnSync(process.execPath, ['-e', script], {cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 120000});
  assert.equal(run.error, undefined, `the process did not exit by itself: ${run.error} (stderr: ${run.stderr})`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'heard 960\n', run.stderr);
});
