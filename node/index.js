// webex-native for Node.js: the official SDK's API shape over the webex-native engine.
//
// Nothing here knows an operation: every namespace (`webex.rooms`, `webex.messages`, ...) and
// method is built from the engine's operation table (`native.operations()`), and every result,
// error and event comes from the engine. This file only shapes them for JS: Promises, async
// iterables over pages, EventEmitters, and events held until a handler is attached.
'use strict';

const {EventEmitter} = require('events');
const native = require('./native');

/** The operation table: [{name, doc, kind, idParam, params, result}]. */
const OPERATIONS = Object.freeze(JSON.parse(native.operations()).map((op) => Object.freeze(op)));
/** The stable error codes: [{name, number}]. */
const ERROR_CODES = Object.freeze(JSON.parse(native.errorCodes()));
const CODE_NUMBER = new Map(ERROR_CODES.map((c) => [c.name, c.number]));

/** An `Error` shaped like the engine's (for failures found before the engine runs). */
function webexError(code, message) {
  const err = new Error(message);
  err.code = code;
  err.codeNumber = CODE_NUMBER.get(code);
  return err;
}


// The official SDK takes the object itself where an id is expected (`rooms.remove(room)`,
// `memberships.update({...membership, isModerator: true})`): an object without the id param
// but with an `id` is such a resource; its `id` is the id param, the resource's own fields
// the operation does not take are left out, and anything else is sent, so a misspelt member
// is still refused by name.
function resourceParams(op, params) {
  if (!op.idParam || !params || typeof params !== 'object' || Array.isArray(params)) return params;
  if (op.idParam in params || typeof params.id !== 'string') return params;
  const takes = new Set(Object.keys((op.params && op.params.properties) || {}));
  // The resource's fields: what its namespace's `get` answers (a delete answers nothing).
  const get = OPERATIONS.find((o) => o.name === `${op.name.slice(0, op.name.indexOf('.'))}.get`);
  const fieldsOf = (o) => Object.keys((o && o.result && o.result.properties) || {});
  const resourceFields = new Set(['id', ...fieldsOf(op), ...fieldsOf(get)]);
  const out = {[op.idParam]: params.id};
  for (const [member, value] of Object.entries(params)) {
    if (value !== undefined && (takes.has(member) || !resourceFields.has(member))) out[member] = value;
  }
  return out;
}

function paramsJson(op, params) {
  if (params === undefined || params === null) return '{}';
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw webexError('INVALID_ARGUMENT', `${op.name}: params must be an object, got ${describe(params)}`);
  }
  try {
    return JSON.stringify(params);
  } catch (err) {
    throw webexError('INVALID_ARGUMENT', `${op.name}: params cannot be sent as JSON (${err.message})`);
  }
}

// What a wrong argument was, for an error message: never a string's text, which may be a
// token, a JWT or an authorization code passed where an object belongs.
function describe(value) {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return `${typeof value} ${String(value)}`;
}

/**
 * One page of a list, as the official SDK's `Page`: `items`, `length`, `hasNext()` and
 * `next()` (the following page); `cursor` is the engine's cursor of the following page.
 */
class Page {
  constructor(client, page) {
    Object.defineProperty(this, '_client', {value: client});
    /** The items of this page. */
    this.items = page.items;
    /** The cursor of the following page (for `pages.next`), or null on the last page. */
    this.cursor = page.next;
  }

  get length() {
    return this.items.length;
  }

  hasNext() {
    return this.cursor !== null && this.cursor !== undefined;
  }

  /** The following page (the official SDK's `page.next()`), or null after the last one. */
  next() {
    if (!this.hasNext()) return Promise.resolve(null);
    return this._client._invoke(PAGES_NEXT, {cursor: this.cursor}).then((p) => new Page(this._client, p));
  }

  /** The same as `next()`. */
  nextPage() {
    return this.next();
  }

  [Symbol.iterator]() {
    return this.items[Symbol.iterator]();
  }
}

/**
 * What a list operation returns: a Promise of its first page (`await webex.rooms.list()`),
 * and an async iterable over every item of every page (`for await (const room of ...)`).
 */
class PageRequest {
  constructor(first) {
    this._first = first;
  }

  then(onFulfilled, onRejected) {
    return this._first.then(onFulfilled, onRejected);
  }

  catch(onRejected) {
    return this._first.catch(onRejected);
  }

