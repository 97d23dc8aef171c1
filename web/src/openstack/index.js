// Section 5, OpenStack: the panels (login.js, upload.js, launch.js) on one API client
// (api.js), and what the rest of the page uses of them: the session, the review before a
// Send, and sending a disk.
import { h } from '../util.js';
import { bytes, t } from '../i18n/index.js';
import { review } from '../ui/review.js';
import { createApi, imageBody } from './api.js';
import * as login from './login.js';
import * as upload from './upload.js';
import * as launch from './launch.js';
import * as unfinished from './unfinished.js';
import * as disks from './disks.js';
import * as volumes from './volumes.js';
import { refusalText } from './migration.js';
import { sizeBound, uploadPath } from './staged.js';

export { session } from './login.js';
export { beginSend, resetSend, sendFinished } from './upload.js';
export { busy as resuming, update as updateUnfinished } from './unfinished.js';
export { active as migrating, preflight, skipped, update as updateDisks } from './disks.js';
export { begin as beginMigration, cleanUp as cleanUpMigration, imageMade, makeVolumes } from './volumes.js';

/**
 * The path (staged.js uploadPath: `{path, max, body, size}`) an image takes with this session:
 * of `size` bytes when known (an output kept in browser storage), else at most what a disk of
 * `virtualSize` bytes converts to in `format` (chosen before converting).
 */
export function sendPath({ format, virtualSize, size = null }) {
  const s = size ?? sizeBound(format, virtualSize);
  return { ...uploadPath((login.session() || {}).upload, s), size: s };
}

/**
 * The review line of one image to create: "image web01: QCOW2, 40 GiB, min_disk 40,
 * hw_disk_bus=sata → project ops (region RegionOne)", from the same body Send gives Glance.
 */
export function imageLine(item, s) {
  const body = imageBody({
    name: item.name, format: item.format, props: item.props, virtualSize: item.virtualSize,
    shape: { min_disk: item.min_disk ?? null, min_ram: item.min_ram ?? null },
  });
  const facts = [body.disk_format.toUpperCase(), `min_disk ${body.min_disk}`];
  if (item.virtualSize) facts.splice(1, 0, t('cloud.review.size', { size: bytes(item.virtualSize) }));
  if (body.min_ram != null) facts.push(`min_ram ${body.min_ram}`);
  for (const [k, v] of Object.entries(body.properties)) facts.push(`${k}=${v}`);
  return [
    h('strong', {}, t('cloud.review.image', { name: body.name })), ` ${t('cloud.review.facts', { facts: facts.join(', ') })} `,
    t('cloud.review.target', { project: (s && s.project && s.project.name) || '?', region: (s && s.region) || '–' }),
  ];
}

/**
 * Before a Send creates anything: the review card listing each image (`items`: `[{name,
 * format, virtualSize, min_disk, min_ram, props: [{key, value}]}]`) and where it goes; for a
 * whole VM (`pre`: disks.js's preflight) its volumes, boot and the project's room too — a plan
 * that does not fit has no Confirm, only the reason. Resolves to true on Confirm, false on Back
 * (then nothing may be created).
 */
export function reviewSend(items, { opener, pre = null } = {}) {
  const refused = pre && !pre.plan.fits;
  return review({
    name: 'send',
    opener,
    confirmKey: 'cloud.review.send.confirm',
    refusal: refused ? () => refusalText(pre.plan) : null,
    content: () => ({
      title: t('cloud.review.send.title'),
      intro: t('cloud.review.send.intro', { count: items.length }),
      items: [...items.map((it) => imageLine(it, login.session())), ...(pre ? disks.reviewLines(pre) : [])],
    }),
  });
}

/** Wire the section and ask for the session; `onChange(session|null)` on login and logout. */
export function setup({ onChange }) {
  const api = createApi({ onUnauthorized: login.ended });
  launch.setup(api);
  disks.setup(api);
  volumes.setup(api);
  upload.setup(api, { changed: unfinished.refresh });
  unfinished.setup(api, { changed: () => onChange(login.session()) });
  return login.setup(api, { onChange });
}
