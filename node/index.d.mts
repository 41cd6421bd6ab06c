// Types of the ES module entry point (index.mjs): the same API as the CommonJS one, whose
// types (index.d.ts, generated) TypeScript reads as CommonJS in this package, where a default
// import would be the whole module object. Here the default export is the client class.
import {Webex} from './index.js';

export * from './index.js';
export default Webex;