  finally(onFinally) {
    return this._first.finally(onFinally);
  }

  /** Every page, fetched as the loop asks for it. */
  async *pages() {
    let page = await this._first;
    while (page) {
      yield page;
      page = await page.nextPage();
    }
  }

  async *[Symbol.asyncIterator]() {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item of every page, in one array. */
  async all() {
    const items = [];
    for await (const page of this.pages()) items.push(...page.items);
    return items;
  }
}

let PAGES_NEXT; // the `pages.next` row, set below

/** A namespace such as `webex.rooms`: its table rows as methods, and its events. */
class Namespace extends EventEmitter {
  constructor(client, name) {
    super();
    Object.defineProperty(this, '_client', {value: client});
    Object.defineProperty(this, '_name', {value: name});
    this.on('newListener', () => client._attached());
  }
}

function defineMethod(client, ns, verb, op) {
  let method;
  if (op.kind === 'list') {
    method = (params) => new PageRequest(client._invoke(op, params).then((p) => new Page(client, p)));
  } else {
    method = (params) => client._invoke(op, params);
  }
  Object.defineProperty(method, 'name', {value: verb});
  Object.defineProperty(ns, verb, {value: method, enumerable: true});
  // The official SDK's name for deletion.
  if (verb === 'delete' && !ns.remove) Object.defineProperty(ns, 'remove', {value: method, enumerable: false});
}

// Clients with calls in flight or listening for events. The finalizer of a client nobody
// references closes it; one that still works for the app (a bot that only listens, a call
// whose promise is awaited but whose client was a temporary) must not be closed under it.
const WORKING = new Set();

// Events nobody listens to are held for a listener attached later, up to this many (the
// oldest are dropped beyond it, with one warning), so a client whose app listens to a few
// event types does not keep every other one forever.
const HELD_LIMIT = 1000;

// The event callback of a client must not hold the client (the addon keeps it alive as long
// as the client's handle lives, so a strong reference would defeat the finalizer).
function eventCallback(ref) {
  return (json) => {
    const client = ref.deref();
    if (client) client._event(json);
  };
}

/**
 * A Webex client: `Webex.init({credentials: {access_token}})`, then `webex.rooms.create(...)`.
 * Events: `ready`, `online`, `offline.transient|permanent|replaced`, `<resource>:<event>`
 * (also emitted as `<event>` on `webex.<resource>`), `event:<type>` for raw socket events.
 */
class Webex extends EventEmitter {
  /** A client from a config document (the official SDK's attribute reference). */
  static init(attrs) {
    return new Webex(attrs);
  }

  constructor(attrs) {
    super();
    if (attrs !== undefined && (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs))) {
      throw webexError('INVALID_ARGUMENT', `Webex.init: expected a config object, got ${describe(attrs)}`);
    }
    Object.defineProperty(this, '_held', {value: [], writable: true});
    Object.defineProperty(this, '_flushQueued', {value: false, writable: true});
    // What keeps the process alive for the app: namespaces listening on the event socket,
    // and meetings joined (their events and media come unasked).
    Object.defineProperty(this, '_listeningTo', {value: new Set()});
    Object.defineProperty(this, '_inMeetings', {value: new Set()});
    Object.defineProperty(this, '_endedMeetings', {value: new Set()});
    Object.defineProperty(this, '_callsInFlight', {value: 0, writable: true});
    Object.defineProperty(this, '_heldDropped', {value: 0, writable: true});
    const onEvent = eventCallback(new WeakRef(this));
    Object.defineProperty(this, '_native', {value: withAppStorage(attrs || {}, (json) => new native.NativeClient(json, onEvent))});
    /** Whether the client is ready (the `ready` event was emitted). */
    this.ready = false;
    // Until `ready` arrives (at once: the engine emits it first), and while listening, the
    // client keeps the process alive, as the official SDK's timers and socket do.
    this._native.keepAlive(true);
    const namespaces = new Map();
    for (const op of OPERATIONS) {
      const dot = op.name.indexOf('.');
      const nsName = op.name.slice(0, dot);
      let ns = namespaces.get(nsName);
      if (!ns) {
        ns = new Namespace(this, nsName);
        namespaces.set(nsName, ns);
        Object.defineProperty(this, nsName, {value: ns, enumerable: true});
      }
      defineMethod(this, ns, op.name.slice(dot + 1), op);
    }
    Object.defineProperty(this, '_namespaces', {value: namespaces});
    // Frame handlers of `meetings.onAudio` / `onVideo`, by kind and meeting id.
    Object.defineProperty(this, '_mediaHandlers', {value: {audio: new Map(), video: new Map()}});
    const meetings = namespaces.get('meetings');
    if (meetings) defineMeetingMedia(this, meetings);
    this.on('newListener', () => this._attached());
  }

