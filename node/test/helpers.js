// Shared set-up of the Node tests: one embedded sandbox per test file, clients acting as its
// users, and a way to wait for an event without sleeping.
'use strict';

const Webex = require('..');

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/** A sandbox and a factory of clients that are closed (with the sandbox) by `done()`. */
async function setup() {
  const sandbox = await Webex.Sandbox.start();
  const clients = [];
  return {
    sandbox,
    client(email) {
      const webex = Webex.init(sandbox.config(email));
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

/** The rejection of a promise that must reject. */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a result');
}

module.exports = {Webex, ALICE, BOB, setup, nextEvent, rejection};
