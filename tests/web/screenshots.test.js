// 10. Screenshots of every page at desktop 1280×800 and phone 375×812, signed in as the
//     role that uses the page, with seeded data; plus what can be checked on them:
//     no horizontal overflow at 375 px, no message key shown untranslated, no empty list.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFile, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fixture, T, openRoute, signIn, SCREENSHOT_DIR, ensureDir, consoleModuleUrl} from './harness.js';

const ctx = fixture();

const VIEWPORTS = {
  desktop: {width: 1280, height: 800, deviceScaleFactor: 1},
  phone: {width: 375, height: 812, deviceScaleFactor: 1, isMobile: true, hasTouch: true},
};

function shots(ids) {
  return [
    {page: 'signin', role: null, hash: '#/signin', ready: '#signin'},
    {page: 'dashboard', role: 'manager', hash: '#/dashboard', ready: '[data-tile] .tile-value'},
    {page: 'tasks', role: 'rep1', hash: '#/tasks', ready: '#tasks-list li[data-kind]'},
    {page: 'pool', role: 'rep1', hash: '#/pool', ready: '#pool-list tr[data-id]'},
    {page: 'leads', role: 'rep1', hash: '#/leads', ready: 'tr[data-id]'},
    {page: 'import', role: 'rep1', hash: '#/leads/import', ready: 'input[type="file"]',
      // The preview of a file with a new row, a duplicate of a pool lead and a bad email.
      async then(p) {
        const dir = await mkdtemp(path.join(tmpdir(), 'evcrm-shot-'));
        const file = path.join(dir, 'leads.csv');
        await writeFile(file, '\ufeff姓名,公司,电话,邮箱,来源,地区\r\n' +
          '曹宁,嘉兴禾田农业科技有限公司,13811112001,caoning@example.cn,展会,嘉兴\r\n' +
          '陈静,杭州云帆信息技术有限公司,138-0000-0001,,展会,杭州\r\n' +
          '邹凯,绍兴纺织印染有限公司,13811112003,zoukai@,官网,绍兴\r\n');
        try {
          await (await p.$('[data-page="import"] input[type="file"]')).uploadFile(file);
          await p.waitForSelector('#import-preview:not([hidden]) [data-action="confirm-import"]', {timeout: T.wait});
        } finally {
          await rm(dir, {recursive: true, force: true});
        }
      }},
    {page: 'lead', role: 'rep1', hash: `#/leads/${ids.rep1Leads[0]}`, ready: 'h1'},
    {page: 'customers', role: 'rep1', hash: '#/customers', ready: 'tr[data-id]'},
    {page: 'customer', role: 'rep1', hash: `#/customers/${ids.customer}`, ready: '[data-id="' + ids.contract + '"]'},
    {page: 'finance', role: 'finance', hash: '#/finance', ready: 'tr[data-id]'},
    {page: 'handover', role: 'manager', hash: '#/handover', ready: 'select[name="staff_id"]',
      async then(p, c) {
        await p.select('[data-page="handover"] select[name="staff_id"]', c.people.rep2.id);
        await p.waitForSelector('[data-page="handover"] [data-tile="counts.leads"]', {timeout: T.wait});
      }},
    {page: 'org', role: 'admin', hash: '#/org', ready: '#staff-list tr[data-id]'},
    {page: 'audit', role: 'auditor', hash: '#/audit', ready: '#event-feed > [data-position]',
      async then(p) {
        await p.click('#verify');
        await p.waitForFunction(() => (document.querySelector('#verify-result') || {dataset: {}}).dataset.ok, {timeout: T.wait});
      }},
  ];
}