  /** Whether `close()` was called. */
  get closed() {
    return this._native.closed;
  }

  /**
   * Run any operation of the table by name, e.g. `webex.request('rooms.get', {roomId})`.
   * List operations resolve to their first page.
   */
  request(name, params) {
    if (name !== null && typeof name === 'object') {
      // The official SDK's `webex.request({service, resource, method})` answers with its HTTP
      // response object; this one runs operations. Say where that call lives here.
      return Promise.reject(
        webexError(
          'INVALID_ARGUMENT',
          'webex.request takes an operation name here (webex.request("rooms.get", {roomId})); for an HTTP request ' +
            'as the official SDK\'s webex.request({service, resource}), use webex.http.request({method, service, resource, query, body})',
        ),
      );
    }
    const op = OPERATIONS.find((o) => o.name === name);
    if (!op) return this._native.call(String(name), '{}').then(JSON.parse); // the engine names the closest
    const result = this._invoke(op, params);
    return op.kind === 'list' ? result.then((p) => new Page(this, p)) : result;
  }

  /**
   * Close the client: calls in flight reject with `CANCELLED`, events stop, later calls
   * reject with `CLOSED`. Resolves when the engine has finished.
   */
  close() {
    const first = !this._native.closed;
    this._listeningTo.clear();
    this._inMeetings.clear();
    this._settle();
    for (const handlers of Object.values(this._mediaHandlers)) handlers.clear();
    // `close` once everything is done, on the client and on every namespace, so
    // `events.on(webex.messages, 'created', {close: ['close']})` loops end and the app's own
    // cleanup knows the client is gone.
    return this._native.close().then(() => {
      if (!first) return;
      for (const ns of this._namespaces.values()) ns.emit('close');
      this.emit('close');
    });
  }

  _invoke(op, params) {
    if (op.idParam && typeof params === 'string') params = {[op.idParam]: params};
    else params = resourceParams(op, params);
    let json;
    try {
      json = paramsJson(op, params);
    } catch (err) {
      return Promise.reject(err);
    }
    this._callsInFlight += 1;
    WORKING.add(this);
    const done = () => {
      this._callsInFlight -= 1;
      this._settle();
    };
    // The engine's rejection is made on its callback, with no JS frames: it gets the stack of
    // the app's call (captured here, formatted only if the call fails).
    const site = {};
    Error.captureStackTrace(site, Webex.prototype._invoke);
    return this._native.call(op.name, json).then(
      (text) => (done(), this._track(op, params), JSON.parse(text)),
      (err) => {
        done();
        // Leaving says the app wants out even when the cloud did not answer: a meeting the
        // leave failed for must not keep the process alive forever.
        if (op.name === 'meetings.leave' || op.name === 'meetings.end') this._track(op, params);
        const frames = site.stack.indexOf('\n');
        if (err instanceof Error && frames >= 0) err.stack = `${err.name}: ${err.message}${site.stack.slice(frames)}`;
        throw err;
      },
    );
  }

  // An operation that succeeded may change what keeps the process alive: however it was
  // called (a namespace method or `request`).
  _track(op, params) {
    const dot = op.name.indexOf('.');
    const [nsName, verb] = [op.name.slice(0, dot), op.name.slice(dot + 1)];
    const meetingId = params && typeof params === 'object' ? params.meetingId : undefined;
    if (verb === 'listen' || op.name === 'mercury.connect') this._listeningTo.add(nsName);
    else if (verb === 'stopListening') this._listeningTo.delete(nsName);
    else if (op.name === 'mercury.disconnect') this._listeningTo.clear(); // the socket is gone for all
    else if (op.name === 'meetings.join') {
      // The meeting may have ended (or removed us) before this join's answer was handled.
      if (!this._endedMeetings.delete(meetingId)) this._inMeetings.add(meetingId);
    }
    else if (op.name === 'meetings.leave' || op.name === 'meetings.end') this._inMeetings.delete(meetingId);
    else return;
    this._keepAlive();
  }

