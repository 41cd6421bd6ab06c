// Nothing blocks the event loop: results arrive through thread-safe functions, so a timer keeps
// firing while a burst of calls is in flight. Checked by order, not by time: timer ticks must
// interleave with the completions (a blocking binding would finish every call first).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {setup} = require('./helpers');

test('a timer keeps running during a burst of 400 calls', async (t) => {
  const env = await setup();
  t.after(() => env.done());
  const webex = env.client();
  const room = await webex.rooms.create({title: 'burst'});
  const timeline = [];
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    timeline.push('tick');
  }, 1);
  const calls = [];
  for (let i = 0; i < 400; i++) {
    calls.push(webex.messages.create({roomId: room.id, text: `burst ${i}`}).then(() => timeline.push('result')));
  }
  // Each call returned its Promise at once: nothing was answered inside the loop above.
  assert.equal(timeline.filter((e) => e === 'result').length, 0);
  await Promise.all(calls);
  clearInterval(timer);
  const first = timeline.indexOf('result');
  const last = timeline.lastIndexOf('result');
  const during = timeline.slice(first, last).filter((e) => e === 'tick').length;
  console.log(`timer ticks: ${ticks} in all, ${during} between the first and the last result`);
  assert.ok(during > 0, 'the timer fired while results were still arriving');
});
