// The whole flow as a Korean help-desk user meets it: a ko-KR browser, a Korean-named OVA
// (웹서버.ova holding 웹서버.ovf and 웹서버-disk1.vmdk), files → review → convert → result →
// launch → verify, everything after choosing the files done with the keyboard only. After each
// step: a scan of the DOM for visible English (an explicit allow-list of product and format
// names, property keys, file names, numbers and units), axe-core (no serious or critical
// violation, in both languages) and a screenshot at 1366×768 (into docs/screenshots/ko/ with
// WEB_SCREENSHOTS=1, for README.ko.md; into the test's temporary folder otherwise).
//
// The scan and the name checks collect what they find over the whole flow and fail at the end
// with the full list, so one run reports every area that still leaks English.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  ROOT, COT, TMP, sh, assert, open, tid, feed, errorText, qemuCompare, streamVmdk,
} from '../page-lib.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const VIEWPORT = { width: 1366, height: 768 };
const PNGQUANT = ['/usr/bin/pngquant', '/usr/local/bin/pngquant'].find((p) => fs.existsSync(p));
const SHOTS = process.env.WEB_SCREENSHOTS ? path.join(ROOT, 'docs/screenshots/ko') : path.join(TMP, 'screenshots-ko');

/** 웹서버.ova: the VirtualBox OVF of the 'OVA with OVF' test, renamed, with a 64 MiB disk of data. */
function koreanOva() {
  const dir = fs.mkdtempSync(path.join(TMP, 'ko-ova-'));
  const vmdk = streamVmdk(path.join(dir, '웹서버-disk1.vmdk'), 64, 8, 5);
  const ovf = fs.readFileSync(path.join(COT, 'ubuntu.2.0.ovf'), 'utf8')
    .replace('ovf:capacity="8589934592"', `ovf:capacity="${64 << 20}"`)
    .replaceAll('ubuntu.2.0-disk1.vmdk', '웹서버-disk1.vmdk')
    .replace('<VirtualSystem ovf:id="ubuntu">', '<VirtualSystem ovf:id="웹서버">')
    .replace('<vssd:VirtualSystemIdentifier>ubuntu<', '<vssd:VirtualSystemIdentifier>웹서버<');
  fs.writeFileSync(path.join(dir, '웹서버.ovf'), ovf);
  const ova = path.join(dir, '웹서버.ova');
  sh('tar', ['--format=ustar', '-cf', ova, '-C', dir, '웹서버.ovf', '웹서버-disk1.vmdk']);
  return { ova, vmdk };
}

/**
 * Visible English on the page (runs in the page): every text node and accessible-name attribute
 * of a rendered element, minus commands and digests (pre, code, .mono), parts marked with
 * another language (lang="en" on the language switch's "English"), and allowed words.
 */