  _holdsProcess() {
    return this._listeningTo.size > 0 || this._inMeetings.size > 0;
  }

  _keepAlive() {
    if (!this._native.closed) this._native.keepAlive(this._holdsProcess());
    if (this._holdsProcess() && !this._native.closed) WORKING.add(this);
    else this._settle();
  }

  // Leaves WORKING once nothing runs for the app any more.
  _settle() {
    if (this._callsInFlight === 0 && (!this._holdsProcess() || this._native.closed)) WORKING.delete(this);
  }

  _event(json) {
    const {type, data} = JSON.parse(json);
    if (type === 'ready') {
      this.ready = true;
      if (!this._holdsProcess() && !this._native.closed) this._native.keepAlive(false);
    }
    const targets = [[this, type]];
    const colon = type.indexOf(':');
    if (colon > 0 && !type.startsWith('event:')) {
      const ns = this._namespaces.get(type.slice(0, colon));
      if (ns) targets.push([ns, type.slice(colon + 1)]);
    }
    if (type === 'offline.permanent' || type === 'offline.replaced') {
      // The engine stops reconnecting: nothing more will come over the socket.
      this._listeningTo.clear();
      this._keepAlive();
    } else if ((type === 'meeting:ended' || type === 'meeting:self:left') && data) {
      if (this._inMeetings.delete(data.meetingId)) this._keepAlive();
      else if (this._callsInFlight > 0) {
        // A join in flight may answer after this event: it must not keep the process alive
        // then. Remembered only while calls run, and only a few.
        this._endedMeetings.add(data.meetingId);
        if (this._endedMeetings.size > 64) this._endedMeetings.delete(this._endedMeetings.values().next().value);
      }
    }
    // Events wait until a handler for them is attached; one that waited is delivered before
    // a newer one of its kind (even when a handler of an older one throws).
    try {
      if (this._flushQueued) this._flush();
    } finally {
      if (!deliver(targets, data)) this._hold({targets, data});
    }
  }

  _hold(entry) {
    this._held.push(entry);
    if (this._held.length <= HELD_LIMIT) return;
    this._held.shift();
    this._heldDropped += 1;
    if (this._heldDropped === 1) {
      process.emitWarning(
        `more than ${HELD_LIMIT} events arrived that no listener wanted; dropping the oldest (attach listeners with webex.on)`,
        {code: 'WEBEX_EVENTS_HELD'},
      );
    }
  }

  // A handler was attached: deliver what waited for it, once it is in place.
  _attached() {
    if (!this._held.length || this._flushQueued) return;
    this._flushQueued = true;
    queueMicrotask(() => this._flush());
  }

  _flush() {
    if (!this._flushQueued) return;
    this._flushQueued = false;
    const held = this._held;
    this._held = [];
    let next = 0;
    try {
      while (next < held.length) {
        const entry = held[next++];
        if (!deliver(entry.targets, entry.data)) this._held.push(entry);
      }
    } finally {
      if (next < held.length) {
        // A handler threw: the rest still wait, ahead of newer events, and go out next.
        this._held.push(...held.slice(next));
        this._attached();
      }
    }
  }

  // A received audio or video frame (see `meetings.onAudio`, `meetings.onVideo`).
  _mediaFrame(kind, frame) {
    const handler = this._mediaHandlers[kind].get(frame.meetingId);
    if (!handler) return; // cleared while the frame was queued
    if (frame.participantId === undefined) frame.participantId = null;
    handler(frame);
  }
}

// ---- meeting audio and video ----------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `pcm` as an Int16Array: an Int16Array as it is, a Buffer (or any byte view) of int16 LE. */
function int16Samples(pcm) {
  if (pcm instanceof Int16Array) return pcm;
  if (ArrayBuffer.isView(pcm) && pcm.BYTES_PER_ELEMENT === 1) {
    if (pcm.byteLength % 2) {
      throw webexError('INVALID_ARGUMENT', `meetings.sendAudio: pcm has ${pcm.byteLength} bytes; 16-bit samples take an even number`);
    }
    if (LITTLE_ENDIAN && pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
    const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const out = new Int16Array(pcm.byteLength / 2);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
    return out;
  }
  throw webexError('INVALID_ARGUMENT', `meetings.sendAudio: pcm must be an Int16Array or a Buffer of 16-bit little-endian samples, got ${describeValue(pcm)}`);
}

/** `data` as a Uint8Array: a Buffer or Uint8Array as it is, any other view or an ArrayBuffer as its bytes. */
function frameBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw webexError('INVALID_ARGUMENT', `meetings.sendVideo: data must be a Buffer or a Uint8Array holding one encoded frame, got ${describeValue(data)}`);
}

