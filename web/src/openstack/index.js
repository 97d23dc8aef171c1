// Section 5, OpenStack: the panels (login.js, upload.js, launch.js) on one API client
// (api.js), and what the rest of the page uses of them: the session, and sending a disk.
import { createApi } from './api.js';
import * as login from './login.js';
import * as upload from './upload.js';
import * as launch from './launch.js';

export { session } from './login.js';
export { beginSend, resetSend, sendFinished } from './upload.js';

/** Wire the section and ask for the session; `onChange(session|null)` on login and logout. */
export function setup({ onChange }) {
  const api = createApi({ onUnauthorized: login.ended });
  launch.setup(api);
  upload.setup(api);
  return login.setup(api, { onChange });
}