function englishLeaks() {
  const ALLOW = new Set([
    // Products, formats and tools, kept as they are in Korean text.
    'stackferry', 'VMware', 'OpenStack', 'Glance', 'Nova', 'Keystone', 'Neutron', 'qemu-img', 'QCOW2', 'VMDK', 'OVA', 'OVF',
    'WebAssembly', 'Markdown', 'Chrome', 'Edge', 'Firefox', 'Chromium', 'VirtualBox', 'Linux', 'Windows', 'Ubuntu',
    'Debian', 'CentOS', 'libosinfo', 'npm', 'qcow2', 'vmdk', 'raw', 'bare',
    // VMDK subformats (the descriptor's createType), shown as they are named.
    'streamOptimized', 'monolithicSparse', 'monolithicFlat', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat', 'vmfs', 'vmfsThin',
    'vmfsSparse', 'seSparse',
    // Property values the suggestions show beside their keys.
    'virtio', 'sata', 'scsi', 'ide', 'bios', 'uefi', 'ubuntu', 'windows', 'linux', 'vCPU', 'vCPUs',
    // Device models named in the reasons (proper names, as Korean documentation writes them).
    'virtio-scsi', 'virtio-net',
    // Units, and the names printed on keys.
    'B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'Enter', 'Space', 'Tab', 'Esc',
  ]);
  // Commands quoted in a sentence.
  const COMMANDS = /\bnpm (start|test)\b/g;
  const word = /[A-Za-z][A-Za-z0-9_\-+./:']*[A-Za-z0-9_]|[A-Za-z]/g;
  const allowed = (w, before) => before === '.' // an extension: ".ova"
    || ALLOW.has(w) || ALLOW.has(w.replace(/[.']+$/, ''))
    || /^[A-Z0-9][A-Z0-9-]*$/.test(w) // acronyms: VM, DNS, TTL, SHA-512, ID
    || /\d/.test(w) // numbers with units, versions, disk1
    || /[_:/=]/.test(w) // property keys (hw_disk_bus), URLs, key=value
    || /\.[A-Za-z0-9]{1,5}$/.test(w); // file names
  const foreign = (el) => {
    const tagged = el.closest('[lang]');
    return tagged && tagged !== document.documentElement && !tagged.lang.startsWith(document.documentElement.lang);
  };
  // Not words of the page: the values offered for a Glance property (identifiers such as
  // `usb`, `debian`) and what the VM's own files call their devices (the NIC table's names).
  const data = (el) => el.closest('.props select, .props option, .vm td');
  const skip = (el) => !el || el.closest('script, style, noscript, pre, code, textarea, .mono, [translate=no]') || foreign(el) || data(el)
    || (el.closest('option') ? !el.closest('select').checkVisibility() : !el.checkVisibility());
  const where = (el) => {
    const id = el.closest('[id]');
    return id ? `#${id.id}` : el.tagName.toLowerCase();
  };
  const found = new Map();
  const check = (text, el, how) => {
    const bad = [...text.replace(COMMANDS, (c) => ' '.repeat(c.length)).matchAll(word)].filter((m) => !allowed(m[0], text[m.index - 1])).map((m) => m[0]);
    if (bad.length) found.set(`${where(el)} ${how}: ${text.trim().slice(0, 90)}`, bad);
  };
  check(document.title, document.documentElement, 'title');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.data.trim() && !skip(n.parentElement)) check(n.data, n.parentElement, 'text');
  }
  for (const el of document.body.querySelectorAll('[aria-label], [placeholder], [title], [alt], [aria-description]')) {
    if (skip(el)) continue;
    for (const a of ['aria-label', 'placeholder', 'title', 'alt', 'aria-description']) {
      if (el.hasAttribute(a)) check(el.getAttribute(a), el, a);
    }
  }
  return [...found].map(([k, words]) => `${k}  [${[...new Set(words)].join(', ')}]`);
}

/** axe-core's serious and critical WCAG 2.x A/AA violations. The page's CSP allows only its own
 * scripts, so axe is served from the page's origin (a routed URL) and added as a script. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => !!window.axe))) {
    const url = `${new URL(page.url()).origin}/__tests__/axe.min.js`;
    await page.route(url, (r) => r.fulfill({ path: AXE, contentType: 'text/javascript; charset=utf-8' }));
    await page.addScriptTag({ url });
  }
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Press Tab until `selector` has the focus; checks the focus is visible (an outline). */
async function tabTo(page, selector, max = 250) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate((s) => {
      const el = document.activeElement;
      if (!el || !el.matches(s)) return null;
      const st = getComputedStyle(el);
      return { outline: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2 };
    }, selector);
    if (at) {
      assert(at.outline, `${selector}: the keyboard focus is visible`);
      return;
    }
  }
  throw new Error(`${selector} not reached with Tab`);
}

/** A step's checks: the English scan (collected into `leaks`), axe, and a screenshot of `section`. */
async function atStep(page, step, { leaks, axe, shot, section }) {
  // The step indicator re-marks itself on the next frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  if (leaks) for (const l of await page.evaluate(englishLeaks)) leaks.push(`[${step}] ${l}`);
  for (const v of await axeViolations(page)) axe.push(`[${step}] ${v.impact} ${v.id}: ${v.nodes.join(' | ')}`);
  if (shot) {
    if (section) await page.locator(section).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    else await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, `${shot}.png`);
    await page.screenshot({ path: file });
    // The committed copies are kept small (a third of the size) where pngquant is installed.
    if (process.env.WEB_SCREENSHOTS && PNGQUANT) sh(PNGQUANT, ['--force', '--skip-if-larger', '--quality', '70-95', '--output', file, file]);
  }
}

async function waitRun(page) {
  await page.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.querySelector('[data-testid=progress]').dataset.state), null, { timeout: 120000 });
  return page.locator(tid('progress')).getAttribute('data-state');
}