function describeValue(value) {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer (wrap it: new Int16Array(buffer))';
  return describe(value);
}

function meetingIdOf(method, meetingId) {
  if (typeof meetingId !== 'string' || !meetingId) {
    throw webexError('INVALID_ARGUMENT', `meetings.${method}: meetingId must be the id of meetings.create, got ${describeValue(meetingId)}`);
  }
  return meetingId;
}

// The frame callback of a meeting holds the client weakly, as the event callback does.
function frameCallback(ref, kind) {
  return (frame) => {
    const client = ref.deref();
    if (client) client._mediaFrame(kind, frame);
  };
}

/** Video frames are shown for 1/15 s unless `sendVideo` is told otherwise (the same default as Python). */
const DEFAULT_VIDEO_DURATION_US = 66667;

/**
 * `webex.meetings.sendAudio`, `sendVideo`, `onAudio` and `onVideo` (not operations:
 * synchronous). Audio and video share the handler bookkeeping; the addon's deliveries are one
 * implementation too (src/media.rs).
 */
function defineMeetingMedia(client, ns) {
  const sendAudio = (meetingId, pcm, channels = 1) => {
    const id = meetingIdOf('sendAudio', meetingId);
    const samples = int16Samples(pcm);
    if (!Number.isInteger(channels) || channels < 0 || channels > 0xffffffff) {
      throw webexError('INVALID_ARGUMENT', `meetings.sendAudio: channels must be 1 or 2, got ${describeValue(channels)}`);
    }
    client._native.sendAudio(id, samples, channels);
  };
  const sendVideo = (meetingId, data, options = {}) => {
    const id = meetingIdOf('sendVideo', meetingId);
    const bytes = frameBytes(data);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw webexError('INVALID_ARGUMENT', `meetings.sendVideo: options must be an object {keyframe?, durationUs?}, got ${describeValue(options)}`);
    }
    const {keyframe = false, durationUs = DEFAULT_VIDEO_DURATION_US} = options;
    if (typeof keyframe !== 'boolean') {
      throw webexError('INVALID_ARGUMENT', `meetings.sendVideo: keyframe must be a boolean, got ${describeValue(keyframe)}`);
    }
    if (!Number.isSafeInteger(durationUs) || durationUs < 0) {
      throw webexError('INVALID_ARGUMENT', `meetings.sendVideo: durationUs must be a whole number of microseconds (1/frame rate), got ${describeValue(durationUs)}`);
    }
    client._native.sendVideo(id, bytes, keyframe, durationUs);
  };
  // `onAudio` / `onVideo`: one native delivery per meeting and kind, its handler replaceable.
  const onFrames = (kind, method, setSink) => (meetingId, handler) => {
    const id = meetingIdOf(method, meetingId);
    if (handler !== null && handler !== undefined && typeof handler !== 'function') {
      throw webexError('INVALID_ARGUMENT', `meetings.${method}: handler must be a function or null, got ${describeValue(handler)}`);
    }
    const handlers = client._mediaHandlers[kind];
    if (handler) {
      if (!handlers.has(id)) setSink(id, frameCallback(new WeakRef(client), kind));
      handlers.set(id, handler);
    } else if (handlers.delete(id)) {
      setSink(id, null);
    }
  };
  const methods = {
    sendAudio,
    sendVideo,
    onAudio: onFrames('audio', 'onAudio', (id, fn) => client._native.setAudioSink(id, fn)),
    onVideo: onFrames('video', 'onVideo', (id, fn) => client._native.setVideoSink(id, fn)),
  };
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(fn, 'name', {value: name});
    Object.defineProperty(ns, name, {value: fn, enumerable: true});
  }
}

function deliver(targets, data) {
  let delivered = false;
  for (const [emitter, name] of targets) {
    if (emitter.listenerCount(name) > 0) {
      emitter.emit(name, data);
      delivered = true;
    }
  }
  return delivered;
}

