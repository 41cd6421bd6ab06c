// Type-checked (never run) under TypeScript's `nodenext`, as a CommonJS app imports the
// package.
import Webex from 'webex-native';
import type {Room} from 'webex-native';

export function cjs(): Promise<Room> {
  return Webex.init({credentials: {access_token: 'x'}}).rooms.get('x');
}
