// Shared set-up of the Node tests: one embedded sandbox per test file, clients acting as its
// users, and a way to wait for an event without sleeping.
'use strict';

const Webex = require('..');

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/**
 * A sandbox and a factory of clients that are closed (with the sandbox) by `done()`;
 * `client(email, extra)` adds `extra` to the user's config (e.g. `{meetings: {...}}`).
 */
async function setup() {
  const sandbox = await Webex.Sandbox.start();
  const clients = [];
  return {
    sandbox,
    client(email, extra = {}) {
      const webex = Webex.init({...sandbox.config(email), ...extra});
      clients.push(webex);
      return webex;
    },
    async done() {
      await Promise.all(clients.map((c) => c.close()));
      await sandbox.stop();
    },
  };
}

/** The next `name` event of `emitter`, optionally the first that satisfies `pred`. */
function nextEvent(emitter, name, pred = () => true) {
  return new Promise((resolve) => {
    const handler = (event) => {
      if (!pred(event)) return;
      emitter.off(name, handler);
      resolve(event);
    };
    emitter.on(name, handler);
  });
}

/**
 * `promise`, or a rejection naming `what` after `ms` (a hang guard for waits that have no
 * bound of their own; never a way to wait).
 */
function within(promise, ms, what) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** The rejection of a promise that must reject. */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a result');
}

module.exports = {Webex, ALICE, BOB, setup, nextEvent, within, rejection};