PAGES_NEXT = OPERATIONS.find((o) => o.name === 'pages.next');

// ---- storage adapters -----------------------------------------------------------------------

const ADAPTER_SETTINGS = ['boundedAdapter', 'unboundedAdapter'];

// An app's adapter (`{get, put, delete}`): an object with any of those members. The
// addon checks it has all three (a TypeError names the missing one).
function isAppAdapter(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    ['get', 'put', 'delete'].some((m) => m in value)
  );
}

/**
 * Create the native client from `attrs`, with every app storage adapter in
 * `[config.]storage.boundedAdapter|unboundedAdapter` registered with the engine for the time
 * of the creation and named by its handle (`{adapter: <handle>}`); the client keeps what it
 * uses. One object used for both settings is registered once.
 */
function withAppStorage(attrs, create) {
  const handles = new Map(); // adapter -> handle
  const swap = (holder) => {
    const storage = holder !== null && typeof holder === 'object' ? holder.storage : undefined;
    if (storage === null || typeof storage !== 'object') return holder;
    let copy;
    for (const name of ADAPTER_SETTINGS) {
      const adapter = storage[name];
      if (!isAppAdapter(adapter)) continue;
      if (!handles.has(adapter)) handles.set(adapter, native.registerStorage(adapter));
      copy = copy || {...storage};
      copy[name] = {adapter: handles.get(adapter)};
    }
    return copy ? {...holder, storage: copy} : holder;
  };
  try {
    let doc = swap(attrs);
    const inner = swap(doc.config);
    if (inner !== doc.config) doc = {...doc, config: inner};
    return create(JSON.stringify(doc));
  } finally {
    for (const handle of handles.values()) native.releaseStorage(handle);
  }
}

// ---- engine logs ----------------------------------------------------------------------------

const CONSOLE_METHOD = {error: 'error', warn: 'warn', info: 'info', debug: 'debug', trace: 'debug'};

/**
 * The engine's log records, redacted (no token, secret or JWT): `logger.on('log', (record) =>
 * ...)` with `{level, target, message, timestampMs}`, in batches as the engine hands them over
 * (every 50 ms at most). The config's `logger.level` (default `error`) decides which records
 * the engine makes. With no `log` listener, records go to the console (`console.error`,
 * `console.warn`, ...), as the official SDK prints them; with one, the console is left alone.
 */
const logger = new EventEmitter();

native.addLogSink((json) => {
  const records = JSON.parse(json);
  const listening = logger.listenerCount('log') > 0;
  for (const record of records) {
    if (listening) logger.emit('log', record);
    else console[CONSOLE_METHOD[record.level] || 'log'](`webex-native ${record.level} ${record.target}: ${record.message}`);
  }
});

/**
 * The embedded sandbox: a local Webex-compatible cloud on loopback, served by the engine.
 * `const sb = await Sandbox.start(); const webex = Webex.init(sb.config())`.
 */