export const tests = [
  {
    name: 'korean: the whole flow in Korean by keyboard, a Korean-named OVA keeps its names; no English, axe clean, screenshots',
    async fn(t) {
      const fonts = sh('fc-list', [':lang=ko', 'family']);
      assert(fonts.trim(), 'a Korean font is installed (apt-get install fonts-noto-cjk; scripts/ensure.sh chromium does)');
      const { ova, vmdk } = koreanOva();
      const { page } = await open(t, { locale: 'ko-KR', viewport: VIEWPORT });
      await page.waitForFunction(() => document.body.dataset.openstack);
      const leaks = [];
      const axe = [];
      const names = [];
      const ctx = { leaks, axe };
      assert(await page.evaluate(() => document.documentElement.lang) === 'ko', 'lang="ko"');

      // 1–2. The first view: Connect (optional) and Files.
      await atStep(page, 'files', { ...ctx, shot: '01-files' });

      // 3. Review: the files given (a file chooser cannot be driven by keyboard in automation).
      await feed(page, [ova]);
      const err = await errorText(page);
      assert(!err, `the OVA inspects without error: ${err}`);
      const listed = await page.locator('#file-list').innerText();
      if (!listed.includes('웹서버.ova')) names.push(`file list: ${listed}`);
      const vm = await page.locator('#checklist-vm').inputValue();
      if (vm !== '웹서버') names.push(`VM name in the checklist: ${vm}`);
      await atStep(page, 'review', { ...ctx, shot: '02-review', section: '#step-review' });

      // 4. Convert, with the keyboard.
      await tabTo(page, '#convert-button');
      await page.keyboard.press('Enter');
      const state = await waitRun(page);
      assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
      await atStep(page, 'convert', { ...ctx, shot: '03-convert', section: '#step-convert' });

      // The result: downloaded with the keyboard, under the disk's Korean name.
      await page.locator(tid('result')).evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await atStep(page, 'result', { ...ctx, shot: '04-result' });
      await tabTo(page, tid('download-link'));
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.keyboard.press('Enter')]);
      if (dl.suggestedFilename() !== '웹서버-disk1.qcow2') names.push(`download: ${dl.suggestedFilename()} (want 웹서버-disk1.qcow2)`);
      const out = path.join(TMP, 'ko-result.qcow2');
      await dl.saveAs(out);
      await qemuCompare(vmdk, out);
      const commands = await page.locator(tid('result')).innerText();
      for (const want of ['웹서버-disk1.vmdk', '웹서버-disk1.qcow2']) if (!commands.includes(want)) names.push(`commands lack ${want}`);

      // 5. Launch: needs OpenStack (not on this static server); the step says what to do instead.
      assert(await page.locator('#launch-needs').isVisible(), 'the launch step explains what it needs');
      await atStep(page, 'launch', { ...ctx, shot: '05-launch', section: '#step-launch' });

      // 6. Verify: the checklist, ticked and exported with the keyboard.
      await tabTo(page, '#check-shutdown');
      await page.keyboard.press('Space');
      assert(await page.locator('#check-shutdown').isChecked(), 'ticked with Space');
      await tabTo(page, '#checklist-export');
      const [md] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
      if (md.suggestedFilename() !== 'checklist-웹서버.md') names.push(`checklist export: ${md.suggestedFilename()}`);
      await atStep(page, 'verify', { ...ctx, shot: '06-verify', section: '#checklist-section' });

      // The language switch, by keyboard too: English, and axe on the same state.
      await tabTo(page, '#lang-select');
      await page.keyboard.press('ArrowUp');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
      await atStep(page, 'verify (en)', { axe });

      t.note(`screenshots: ${SHOTS}`);
      const problems = [
        ...names.map((n) => `name: ${n}`),
        ...axe.map((a) => `axe: ${a}`),
        ...leaks.map((l) => `English: ${l}`),
      ];
      // The runner prints a failure's first lines only: the whole list goes into the notes.
      for (const p of problems) t.note(p);
      assert(!problems.length, `${names.length} name, ${axe.length} axe and ${leaks.length} English problems on the Korean page (listed below)`);
    },
  },
  {
    name: 'korean: axe-core finds no serious or critical violation on any step of the English page',
    async fn(t) {
      const { ova } = koreanOva();
      const { page } = await open(t, { viewport: VIEWPORT });
      await page.waitForFunction(() => document.body.dataset.openstack);
      const axe = [];
      await atStep(page, 'files', { axe });
      await feed(page, [ova]);
      await atStep(page, 'review', { axe });
      await page.locator(tid('convert-button')).click();
      assert(await waitRun(page) === 'done', `converted: ${await errorText(page)}`);
      await atStep(page, 'convert', { axe });
      await page.locator('#check-shutdown').check();
      await atStep(page, 'verify', { axe });
      // The narrow (phone) layout too.
      await page.setViewportSize({ width: 390, height: 844 });
      await atStep(page, 'verify (390 px)', { axe });
      for (const a of axe) t.note(a);
      assert(!axe.length, `${axe.length} axe violations (listed below)`);
    },
  },
];
