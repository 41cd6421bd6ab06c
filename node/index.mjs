// The ES module entry point: the same client as the CommonJS one (index.js).
import Webex from './index.js';

export default Webex;
export const {Sandbox, Page, PageRequest, operations, errorCodes, version, logger} = Webex;
export {Webex};
