// Type-checked (never run) under TypeScript's `nodenext`, as an ES module app imports the
// package: the default export is the client class, the rest are named exports.
import Webex, {Sandbox, Page} from 'webex-native';
import type {Config, Room} from 'webex-native';

export async function esm(): Promise<number> {
  const sb = await Sandbox.start();
  const config: Config = sb.config();
  const webex = Webex.init(config);
  const page: Page<Room> = await webex.rooms.list();
  await webex.close();
  await sb.stop();
  return page.items.length;
}
