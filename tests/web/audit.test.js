// 6. An auditor sees a new event arrive in the live feed, and verify succeeds.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute} from './harness.js';

const ctx = fixture();

test('an auditor sees a new event arrive in the live feed and the log verifies', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('auditor');
  assert.match(await page.evaluate(() => location.hash), /^#\/audit/, 'an auditor lands on the audit page');
  await openRoute(page, '#/audit', 'audit', {ready: '#event-feed > [data-position]'});
  const shown = await page.$$eval('#event-feed > [data-position]', (els) => els.map((e) => Number(e.dataset.position)));
  assert.ok(shown.includes(ctx.ids.seedPosition), `the feed shows the head of the seed (#${ctx.ids.seedPosition}); shows ${shown.slice(0, 5).join(', ')}…`);
  await page.waitForSelector('#live-status[data-state="live"]', {timeout: T.wait});
  const marker = `m-${Math.random()}`;
  await page.evaluate((m) => { window.__e2eMarker = m; }, marker);

  const admin = await ctx.api('admin');
  const lead = await admin.post('/leads', {name: '审计测试', company: '审计实时推送有限公司', region: '上海'}, {expect: 201});
  try {
    await page.waitForSelector(`#event-feed > [data-position="${lead.position}"]`, {timeout: 5000});
  } catch {
    const top = await page.$$eval('#event-feed > [data-position]', (els) => els.slice(0, 3).map((e) => e.dataset.position));
    assert.fail(`event #${lead.position} did not arrive in #event-feed within 5 s (top: ${top.join(', ')})`);
  }
  const ev = await page.$eval(`#event-feed > [data-position="${lead.position}"]`, (e) => ({text: e.textContent, index: [...e.parentNode.children].indexOf(e)}));
  assert.ok(ev.text.includes(lead.id), 'the event names its stream (the lead id)');
  assert.equal(ev.index, 0, 'the newest event is on top');
  // One child per event: no duplicates.
  const positions = await page.$$eval('#event-feed > [data-position]', (els) => els.map((e) => e.dataset.position));
  assert.equal(new Set(positions).size, positions.length, 'one child per event');
  assert.equal(await page.evaluate(() => window.__e2eMarker), marker, 'no reload');

  await page.click('#verify');
  await page.waitForFunction(() => {
    const r = document.querySelector('#verify-result');
    return r && r.dataset.ok !== undefined && r.dataset.ok !== '';
  }, {timeout: T.wait});
  const result = await page.$eval('#verify-result', (r) => ({ok: r.dataset.ok, text: r.textContent,
    head: (r.querySelector('[data-field="head_position"]') || {}).textContent}));
  const api = await ctx.api('auditor');
  const verify = await api.get('/audit/verify');
  assert.equal(verify.ok, true);
  assert.equal(result.ok, 'true', `#verify-result says ${result.text}`);
  assert.equal(Number(result.head), verify.head_position, '#verify-result shows the head position');
  assert.ok(result.text.includes(verify.head_hash), '#verify-result shows the head hash');
});
