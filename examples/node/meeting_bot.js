// A meeting bot in Node.js, against the embedded sandbox (a local Webex cloud with a media
// server): the bot schedules a meeting and says 440 Hz for 2 s; Alice, listening, prints the
// roster and the dominant frequency she heard from the bot.
//
// Audio is 48 kHz 16-bit PCM in 20 ms frames (960 samples): `meetings.sendAudio` takes one
// frame (synchronous, never blocks; pace it in real time), `meetings.onAudio` hands each
// received frame to a handler on the JS thread.
//
// Run: node examples/node/meeting_bot.js (with the webex-native package installed, or with
// NODE_PATH pointing at a folder holding it)
// @ts-check
'use strict';

const {Webex, Sandbox} = require('webex-native');

const RATE = 48000;
const FRAME = 960; // samples per 20 ms frame
const SECONDS = 2;

/**
 * Frame `index` of a continuous `hz` tone (mono).
 * @param {number} hz
 * @param {number} index
 */
function toneFrame(hz, index) {
  const pcm = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) pcm[i] = Math.trunc(Math.sin((2 * Math.PI * hz * (index * FRAME + i)) / RATE) * 8000);
  return pcm;
}

/**
 * The strongest frequency between `lo` and `hi` Hz (1 Hz steps) of mono PCM (Goertzel).
 * @param {Int16Array} samples
 * @param {number} lo
 * @param {number} hi
 */
function dominantFrequency(samples, lo, hi) {
  let best = lo;
  let bestPower = -1;
  for (let f = lo; f <= hi; f++) {
    const c = 2 * Math.cos((2 * Math.PI * f) / RATE);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] + c * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    const power = s1 * s1 + s2 * s2 - c * s1 * s2;
    if (power > bestPower) [best, bestPower] = [f, power];
  }
  return best;
}

async function main() {
  const sandbox = await Sandbox.start();
  console.log(`1. Started the embedded sandbox at ${sandbox.url}`);
  const bot = Webex.init(sandbox.config()); // the sandbox's bot
  const alice = Webex.init(sandbox.config('alice@example.com'));

  const scheduled = await bot.scheduledMeetings.create({
    title: 'Tone check',
    start: '2030-01-01T10:00:00Z',
    end: '2030-01-01T10:30:00Z',
  });
  const number = String(scheduled.meetingNumber);
  console.log(`2. ${sandbox.bot.email} scheduled "${scheduled.title}" (meeting number ${number})`);

  // The bot joins with audio (join resolves once media is connected).
  const botMeeting = await bot.meetings.create({destination: number});
  const botView = await bot.meetings.join({meetingId: botMeeting.id, audio: {send: true, receive: true}});
  console.log(`3. The bot joined: ${botView.state}, media ${botView.mediaState}`);

  // Alice listens: every frame of every speaker, by participant id.
  const aliceMeeting = await alice.meetings.create({destination: number});
  /** @type {Map<string, Int16Array[]>} */
  const heard = new Map();
  alice.meetings.onAudio(aliceMeeting.id, (frame) => {
    const who = frame.participantId || 'unknown';
    const chunks = heard.get(who) || [];
    chunks.push(frame.pcm);
    heard.set(who, chunks);
  });
  await alice.meetings.join({meetingId: aliceMeeting.id, audio: {send: false, receive: true}});
  console.log('4. Alice joined to listen');

  // The bot says 440 Hz: one frame every 20 ms, for 2 s.
  await new Promise((resolve) => {
    let next = 0;
    const timer = setInterval(() => {
      bot.meetings.sendAudio(botMeeting.id, toneFrame(440, next++));
      if (next === (SECONDS * RATE) / FRAME) {
        clearInterval(timer);
        resolve(undefined);
      }
    }, 20);
  });
  console.log(`5. The bot said 440 Hz for ${SECONDS} s`);
  alice.meetings.onAudio(aliceMeeting.id, null); // frames still on their way are not needed

  const roster = await alice.meetings.members(aliceMeeting.id);
  console.log('6. The roster Alice sees:');
  for (const m of roster) console.log(`   - ${m.name} <${m.email}> ${m.status}${m.audioMuted ? ' (muted)' : ''}`);

  const botId = botView.selfId;
  const chunks = (botId && heard.get(botId)) || [];
  const pcm = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (pcm.set(c, at), at + c.length), 0);
  const last = pcm.subarray(Math.max(0, pcm.length - RATE / 2)); // the last 0.5 s
  const hz = last.length ? dominantFrequency(last, 100, 1000) : 0;
  console.log(`7. Alice heard ${(pcm.length / RATE).toFixed(2)} s from the bot; dominant frequency ${hz} Hz`);

  await Promise.all([bot.meetings.leave(botMeeting.id), alice.meetings.leave(aliceMeeting.id)]);
  await Promise.all([bot.close(), alice.close()]);
  await sandbox.stop();
  if (Math.abs(hz - 440) > 5) throw new Error(`expected 440 Hz, heard ${hz} Hz`);
  console.log('8. Left, closed, stopped');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