// What is wrong that a look at the page would show.
async function inspect(page, name, keys) {
  return page.evaluate((pageName, messageKeys) => {
    const vw = document.documentElement.clientWidth;
    const overflow = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - vw;
    // Elements sticking out of the viewport, not inside a horizontal scroller.
    const wide = [];
    if (overflow > 1) {
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= vw + 1) continue;
        let p = el.parentElement;
        let clipped = false;
        while (p && p !== document.body) {
          const ox = getComputedStyle(p).overflowX;
          if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') { clipped = true; break; }
          p = p.parentElement;
        }
        if (clipped) continue;
        const desc = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
        wide.push(`${desc} right=${Math.round(r.right)}`);
        if (wide.length >= 6) break;
      }
    }
    const text = document.body.innerText;
    const untranslated = messageKeys.filter((k) => new RegExp(`(^|[^\\w.])${k.replace(/\./g, '\\.')}($|[^\\w.])`).test(text));
    const root = document.querySelector(`[data-page="${pageName}"]`);
    // Empty main lists (the pool's "due for recycle" list may well be empty).
    const empties = root ? [...root.querySelectorAll('.empty-row, .empty-feed')].filter((e) => !e.closest('#pool-due'))
      .map((e) => e.textContent.trim()) : [];
    const alerts = [...document.querySelectorAll('.alert:not([hidden])')].filter((a) => !a.classList.contains('alert-ok')).map((a) => a.textContent.trim());
    // The shell's navigation bar (the side bar, on a phone a bar on top).
    const barEl = document.querySelector('aside, header, [role="banner"]');
    const bar = barEl ? {what: barEl.tagName.toLowerCase() + (barEl.className ? '.' + String(barEl.className).split(' ')[0] : ''),
      height: Math.round(barEl.getBoundingClientRect().height)} : null;
    return {overflow, wide, untranslated, empties, alerts, bar, height: document.documentElement.scrollHeight};
  }, name, keys);
}

let report = null;

test('screenshots of every page at desktop and phone sizes', {timeout: 150000}, async () => {
  const dir = await ensureDir(SCREENSHOT_DIR);
  const list = shots(ctx.ids);
  const shotReport = {};
  let keys = null;
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const pages = {};  // role → page
    for (const s of list) {
      let page = pages[s.role || 'none'];
      if (!page) {
        page = await ctx.page({viewport});
        if (s.role) await signIn(page, ctx.url, ctx.people[s.role].email, ctx.people[s.role].password);
        else await page.goto(`${ctx.url}/#/signin`, {waitUntil: 'domcontentloaded'});
        pages[s.role || 'none'] = page;
      }
      await openRoute(page, s.hash, s.page, {ready: `[data-page="${s.page}"] ${s.ready}`});
      if (s.then) await s.then(page, ctx);
      if (s.role) await page.waitForSelector('#live-status[data-state="live"]', {timeout: 5000}).catch(() => {});
      await page.evaluate(() => document.fonts.ready.then(() => true));
      if (!keys) {
        const url = await consoleModuleUrl(page, 'i18n/zh-CN.js');
        keys = await page.evaluate(async (u) => Object.keys((await import(u)).default), url);
      }
      // Let pending layout settle: two animation frames.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      shotReport[`${s.page}-${size}`] = await inspect(page, s.page, keys);
      // The whole page: a viewport as tall as the document (so the sticky, 100vh-high
      // side bar is drawn as a user sees it while scrolling), then back.
      const file = path.join(dir, `${s.page}-${size}.png`);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      if (height > viewport.height) {
        await page.setViewport({...viewport, height});
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      }
      await page.screenshot({path: file});
      if (height > viewport.height) await page.setViewport(viewport);
    }
  }
  await writeFile(path.join(dir, 'report.json'), JSON.stringify(shotReport, null, 2));
  report = shotReport;
});

// What the screenshots show, checked (after the screenshots, from their report).
function needReport() {
  assert.ok(report, 'the screenshots were not all taken');
  return report;
}

test('screenshots: no horizontal overflow at 375 px', {timeout: 5000}, () => {
  const bad = Object.entries(needReport()).filter(([k, r]) => k.endsWith('-phone') && r.overflow > 1)
    .map(([k, r]) => `${k}: ${r.overflow}px wider than the screen (${r.wide.join(', ')})`);
  assert.deepEqual(bad, []);
});

test('screenshots: the phone top bar stays one row high (at most 80 px)', {timeout: 5000}, () => {
  const bad = Object.entries(needReport()).filter(([k, r]) => k.endsWith('-phone') && r.bar && r.bar.height > 80)
    .map(([k, r]) => `${k}: ${r.bar.what} is ${r.bar.height}px high (the page is shorter than the screen)`);
  assert.deepEqual(bad, []);
});

test('screenshots: no message key shown untranslated', {timeout: 5000}, () => {
  const bad = Object.entries(needReport()).filter(([, r]) => r.untranslated.length).map(([k, r]) => `${k}: ${r.untranslated.join(', ')}`);
  assert.deepEqual(bad, []);
});

test('screenshots: no page shows an error or an empty main list', {timeout: 5000}, () => {
  const bad = Object.entries(needReport()).filter(([, r]) => r.alerts.length || r.empties.length)
    .map(([k, r]) => `${k}: ${[...r.alerts, ...r.empties].join(' | ')}`);
  assert.deepEqual(bad, []);
});
