// The quick start in TypeScript: the same workflow as quickstart.js, typed by node/index.d.ts
// (generated from the engine's operation table). Type-checked by `tsc -p examples/node`.
import Webex, {Sandbox, type Message, type WebexError} from 'webex-native';

async function main(): Promise<void> {
  const sandbox: Sandbox | undefined = process.env.WEBEX_ACCESS_TOKEN ? undefined : await Sandbox.start();
  const webex = Webex.init(sandbox ? sandbox.config() : {credentials: {access_token: process.env.WEBEX_ACCESS_TOKEN}});
  await new Promise<void>((resolve) => webex.once('ready', () => resolve()));

  const room = await webex.rooms.create({title: 'My First Room'});
  await Promise.all([
    webex.memberships.create({roomId: room.id, personEmail: 'alice@example.com'}),
    webex.memberships.create({roomId: room.id, personEmail: 'bob@example.com'}),
  ]);
  const message: Message = await webex.messages.create({markdown: '**Hi Everyone**', roomId: room.id});
  console.log(`said ${message.markdown} in ${room.title ?? room.id}`);

  const first = await webex.messages.list({roomId: room.id, max: 10});
  console.log(`first page: ${first.items.length} message(s), more: ${first.hasNext()}`);
  for await (const m of webex.memberships.list({roomId: room.id})) console.log(`member ${m.personEmail}`);

  webex.messages.on('created', (event) => console.log(`new message ${event.data.id}`));
  try {
    await webex.rooms.get('no-such-room');
  } catch (e) {
    const err = e as WebexError;
    console.log(`expected: ${err.code} (HTTP ${err.statusCode}, tracking id ${err.trackingId})`);
  }

  await webex.close();
  await sandbox?.stop();
}

main().catch((err: WebexError) => {
  console.error(`quickstart failed: ${err.code} ${err.message}`);
  process.exit(1);
});
