// The page's frame: its language (from the browser, switched and remembered), the step
// indicator (which step is done, current, next), and the checklist's export in Korean.
import fs from 'node:fs';
import path from 'node:path';
import { VMDKRS, TMP, assert, open, tid, feed, convert, errorText, computeSha512 } from '../page-lib.mjs';
import ko from '../../src/i18n/ko.js';

const HANGUL = /\p{Script=Hangul}/u;

/** The visible h2 headings' texts. */
function headings(page) {
  return page.evaluate(() => [...document.querySelectorAll('h2')].filter((h) => h.checkVisibility()).map((h) => h.textContent.trim()));
}

/** `{step: state}` of the indicator, and the step marked aria-current. */
function stepStates(page) {
  return page.evaluate(() => {
    const states = {};
    for (const li of document.querySelectorAll('nav.steps li[data-step]')) {
      states[li.dataset.step] = { state: li.dataset.state, text: li.querySelector('.step-state').textContent, visible: li.checkVisibility() };
    }
    const cur = document.querySelectorAll('nav.steps [aria-current=step]');
    return { states, current: cur.length === 1 ? cur[0].closest('li').dataset.step : `${cur.length} marked` };
  });
}

/** Wait until the indicator (re-marked on the next frame after a change) shows `step` as current. */
async function currentIs(page, step) {
  try {
    await page.waitForFunction((s) => {
      const a = document.querySelector('nav.steps [aria-current=step]');
      return a && a.closest('li').dataset.step === s;
    }, step, { timeout: 10000 });
  } catch {
    throw new Error(`step ${step} should be current: ${JSON.stringify(await stepStates(page))}`);
  }
}

