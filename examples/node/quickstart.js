// The quick start in Node.js: the official SDK's first workflow, written as its docs write it
// (only the package name differs): wait for `ready`, create "My First Room", add Alice and Bob
// at the same time, say `**Hi Everyone**`, then list what the room holds.
//
// With no WEBEX_ACCESS_TOKEN it starts the embedded sandbox (a local Webex cloud) in this
// process and acts as its bot; with a token it talks to the real Webex cloud.
//
// Run: node examples/node/quickstart.js (with the webex-native package installed)
'use strict';

const Webex = require('webex-native');

async function main() {
  let sandbox;
  let config;
  if (process.env.WEBEX_ACCESS_TOKEN) {
    console.log('1. Using WEBEX_ACCESS_TOKEN against the real Webex cloud');
    config = {credentials: {access_token: process.env.WEBEX_ACCESS_TOKEN}};
  } else {
    sandbox = await Webex.Sandbox.start();
    console.log(`1. Started the embedded sandbox at ${sandbox.url} as ${sandbox.bot.email}`);
    config = sandbox.config();
  }

  const webex = Webex.init(config);
  await new Promise((resolve) => webex.once('ready', resolve));
  console.log('2. The client is ready');

  const message = await webex.rooms.create({title: 'My First Room'}).then((room) => {
    console.log(`3. Created room "${room.title}" (${room.id})`);
    return Promise.all([
      webex.memberships.create({roomId: room.id, personEmail: 'alice@example.com'}),
      webex.memberships.create({roomId: room.id, personEmail: 'bob@example.com'}),
    ]).then((members) => {
      console.log(`4. Added ${members.map((m) => m.personEmail).join(' and ')}`);
      return webex.messages.create({markdown: '**Hi Everyone**', roomId: room.id});
    });
  });
  console.log(`5. Said "${message.markdown}" (rendered: ${message.html || message.text})`);

  console.log('6. The room now holds:');
  for await (const m of webex.messages.list({roomId: message.roomId})) {
    console.log(`   - ${m.personEmail}: ${m.text}`);
  }
  for await (const m of webex.memberships.list({roomId: message.roomId})) {
    console.log(`   - member ${m.personEmail}`);
  }

  await webex.close();
  if (sandbox) await sandbox.stop();
}

main().catch((err) => {
  console.error(`quickstart failed: ${err.code || ''} ${err.message}`);
  process.exit(1);
});
