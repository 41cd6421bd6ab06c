#!/usr/bin/env node
// Generates index.d.ts from the engine's operation table (describe_operations: every
// operation's name, doc, kind, idParam and the JSON Schemas of its params and result), so the
// typed surface cannot drift from what the engine accepts. `--check` compares instead of
// writing and exits 1 when the committed file differs (the drift test runs it).
'use strict';

const fs = require('fs');
const path = require('path');
const native = require('../native');

const OUT = path.join(__dirname, '..', 'index.d.ts');
const ops = JSON.parse(native.operations());
const codes = JSON.parse(native.errorCodes());

// ---- JSON Schema -> TypeScript -------------------------------------------------------------

const named = new Map(); // type name -> {key, text}
const order = [];

const pascal = (s) => s.replace(/(^|[._-])([a-z])/g, (_, __, c) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
const isIdent = (s) => /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s);
const prop = (s) => (isIdent(s) ? s : JSON.stringify(s));

function doc(text, indent) {
  if (!text) return '';
  const lines = String(text).replace(/\*\//g, '*\\/').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

/** Register a named declaration; the same declaration under the same name is made once. */
function declare(name, render) {
  for (let n = 1; ; n++) {
    const unique = n === 1 ? name : `${name}${n}`;
    const text = render(unique);
    if (!named.has(unique)) {
      named.set(unique, text);
      order.push(unique);
      return unique;
    }
    if (named.get(unique) === text) return unique;
  }
}

function tsType(schema, defs, indent) {
  if (schema === true || schema === undefined || schema === null) return 'unknown';
  if (schema === false) return 'never';
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/\$defs\//, '');
    const def = defs && defs[name];
    if (!def) return 'unknown';
    return declare(pascal(name), (unique) => declaration(unique, def, defs));
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = schema.anyOf || schema.oneOf;
  if (union) return [...new Set(union.map((s) => tsType(s, defs, indent)))].join(' | ');
  if (schema.allOf) return schema.allOf.map((s) => tsType(s, defs, indent)).join(' & ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (!types.length) return schema.properties ? objectType(schema, defs, indent) : 'unknown';
  return types
    .map((t) => {
      switch (t) {
        case 'string':
          // Open string enums (`examples`): the known values, and any other string.
          return Array.isArray(schema.examples) && schema.examples.every((e) => typeof e === 'string')
            ? `${schema.examples.map((e) => JSON.stringify(e)).join(' | ')} | (string & {})`
            : 'string';
        case 'integer':
        case 'number':
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array':
          return `Array<${tsType(schema.items, defs, indent)}>`;
        case 'object':
          return objectType(schema, defs, indent);
        default:
          return 'unknown';
      }
    })
    .join(' | ');
}

function objectType(schema, defs, indent) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const inner = `${indent}  `;
  const lines = [];
  for (const [name, sub] of Object.entries(props)) {
    lines.push(`${doc(sub.description, inner)}${inner}${prop(name)}${required.has(name) ? '' : '?'}: ${tsType(sub, defs, inner)};`);
  }
  const extra = schema.additionalProperties;
  if (extra !== false) {
    const value = extra && extra !== true ? tsType(extra, defs, inner) : 'unknown';
    // Models keep members the engine does not know (the cloud adds some).
    lines.push(`${inner}[member: string]: ${value};`);
  }
  if (!lines.length) return '{}';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function declaration(name, schema, defs) {
  const type = tsType(schema, defs, '');
  const head = doc(schema.description, '');
  if (type.startsWith('{') && !type.includes('} |')) return `${head}export interface ${name} ${type}`;
  return `${head}export type ${name} = ${type};`;
}

/** The params type of an operation, with its id member put back. */
function paramsType(op) {
  const schema = JSON.parse(JSON.stringify(op.params));
  const defs = schema.$defs;
  delete schema.$defs;
  delete schema.$schema;
  if (op.idParam) {
    schema.properties = {[op.idParam]: {type: 'string', description: 'The id of the object.'}, ...(schema.properties || {})};
    schema.required = [op.idParam, ...(schema.required || [])];
  }
  schema.description = `Params of \`${op.name}\`.`;
  const name = declare(`${pascal(op.name)}Params`, (unique) => declaration(unique, schema, defs));
  const optional = !(schema.required && schema.required.length);
  return {name, optional};
}

/** The result type (for lists: of one item). */
function resultType(op) {
  const schema = JSON.parse(JSON.stringify(op.result));
  const defs = schema.$defs;
  delete schema.$defs;
  delete schema.$schema;
  const isObject = schema.type === 'object' || (!schema.type && schema.properties);
  if (isObject && schema.title && isIdent(schema.title)) {
    return declare(pascal(schema.title), (unique) => declaration(unique, schema, defs));
  }
  return tsType(schema, defs, '  ');
}

// ---- the file -------------------------------------------------------------------------------

const namespaces = new Map();
const table = [];
for (const op of ops) {
  const [ns, verb] = op.name.split('.');
  const params = paramsType(op);
  const result = resultType(op);
  if (!namespaces.has(ns)) namespaces.set(ns, []);
  namespaces.get(ns).push({op, verb, params, result});
  table.push({op, params, result});
}

const EVENT_NAMESPACES = ['messages', 'memberships', 'rooms', 'attachmentActions'];

// Members of a namespace that are not rows of the operation table (index.js adds them).
const EXTRA_MEMBERS = {
  meetings: `  /**
   * Send one frame of audio to a meeting joined with \`audio: {send: true}\`: interleaved
   * 16-bit PCM at 48 kHz, 480 or 960 samples per channel (10 or 20 ms), \`channels\` 1 (the
   * default) or 2. \`pcm\` is an \`Int16Array\`, or a \`Buffer\` (any byte array) of int16
   * little-endian samples. Not an operation: synchronous, no Promise. It never blocks: the
   * engine encodes the frame before returning, so the buffer may be reused at once. Pace the
   * frames in real time (one 20 ms frame every 20 ms, e.g. from \`setInterval\`).
   *
   * Throws a {@link WebexError}: \`INVALID_ARGUMENT\` for a wrong size (the message names it)
   * or channel count, \`NOT_FOUND\` for an unknown meeting, \`CLOSED\` before joining with
   * audio, after leaving, or once the client is closed.
   */
  sendAudio(meetingId: string, pcm: Int16Array | Uint8Array, channels?: 1 | 2): void;
  /**
   * Receive a meeting's audio: \`handler\` gets each decoded frame (20 ms) of each speaker, on
   * the JS thread, one speaker's frames in order; \`null\` stops and releases the delivery, and
   * so does \`close()\`. May be set before joining; a second handler replaces the first.
   * Synchronous.
   *
   * Threads: the engine decodes on its media tasks and never waits for JS. Frames queue for
   * the JS thread (at most 128 per meeting, 2.5 s of one speaker); when the handler falls that
   * far behind, newer frames are dropped and counted in {@link MeetingAudioFrame.dropped}
   * (and warned about in the engine log). The delivery never keeps the process alive by
   * itself. A handler that throws is an uncaught exception, as in an event handler.
   *
   * Throws \`NOT_FOUND\` for an unknown meeting, \`CLOSED\` once the client is closed.
   */
  onAudio(meetingId: string, handler: ((frame: MeetingAudioFrame) => void) | null): void;
  /**
   * Send one encoded video frame to a meeting joined with \`video: {send: true}\`: a VP8
   * frame, or an H.264 access unit in Annex-B form (start codes), in the join's \`codec\`.
   * \`data\` is a \`Buffer\` or \`Uint8Array\` (any other view or an \`ArrayBuffer\` is taken
   * as its bytes). \`keyframe\` (default false) says what the encoder made (a VP8 frame marked
   * as a keyframe must be one); \`durationUs\` (default 66667, 15 fps) is how long the frame is
   * shown, 1/frame rate, and advances the RTP clock. Not an operation: synchronous, no Promise.
   * It never blocks: the engine copies the frame and queues it before returning, so the buffer
   * may be reused at once. Pace the frames in real time (one every \`durationUs\`). Start with
   * a keyframe, and send one soon after \`meeting:keyframeRequested\`.
   *
   * Throws a {@link WebexError}: \`INVALID_ARGUMENT\` for an empty or malformed frame, a VP8
   * keyframe larger than \`meetings.resolution\`, a zero duration or a wrong argument type (the
   * message names it), \`NOT_FOUND\` for an unknown meeting, \`CLOSED\` before joining with
   * video sending on, after leaving, or once the client is closed. While video is muted,
   * frames are accepted and not sent.
   */
  sendVideo(meetingId: string, data: Uint8Array | ArrayBufferView | ArrayBuffer, options?: {keyframe?: boolean; durationUs?: number}): void;
  /**
   * Receive a meeting's video: \`handler\` gets each encoded frame of each sender, whole
   * (reassembled from RTP), each source starting at a keyframe, on the JS thread, one
   * source's frames in order; \`null\` stops and releases the delivery, and so does
   * \`close()\`. May be set before joining (with \`video: {receive: true}\`); a second handler
   * replaces the first. Synchronous. Decoding is the app's (the frames are what the sender's
   * encoder made); ask for a keyframe with \`meetings.requestKeyframe\`.
   *
   * Threads: the engine receives on its media tasks and never waits for JS. Frames queue for
   * the JS thread (at most 128 per meeting, about 4 s of one 30 fps source); when the handler
   * falls that far behind, newer frames are dropped and counted in
   * {@link MeetingVideoFrame.dropped} (and warned about in the engine log); request a
   * keyframe to recover. The delivery never keeps the process alive by itself. A handler that
   * throws is an uncaught exception, as in an event handler.
   *
   * Throws \`NOT_FOUND\` for an unknown meeting, \`CLOSED\` once the client is closed.
   */
  onVideo(meetingId: string, handler: ((frame: MeetingVideoFrame) => void) | null): void;
`,
};

function method(entry) {
  const {op, verb, params, result} = entry;
  const p = op.idParam
    ? `params: ${params.name} | string`
    : `params${params.optional ? '?' : ''}: ${params.name}`;
  const ret = op.kind === 'list' ? `PageRequest<${result}>` : `Promise<${result}>`;
  const notes = [op.doc, `Operation \`${op.name}\`.`];
  if (op.idParam) notes.push(`A string is taken as \`${op.idParam}\`.`);
  if (op.kind === 'list') notes.push('Await it for the first page, or iterate it (`for await`) for every item of every page.');
  let out = `${doc(notes.join(' '), '  ')}  ${prop(verb)}(${p}): ${ret};\n`;
  if (verb === 'delete') out += `  /** The official SDK's name for \`${verb}\` (same operation). */\n  remove(${p}): ${ret};\n`;
  return out;
}

let body = '';
for (const [ns, entries] of namespaces) {
  const events = EVENT_NAMESPACES.includes(ns);
  body += `/** \`webex.${ns}\`${events ? `: after \`listen()\`, its events (\`created\`, \`deleted\`, ...) as \`on('<event>', handler)\`` : ''}. */\n`;
  body += `export interface ${pascal(ns)}Namespace extends EventEmitter {\n${entries.map(method).join('')}${EXTRA_MEMBERS[ns] || ''}`;
  if (events) {
    body += `  /** \`close\`: emitted once, when the client's \`close()\` has finished (ends \`events.on(ns, name, {close: ['close']})\` loops). */\n`;
    body += `  on(event: 'close', listener: () => void): this;\n`;
    body += `  on(event: ResourceEventName, listener: (event: ResourceEvent) => void): this;\n`;
    body += `  once(event: ResourceEventName, listener: (event: ResourceEvent) => void): this;\n`;
    body += `  on(event: string | symbol, listener: (...args: any[]) => void): this;\n`;
    body += `  once(event: string | symbol, listener: (...args: any[]) => void): this;\n`;
  }
  body += '}\n\n';
}

const operationsMap = table
  .map(({op, params, result}) => `  ${JSON.stringify(op.name)}: {params: ${params.name}; result: ${op.kind === 'list' ? `Page<${result}>` : result}; kind: ${JSON.stringify(op.kind)}};`)
  .join('\n');

const members = [...namespaces.keys()].map((ns) => `  readonly ${prop(ns)}: ${pascal(ns)}Namespace;`).join('\n');

const text = `// GENERATED by scripts/gen-types.js from the engine's operation table. Do not edit:
// run \`npm run types\` in node/ after changing an operation (test/types.test.js fails on drift).

import {EventEmitter} from 'events';

/** The stable error codes (\`error.code\`). */
export type ErrorCode =
${codes.map((c) => `  | ${JSON.stringify(c.name)}`).join('\n')};

/** How every operation rejects: an \`Error\` with the engine's stable code and the cloud's details. */
export interface WebexError extends Error {
  /** The stable code name, e.g. \`NOT_FOUND\`. */
  code: ErrorCode;
  /** The code's number (the C ABI's status). */
  codeNumber: number;
  /** The HTTP status, when the cloud answered. */
  statusCode?: number;
  /** The Webex tracking id of the failed request, when there is one. */
  trackingId?: string;
  /** Seconds to wait before trying again (\`Retry-After\`), when the cloud said. */
  retryAfter?: number;
}

/**
 * The config document, the same in every language: the official SDK's attribute reference
 * (\`credentials\`, \`services\`, \`logger\`, \`meetings\`, ... or under \`config\`), plus
 * webex-native's \`http\` knobs. Wrong values, and unknown keys under \`credentials\`, are rejected with
 * the path named; other unknown keys are logged as warnings (\`webex::config\`), naming the nearest known one.
 */
export interface Config {
  credentials?: {access_token?: string; [member: string]: unknown} | string;
  config?: {storage?: StorageConfig; [member: string]: unknown};
  services?: {discovery?: {hydra?: string; u2c?: string; [member: string]: unknown}; [member: string]: unknown};
  /** Where the engine keeps what must survive a restart (the credentials, the device). */
  storage?: StorageConfig;
  /** The engine's log: \`level\` (\`silent\`, \`error\` (default), \`warn\`, \`info\`, \`debug\`, \`trace\`) and \`historyLength\`. See {@link logger}. */
  logger?: {level?: 'silent' | 'error' | 'warn' | 'log' | 'info' | 'debug' | 'trace'; historyLength?: number; [member: string]: unknown};
  [member: string]: unknown;
}

/**
 * \`storage\` in the config: \`boundedAdapter\` holds the credentials, \`unboundedAdapter\` the
 * device registration. Each is \`'memory'\` (the default), \`{dir: '<path>'}\` (one private
 * JSON file per key), or the app's own {@link StorageAdapter} (one object may serve both).
 */
export interface StorageConfig {
  boundedAdapter?: StorageSetting;
  unboundedAdapter?: StorageSetting;
  [member: string]: unknown;
}

/** One storage setting: \`'memory'\`, \`{dir}\`, or the app's adapter. */
export type StorageSetting = 'memory' | {dir: string} | StorageAdapter;

/**
 * An app's store (a keyring, a database, a \`Map\`): the engine reads every key it uses with
 * \`get\` once, when a client is created, and writes through with \`put\` and \`delete\`, in
 * order, on the JS thread. Values are JSON text. What \`put\` or \`delete\` throws, or a
 * Promise of theirs that rejects, is a warning in the engine log ({@link logger}), never a
 * crash; a \`get\` that throws is logged and read as nothing stored.
 */
export interface StorageAdapter {
  /**
   * The JSON text stored under \`key\`, or null/undefined when there is none. Synchronous: a
   * Promise (or any other type) is a \`TypeError\` when the client is created.
   */
  get(key: string): string | null | undefined;
  /** Store \`json\` under \`key\` (may return a Promise: fire and forget). */
  put(key: string, json: string): void;
  /** Forget \`key\` (may return a Promise: fire and forget). */
  delete(key: string): void;
}

/**
 * Where the engine's log goes: \`logger.on('log', (record) => ...)\`. Records are redacted
 * (no token, secret or JWT) and arrive in batches (every 50 ms at most); the config's
 * \`logger.level\` (default \`error\`, the most verbose client wins) decides which records the
 * engine makes. With no \`log\` listener, records are written to the console
 * (\`console.error\`, \`console.warn\`, ...); with one, the console is left alone.
 */
export interface Logger extends EventEmitter {
  on(event: 'log', listener: (record: LogRecord) => void): this;
  once(event: 'log', listener: (record: LogRecord) => void): this;
  off(event: 'log', listener: (record: LogRecord) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** One page of a list result, as the official SDK's \`Page\`. */
export interface Page<T> extends Iterable<T> {
  /** The items of this page. */
  readonly items: T[];
  /** The cursor of the following page (\`pages.next\`), or null on the last page. */
  readonly cursor: string | null;
  readonly length: number;
  hasNext(): boolean;
  /** The following page (the official SDK's \`page.next()\`), or null after the last one. */
  next(): Promise<Page<T> | null>;
  /** The same as \`next()\`. */
  nextPage(): Promise<Page<T> | null>;
}

/** What a list operation returns: a Promise of its first page, and an async iterable over every item. */
export interface PageRequest<T> extends PromiseLike<Page<T>>, AsyncIterable<T> {
  catch<R = never>(onRejected?: ((reason: WebexError) => R | PromiseLike<R>) | null): Promise<Page<T> | R>;
  finally(onFinally?: (() => void) | null): Promise<Page<T>>;
  /** Every page, fetched as the loop asks for it. */
  pages(): AsyncIterableIterator<Page<T>>;
  /** Every item of every page, in one array. */
  all(): Promise<T[]>;
}

/** The events of a resource namespace after \`listen()\`. */
export type ResourceEventName = 'created' | 'updated' | 'deleted' | 'seen' | (string & {});

/** A resource event, shaped like a webhook (as the official SDK delivers it). */
export interface ResourceEvent {
  resource: string;
  event: string;
  actorId: string | null;
  createdBy?: string;
  orgId?: string;
  data: {id: string; [member: string]: unknown};
  [member: string]: unknown;
}

/** A frame of a meeting's received audio (\`meetings.onAudio\`): 48 kHz 16-bit PCM. */
export interface MeetingAudioFrame {
  /** The meeting (\`meetingId\` of the operations). */
  meetingId: string;
  /** The speaker's participant id (\`members[].id\`), or null when the roster does not name it. */
  participantId: string | null;
  /** Interleaved samples, \`frames × channels\` of them; the handler owns it. */
  pcm: Int16Array;
  /** Samples per channel (960 for 20 ms). */
  frames: number;
  /** 1 or 2. */
  channels: number;
  /** Always 48000. */
  sampleRate: number;
  /** The RTP timestamp of the packet (48 kHz clock). */
  rtpTimestamp: number;
  /** Frames of this meeting dropped so far because the JS thread was behind. */
  dropped: number;
}

/** An encoded frame of a meeting's received video (\`meetings.onVideo\`). */
export interface MeetingVideoFrame {
  /** The meeting (\`meetingId\` of the operations). */
  meetingId: string;
  /** The sender's participant id (\`members[].id\`), or null when the roster does not name it. */
  participantId: string | null;
  /** The codec the meeting negotiated. */
  codec: 'VP8' | 'H264';
  /** The frame: a VP8 frame, or an H.264 access unit in Annex-B form; the handler owns it. */
  data: Buffer;
  /** A keyframe (VP8: the key frame bit; H.264: an IDR slice or an SPS). */
  keyframe: boolean;
  /** Width in pixels, from VP8 keyframes; 0 otherwise. */
  width: number;
  /** Height in pixels, from VP8 keyframes; 0 otherwise. */
  height: number;
  /** The RTP timestamp of the frame (90 kHz clock). */
  rtpTimestamp: number;
  /** Frames of this meeting dropped so far because the JS thread was behind. */
  dropped: number;
}

/** Lifecycle events of a client. */
export type LifecycleEventName = 'ready' | 'online' | 'offline.transient' | 'offline.permanent' | 'offline.replaced';

/** The meeting events on the client, by name, and what each carries. */
export interface MeetingEvents {
  /** A meeting object was made (\`meetings.create\`). */
  'meeting:added': {meetingId: string; type: 'JOIN' | (string & {})};
  /** The meeting's state for this client changed. */
  'meeting:stateChange': {meetingId: string; previousState: MeetingView['state']; currentState: MeetingView['state']};
  /** The meeting ended for everybody. */
  'meeting:ended': {meetingId: string};
  /** Locus removed this client (not its own leave). */
  'meeting:self:left': {meetingId: string; reason: string};
  /** A receiver asked for a keyframe: send one next. */
  'meeting:keyframeRequested': {meetingId: string};
  /** Reconnecting media (\`meetings.reconnection\`). */
  'meeting:reconnectionStarting': {meetingId: string; attempt: number};
  'meeting:reconnectionSuccess': {meetingId: string; attempt: number};
  'meeting:reconnectionFailure': {meetingId: string; attempts: number; error: string};
  /** The roster changed: what changed, and the whole roster. */
  'members:update': {meetingId: string; delta: {added: Member[]; updated: Member[]; removed: string[]}; full: Member[]};
  /** The media connection's state changed. */
  'media:stateChange': {meetingId: string; previousState: MediaState; currentState: MediaState};
  /** A participant's audio or video started arriving (once per source and media connection). */
  'media:remoteStream': {meetingId: string; kind: 'audio' | 'video'; participantId: string};
}

${order.map((n) => named.get(n)).join('\n\n')}

${body}/** Every operation by name: its params, result and kind. */
export interface Operations {
${operationsMap}
}

/** One row of the operation table. */
export interface OperationDescription {
  name: keyof Operations;
  doc: string;
  kind: 'call' | 'list';
  idParam: string | null;
  /** JSON Schema of the params (without \`idParam\`). */
  params: object;
  /** JSON Schema of the result (for lists: of one item). */
  result: object;
}

/** A user of the sandbox cloud. */
export interface SandboxUser {
  email: string;
  token: string;
  personId: string;
  displayName: string;
  type: 'bot' | 'person';
}

/** The sandbox's OAuth integration. */
export interface SandboxOAuth {
  /** \`credentials.client_id\`. */
  clientId: string;
  /** \`credentials.client_secret\`. */
  clientSecret: string;
  /** \`credentials.idbroker.url\`; its authorize endpoint consents at once for \`login_hint\`. */
  idbroker: string;
}

/** A request the sandbox saw. */
export interface SandboxRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** The HTTP version it came over: \`HTTP/1.1\`, or \`HTTP/2.0\` over TLS when the client chose it. */
  version: string;
  /** The status it answered. */
  status: number;
}

/** A participant's media session in a sandbox meeting, as its media server sees it. */
export interface SandboxParticipantMedia {
  email: string;
  /** Audio RTP packets the sandbox received from them. */
  audioPackets: number;
  /** Video RTP packets the sandbox received from them. */
  videoPackets: number;
  /** Keyframe requests (PLI/FIR) the sandbox relayed to them. */
  keyframeRequests: number;
  /** Milliseconds since their last audio packet, null before the first. */
  msSinceAudio: number | null;
  /** Milliseconds since their last video packet, null before the first. */
  msSinceVideo: number | null;
}

/** Nothing (a control's empty params or answer). */
export type SandboxEmpty = Record<string, never>;

/**
 * The controls of a running sandbox meeting (\`Sandbox.meetingControl\`): each action's params
 * and answer.
 */
export interface SandboxMeetingControls {
  /** What the media server got from each participant, in join order. */
  media: {params: SandboxEmpty; result: SandboxParticipantMedia[]};
  /** Drop a participant's media session (their peer connection closes; Locus is unchanged), as a media server that lost the client would. */
  cut: {params: {email: string}; result: SandboxEmpty};
  /** Locus removes a participant (self \`LEFT\`, \`removed\`: the path of \`meetings.reconnection.autoRejoin\`). */
  kick: {params: {email: string}; result: SandboxEmpty};
  /** End the meeting for everybody. */
  end: {params: SandboxEmpty; result: SandboxEmpty};
  /**
   * The built-in participant (\`media-bot@sandbox.example\`) joins: a tone (\`toneHz\`,
   * default 440) and a 320x240 15 fps test pattern (\`video\`, default \`'VP8'\`; null for
   * none).
   */
  addBot: {params: {toneHz?: number; video?: 'VP8' | 'H264' | null}; result: {email: string}};
  /** The built-in participant leaves. */
  removeBot: {params: SandboxEmpty; result: SandboxEmpty};
}

/** A sandbox meeting control's name. */
export type SandboxMeetingControl = keyof SandboxMeetingControls;

/** A fault to inject into the sandbox: the next matching requests fail, stall, or both. */
export interface SandboxFault {
  /** Request path prefix, e.g. \`/v1/messages\`. */
  path: string;
  /** HTTP method to match; any when left out. */
  method?: string;
  /** Status to answer with; a normal answer (after \`delayMs\`) when left out. */
  status?: number;
  /** Raw \`Retry-After\` value. */
  retryAfter?: string | number;
  /** Raw body text; the cloud's error body for \`status\` when left out. */
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** How many requests it applies to (default 1; 0 = until cleared). */
  count?: number;
}

/**
 * The embedded sandbox: a local Webex-compatible cloud on loopback, served by the engine. It
 * does not keep the process alive by itself (its clients do while they listen, are in a
 * meeting or have calls in flight): a script that only serves it must keep itself running until
 * it calls \`stop()\`.
 */
export class Sandbox {
  /**
   * Start a sandbox on a free loopback port (a bot, alice@example.com, bob@example.com).
   * \`{tls: true}\` serves https:// and wss:// with a certificate from a CA made for this
   * sandbox, offering HTTP/2 as the cloud does; \`config()\` then carries that CA.
   */
  static start(options?: {tls?: boolean}): Promise<Sandbox>;
  private constructor();
  /** \`http://127.0.0.1:PORT\` (\`https://\` with \`{tls: true}\`). */
  readonly url: string;
  /** With \`{tls: true}\`, the PEM certificate of the sandbox's CA (\`http.caCertificates\`); else null. */
  readonly caCertificate: string | null;
  /** The REST base URL (\`services.discovery.hydra\`). */
  readonly hydra: string;
  /** The service catalog URL (\`services.discovery.u2c\`). */
  readonly u2c: string;
  /** The device registration URL. */
  readonly wdm: string;
  readonly orgId: string;
  readonly users: SandboxUser[];
  /** The bot (the default identity of \`config()\`). */
  readonly bot: SandboxUser;
  /** The OAuth integration (for \`credentials.client_id\` etc.). */
  readonly oauth: SandboxOAuth;
  /** The requests the sandbox saw (the last 10,000), oldest first. */
  requests(): SandboxRequest[];
  /** The user with this email; throws \`NOT_FOUND\` if there is none. */
  user(email: string): SandboxUser;
  /** The access token of the user with this email. */
  token(email: string): string;
  /**
   * A config for \`Webex.init\` acting as this user (the bot by default), with the CA to trust
   * over TLS. Throws \`CLOSED\` once the sandbox stopped.
   */
  config(email?: string): Config;
  /** Add a user (or get the existing one) with a token. */
  addUser(email: string, displayName?: string): SandboxUser;
  /** Arm a fault; returns its id. */
  injectFault(fault: SandboxFault): number;
  /** Disarm every fault. */
  clearFaults(): void;
  /**
   * A control of the running meeting with this number, passed as it is to the sandbox (the
   * same call in every language); returns its answer, synchronously. See
   * {@link SandboxMeetingControls} for each action's params and answer: \`media\`, \`cut\`,
   * \`kick\`, \`end\`, \`addBot\`, \`removeBot\`. Throws a {@link WebexError} with \`code\`
   * \`INVALID_ARGUMENT\` and the sandbox's message for an unknown action, bad params, a meeting
   * that does not run, or a person who is not in it.
   */
  meetingControl<A extends SandboxMeetingControl>(meetingNumber: string, action: A, params?: SandboxMeetingControls[A]['params']): SandboxMeetingControls[A]['result'];
  /** Stop serving; resolves when the port is closed. */
  stop(): Promise<void>;
}

/**
 * A Webex client. \`Webex.init({credentials: {access_token}})\`, then e.g.
 * \`webex.rooms.create({title})\`. Events: \`ready\`, \`online\`, \`offline.*\`,
 * \`<resource>:<event>\` (also \`<event>\` on \`webex.<resource>\`), \`event:<type>\` (raw).
 * Events wait until a handler is attached (up to 1000; beyond that the oldest are dropped, with
 * one \`WEBEX_EVENTS_HELD\` process warning).
 */
declare class Webex extends EventEmitter {
  /** A client from a config document; throws \`INVALID_ARGUMENT\` naming a wrong value. */
  static init(attrs?: Config): Webex;
  constructor(attrs?: Config);
  static readonly Webex: typeof Webex;
  static readonly default: typeof Webex;
  static readonly Sandbox: typeof Sandbox;
  /** The operation table. */
  static readonly operations: ReadonlyArray<OperationDescription>;
  static readonly errorCodes: ReadonlyArray<{name: ErrorCode; number: number}>;
  /** The engine's version. */
  static readonly version: string;
  /** The engine's log records as \`log\` events (see {@link Logger}). */
  static readonly logger: Logger;
  /** Whether \`ready\` was emitted. */
  readonly ready: boolean;
  /** Whether \`close()\` was called. */
  readonly closed: boolean;
${members}
  /** Run any operation of the table by name (lists resolve to their first page). */
  request<K extends keyof Operations>(name: K, params?: Operations[K]['params'] | string): Promise<Operations[K]['result']>;
  /** Close: calls in flight reject with \`CANCELLED\`, later ones with \`CLOSED\`; events stop. */
  close(): Promise<void>;
  /** \`close\`: emitted once, when \`close()\` has finished. */
  on(event: 'close', listener: () => void): this;
  on(event: LifecycleEventName, listener: (data: {[member: string]: unknown}) => void): this;
  on<K extends keyof MeetingEvents>(event: K, listener: (event: MeetingEvents[K]) => void): this;
  on(event: \`\${string}:\${string}\`, listener: (event: ResourceEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: LifecycleEventName, listener: (data: {[member: string]: unknown}) => void): this;
  once<K extends keyof MeetingEvents>(event: K, listener: (event: MeetingEvents[K]) => void): this;
  once(event: \`\${string}:\${string}\`, listener: (event: ResourceEvent) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

export {Webex};
export default Webex;
export declare const operations: typeof Webex.operations;
export declare const errorCodes: typeof Webex.errorCodes;
export declare const version: string;
export declare const logger: Logger;
`;

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  if (committed !== text) {
    console.error('node/index.d.ts is out of date with the operation table: run `npm run types` in node/ and commit it');
    process.exit(1);
  }
  console.log('node/index.d.ts matches the operation table');
} else {
  fs.writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUT)} (${ops.length} operations)`);
}