export const tests = [
  {
    name: 'shell: an en-US browser gets lang="en" and English, a ko-KR browser lang="ko" and Korean headings',
    async fn(t) {
      const en = (await open(t)).page;
      assert(await en.evaluate(() => document.documentElement.lang) === 'en', 'lang="en"');
      assert(/VMware disks to OpenStack images/.test(await en.title()), `English title: ${await en.title()}`);
      const enHeads = await headings(en);
      assert(enHeads.includes('Your VMware files') && enHeads.some((h) => /^Connect to OpenStack/.test(h)), `English headings: ${enHeads}`);
      assert(await en.locator('#lang-select').inputValue() === 'en', 'the switch shows English');

      const ko = (await open(t, { locale: 'ko-KR' })).page;
      assert(await ko.evaluate(() => document.documentElement.lang) === 'ko', 'lang="ko"');
      assert(HANGUL.test(await ko.title()), `Korean title: ${await ko.title()}`);
      const koHeads = await headings(ko);
      assert(koHeads.length >= 6 && koHeads.every((h) => HANGUL.test(h)), `every heading in Korean: ${koHeads.join(' | ')}`);
      assert(await ko.locator('#lang-select').inputValue() === 'ko', 'the switch shows 한국어');
      const skip = await ko.locator('.skip').textContent();
      assert(HANGUL.test(skip), `skip link in Korean: ${skip}`);
      const caps = await ko.locator('#caps').textContent();
      assert(HANGUL.test(caps) && !/decode workers/.test(caps), `footer line in Korean, no jargon: ${caps}`);
    },
  },
  {
    name: 'shell: the language switch (keyboard) changes the page at once and is remembered across a reload',
    async fn(t) {
      const { page } = await open(t);
      // The switch is labelled and reached and worked with the keyboard.
      const label = await page.evaluate(() => document.querySelector('#lang-select').labels[0].textContent);
      assert(/Language/.test(label) && /언어/.test(label), `labelled in both languages: ${label}`);
      await page.locator('#lang-select').focus();
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction(() => document.documentElement.lang === 'ko', null, { timeout: 5000 });
      const heads = await headings(page);
      assert(heads.every((h) => HANGUL.test(h)), `headings switched at once: ${heads.join(' | ')}`);
      assert(HANGUL.test(await page.title()), `title switched: ${await page.title()}`);
      assert(HANGUL.test(await page.locator('#convert-button').textContent()), 'buttons switched');
      await page.waitForFunction(() => /\p{Script=Hangul}/u.test(document.querySelector('nav.steps [aria-current=step] .step-state').textContent));
      assert(HANGUL.test(await page.locator('#check-dns-ttl + label').textContent()), 'checklist items switched');
      await page.reload();
      await page.waitForSelector('body[data-ready=true]');
      assert(await page.evaluate(() => document.documentElement.lang) === 'ko', 'Korean remembered across the reload (the browser says en-US)');
      assert(await page.locator('#lang-select').inputValue() === 'ko', 'the switch shows the remembered language');
      assert(HANGUL.test(await page.locator('#h-files').textContent()), 'headings in Korean after the reload');
      await page.locator('#lang-select').selectOption('en');
      assert(await page.locator('#h-files').textContent() === 'Your VMware files', 'and back to English');
      assert(await page.evaluate(() => document.documentElement.lang) === 'en', 'lang="en" again');
    },
  },
  {
    name: 'shell: the step indicator shows Files current on load, then Review, then the step after the conversion',
    async fn(t) {
      const { page } = await open(t);
      await page.waitForFunction(() => document.body.dataset.openstack);
      let s = await stepStates(page);
      // Six numbered steps, all shown (no "1." then "5.").
      assert(Object.keys(s.states).join() === 'connect,files,review,convert,launch,verify', `steps in order: ${Object.keys(s.states)}`);
      assert(Object.values(s.states).every((x) => x.visible), 'every step shown');
      const numbers = await page.locator('nav.steps .step-num').allInnerTexts();
      assert(numbers.join() === '1.,2.,3.,4.,5.,6.', `numbered 1 to 6: ${numbers}`);
      await currentIs(page, 'files');
      s = await stepStates(page);
      assert(s.states.files.text === 'current step', `the current step says so in words: ${s.states.files.text}`);
      assert(s.states.review.state === 'next' && s.states.review.text === 'next', `review is next: ${JSON.stringify(s.states.review)}`);
      // This static server has no edge worker: Connect and Launch say they are not available here.
      assert(s.states.connect.text === 'not available here' && s.states.launch.state === 'unavailable', `no OpenStack here: ${JSON.stringify(s.states)}`);
      // The empty steps say what they wait for.
      assert(await page.locator('#step-review .step-empty').isVisible(), 'review says it waits for files');

      await feed(page, [path.join(VMDKRS, 'streamOptimized.vmdk')]);
      await currentIs(page, 'review');
      s = await stepStates(page);
      assert(s.states.files.state === 'done' && s.states.files.text === 'done', `files done: ${JSON.stringify(s.states.files)}`);
      assert(s.states.convert.state === 'next', `convert next: ${JSON.stringify(s.states.convert)}`);
      assert(!(await page.locator('#step-review .step-empty').isVisible()), 'the placeholder goes once there is something to review');

      const state = await convert(page, 'qcow2');
      assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
      // Launch is not available on this server: the checklist (Verify) is what is left.
      await currentIs(page, 'verify');
      s = await stepStates(page);
      for (const done of ['files', 'review', 'convert']) assert(s.states[done].state === 'done', `${done} done: ${JSON.stringify(s.states)}`);

      // The indicator's links go to their steps.
      await page.locator('nav.steps li[data-step=convert] a').click();
      assert(await page.evaluate(() => location.hash) === '#step-convert', 'link to the step');
    },
  },
  {
    name: 'shell: the step indicator with a session: Connect done, Launch current after a conversion, then Verify once launched',
    async fn(t) {
      const { page } = await open(t);
      await page.waitForFunction(() => document.body.dataset.openstack);
      // No OpenStack here: what openstack/login.js and launch.js show is set by hand.
      await page.evaluate(() => {
        document.body.dataset.openstack = 'available';
        for (const id of ['session', 'os-panel']) document.getElementById(id).hidden = false;
        document.getElementById('login-form').hidden = true;
      });
      // The indicator is re-marked on the next frame: wait for that frame (current was "files"
      // before the change too, so waiting for it alone read the old marks under load).
      await page.waitForFunction(() => document.querySelector('nav.steps li[data-step=connect]').dataset.state !== 'unavailable', null, { timeout: 5000 })
        .catch(() => {});
      await currentIs(page, 'files');
      let s = await stepStates(page);
      assert(s.states.connect.state === 'done' && s.states.launch.state === 'later', `connected: ${JSON.stringify(s.states)}`);
      await feed(page, [path.join(VMDKRS, 'streamOptimized.vmdk')]);
      assert(await convert(page, 'qcow2') === 'done', `converted: ${await errorText(page)}`);
      await currentIs(page, 'launch');
      const needs = await page.locator('#launch-needs').innerText();
      assert(/Send the image to OpenStack/.test(needs), `the launch step says what it waits for: ${needs}`);
      await page.evaluate(() => {
        document.getElementById('launch').hidden = false;
        document.getElementById('server-status').hidden = false;
      });
      await currentIs(page, 'verify');
      assert(!(await page.locator('#launch-needs').isVisible()), 'the hint goes when the launch form is there');
      s = await stepStates(page);
      assert(s.states.launch.state === 'done', `launched: ${JSON.stringify(s.states.launch)}`);
    },
  },
  {
    name: 'shell: checklist in Korean: export keeps the Hangul name, Korean local date, digests shown, no Glance tick after a local conversion',
    async fn(t) {
      const { page } = await open(t, { locale: 'ko-KR' });
      const dir = fs.mkdtempSync(path.join(TMP, 'ko-'));
      const src = path.join(dir, '웹서버.vmdk');
      fs.copyFileSync(path.join(VMDKRS, 'streamOptimized.vmdk'), src);
      await feed(page, [src]);
      const state = await convert(page, 'qcow2');
      assert(state === 'done', `converted: ${state} ${await errorText(page)}`);
      const vm = await page.locator('#checklist-vm').inputValue();
      assert(/^웹서버/.test(vm), `the checklist is the VM's: ${vm}`);
      assert(await page.locator('#check-convert').isChecked(), 'converting ticks "convert"');
      assert(!(await page.locator('#check-upload').isChecked()), 'a local conversion does not tick the upload to Glance');
      // The content digest is recorded at once; the SHA-512 once computed (its button in Korean).
      assert(!(await page.locator(tid('checklist-sha512')).count()), 'no SHA-512 on the checklist before it is computed');
      const compute = page.locator(tid('sha512-compute'));
      assert((await compute.textContent()) === ko['run.result.sha512Compute'], `the Compute button in Korean: ${await compute.textContent()}`);
      const sha = await computeSha512(page);
      const shown = await page.locator(tid('checklist-sha512')).first().textContent();
      assert(sha && shown === sha, `checklist shows the SHA-512 it records: ${shown} vs ${sha}`);
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#checklist-export').click()]);
      const name = dl.suggestedFilename();
      assert(name === `checklist-${vm}.md`, `file name keeps the Hangul: ${name}`);
      const md = fs.readFileSync(await dl.path(), 'utf8');
      assert(md.startsWith(`# 마이그레이션 체크리스트: ${vm}\n`), `Korean title: ${md.slice(0, 80)}`);
      assert(/- \[x\] 디스크를 변환합니다/.test(md) && /- \[ \] 이미지를 Glance에 업로드/.test(md), `Korean items, upload unticked: ${md}`);
      assert(md.includes(sha), 'the SHA-512 is in the export');
      const stamp = /_마지막 수정: (.+)_\n$/.exec(md);
      assert(stamp, `stamped: ${md.slice(-120)}`);
      assert(/^\d{4}년 \d{1,2}월 \d{1,2}일 (오전|오후) \d{1,2}:\d{2}$/.test(stamp[1]), `Korean date and time: ${stamp[1]}`);
      assert(!/\d{4}-\d{2}-\d{2}T/.test(md), 'no UTC ISO stamp');
      // In the reader's time zone: what the browser itself says for that moment.
      const local = await page.evaluate(() => {
        const all = JSON.parse(localStorage.getItem('stackferry.checklist.v1'));
        const c = Object.values(all)[0];
        return new Intl.DateTimeFormat('ko-KR', { dateStyle: 'long', timeStyle: 'short' }).format(new Date(c.updated));
      });
      assert(stamp[1] === local, `local time: ${stamp[1]} vs ${local}`);
      // A send that ends with every hash matching (openstack/upload.js marks #upload-progress
      // done; there is no OpenStack here, so the mark is set by hand) ticks the upload.
      await page.evaluate(() => { document.querySelector('#upload-progress').dataset.state = 'done'; });
      await page.waitForFunction(() => document.querySelector('#check-upload').checked, null, { timeout: 5000 });
    },
  },
  {
    name: 'shell: every static text and label of index.html comes from both catalogues',
    async fn(t) {
      const { page } = await open(t, { locale: 'ko-KR' });
      const bad = await page.evaluate(async () => {
        const i18n = await import('./i18n/index.js');
        const html = await (await fetch(location.href)).text();
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const out = [];
        const keyOk = (k) => i18n.CATALOGUES.en[k] != null && i18n.CATALOGUES.ko[k] != null;
        const walker = doc.createTreeWalker(doc.documentElement, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if (!/\p{L}/u.test(n.data)) continue;
          const el = n.parentElement;
          if (el.closest('script, style')) continue;
          const marked = el.closest('[data-i18n]');
          const tagged = el.closest('[lang]');
          if (marked && keyOk(marked.dataset.i18n)) continue;
          if (tagged && tagged !== doc.documentElement) continue; // the language switch's own words
          if (el.tagName === 'H1') continue; // the product's name
          out.push(`text "${n.data.trim().slice(0, 60)}" ${marked ? `(key ${marked.dataset.i18n} missing)` : ''}`);
        }
        for (const el of doc.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
          const attrs = new Map((el.dataset.i18nAttr || '').split(';').filter(Boolean).map((p) => p.split(':').map((x) => x.trim())));
          for (const a of ['placeholder', 'aria-label', 'title', 'alt']) {
            if (el.hasAttribute(a) && !(attrs.has(a) && keyOk(attrs.get(a)))) out.push(`${a} of ${el.id || el.tagName}`);
          }
        }
        return out;
      });
      assert(!bad.length, `untranslated in index.html: ${bad.join('; ')}`);
    },
  },
  {
    name: 'shell: the Korean page on a phone (390 px): no horizontal scrolling, the steps fit',
    async fn(t) {
      const { page } = await open(t, { locale: 'ko-KR', viewport: { width: 390, height: 844 } });
      await feed(page, [path.join(VMDKRS, 'streamOptimized.vmdk')]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `page wider than the screen by ${overflow}px`);
      const steps = await page.evaluate(() => [...document.querySelectorAll('nav.steps a')].map((a) => a.getBoundingClientRect()).every((r) => r.right <= window.innerWidth && r.width > 100));
      assert(steps, 'every step box on screen');
    },
  },
];