class Sandbox {
  /**
   * Start a sandbox on a free loopback port (a bot, alice@example.com, bob@example.com).
   * `{tls: true}` serves https:// and wss:// with a certificate from a CA made for this
   * sandbox, offering HTTP/2 as the cloud does; `config()` then carries that CA.
   */
  static async start(options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw webexError('INVALID_ARGUMENT', `Sandbox.start takes an options object ({tls?: boolean}), not ${describe(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'tls') throw webexError('INVALID_ARGUMENT', `Sandbox.start: unknown option '${key}' (the one option is tls)`);
    }
    if (options.tls !== undefined && typeof options.tls !== 'boolean') {
      throw webexError('INVALID_ARGUMENT', `Sandbox.start: tls must be true or false, not ${describe(options.tls)}`);
    }
    return new Sandbox(await native.NativeSandbox.start(options.tls === true));
  }

  constructor(nativeSandbox) {
    Object.defineProperty(this, '_native', {value: nativeSandbox});
    const info = JSON.parse(nativeSandbox.info());
    /** The base URL, `http://127.0.0.1:PORT` (`https://` with `{tls: true}`). */
    this.url = info.base;
    /** With `{tls: true}`, the PEM certificate of the sandbox's CA (`http.caCertificates`); else null. */
    this.caCertificate = info.caCertificate ?? null;
    /** The REST base URL (`services.discovery.hydra`). */
    this.hydra = info.hydra;
    /** The service catalog URL (`services.discovery.u2c`). */
    this.u2c = info.u2c;
    /** The device registration URL. */
    this.wdm = info.wdm;
    /** The org's id. */
    this.orgId = info.orgId;
    /** The seeded users: `[{email, token, personId, displayName, type}]`. */
    this.users = info.users;
    /** The bot user (the default identity of `config()`). */
    this.bot = info.users.find((u) => u.email === info.bot);
    /**
     * The sandbox's OAuth integration: `{clientId, clientSecret, idbroker}` (`idbroker` is
     * `credentials.idbroker.url`; its authorize endpoint consents at once for `login_hint`).
     */
    this.oauth = info.oauth;
  }

  /** The requests the sandbox saw (the last 10,000), oldest first: `[{method, path, version, status}]`. */
  requests() {
    return JSON.parse(this._native.requests());
  }

  /** The user with this email; throws `NOT_FOUND` if there is none. */
  user(email) {
    const user = this.users.find((u) => u.email === String(email).toLowerCase());
    if (!user) throw webexError('NOT_FOUND', `the sandbox has no user '${email}'`);
    return user;
  }

  /** The access token of the user with this email. */
  token(email) {
    return this.user(email).token;
  }

  /**
   * A config for `Webex.init` acting as this user (the bot by default), with the CA to trust
   * over TLS. Throws `CLOSED` once the sandbox stopped.
   */
  config(email) {
    const user = email === undefined ? this.bot : this.user(email);
    return JSON.parse(this._native.clientConfig(user.email));
  }

  /** Add a user (or get the existing one) with a token. */
  addUser(email, displayName) {
    const user = JSON.parse(this._native.addUser(String(email), String(displayName || email)));
    const seen = this.users.find((u) => u.email === user.email);
    const shaped = {email: user.email, token: user.token, personId: user.person_id, displayName: user.display_name, type: user.is_bot ? 'bot' : 'person'};
    if (!seen) this.users.push(shaped);
    return seen || shaped;
  }

  /**
   * Arm a fault: the next matching requests fail or stall. `{path, method?, status?,
   * retryAfter?, body?, delayMs?, count?}` (count 0 = until cleared). Returns its id.
   */
  injectFault(fault) {
    const f = {...fault};
    if (typeof f.retryAfter === 'number') f.retryAfter = String(f.retryAfter);
    return this._native.injectFault(JSON.stringify(f));
  }

  /** Disarm every fault. */
  clearFaults() {
    this._native.clearFaults();
  }

  /**
   * A control of the running meeting with this number, passed as it is to the sandbox (the
   * same call in every language); returns its answer. Actions and params:
   * - `media`: `[{email, audioPackets, videoPackets, keyframeRequests, msSinceAudio,
   *   msSinceVideo}]`, what the media server got from each participant, in join order;
   * - `cut` `{email}`: their media session is dropped (Locus unchanged); `{}`;
   * - `kick` `{email}`: Locus removes them; `{}`;
   * - `end`: the meeting ends for everybody; `{}`;
   * - `addBot` `{toneHz?: 440, video?: 'VP8' | 'H264' | null}`: the built-in participant
   *   (media-bot@sandbox.example) joins, playing a tone and a test pattern; `{email}`;
   * - `removeBot`: `{}`.
   * The sandbox's refusal (unknown action, bad params, a meeting that does not run, a person
   * not in it) throws an `Error` with `code` `INVALID_ARGUMENT` and its message.
   */
  meetingControl(meetingNumber, action, params = {}) {
    let json;
    try {
      json = JSON.stringify(params === undefined ? {} : params);
    } catch (err) {
      throw webexError('INVALID_ARGUMENT', `meetingControl: params cannot be sent as JSON (${err.message})`);
    }
    return JSON.parse(this._native.meetingControl(String(meetingNumber), String(action), json));
  }

  /** Stop serving; resolves when the port is closed. */
  stop() {
    return this._native.stop();
  }
}

Webex.Webex = Webex;
Webex.default = Webex;
Webex.Sandbox = Sandbox;
Webex.Page = Page;
Webex.PageRequest = PageRequest;
Webex.operations = OPERATIONS;
Webex.errorCodes = ERROR_CODES;
Webex.version = native.version();
Webex.logger = logger;

module.exports = Webex;
