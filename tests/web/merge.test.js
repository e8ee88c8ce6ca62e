// 18. Customer merge (合并客户): a manager merges a duplicate customer into another from
//     the Customer 360 page (search, pick, confirm); the survivor shows the contact that
//     moved and "merged from"; the merged one shows a banner linking the survivor, has no
//     actions left and is gone from the list; the history reads both events. A rep has no
//     merge action.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse, screenshot} from './harness.js';

const ctx = fixture();

const TOP = 'dialog[open]:last-of-type';

test('a manager merges a duplicate customer into another: banner, moved contact, history', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const survivor = {name: '杭州合并测试有限公司'};
  const other = {name: '杭州合并测试公司（重复录入）'};
  survivor.id = (await rep1.post('/customers', {name: survivor.name, region: '杭州', level: 'B'}, {expect: 201})).id;
  other.id = (await rep1.post('/customers', {name: other.name, region: '杭州'}, {expect: 201})).id;
  const contact = await rep1.post(`/customers/${other.id}/contacts`, {name: '蒋合并', title: '总经理', phone: '13500000061'}, {expect: 201});
  const opp = await rep1.post('/opportunities', {customer_id: other.id, name: '合并测试商机', amount: 1000000, currency: 'CNY',
    expected_close_date: '2030-01-31', stage: 'proposal'}, {expect: 201});

  const page = await ctx.signedIn('manager');
  await openRoute(page, `#/customers/${survivor.id}`, 'customer', {ready: '[data-action="merge"]'});
  await page.click('[data-action="merge"]');
  await page.waitForSelector(`${TOP} input[name="q"]`, {visible: true});
  await page.type(`${TOP} input[name="q"]`, '合并测试');
  await page.click(`${TOP} [data-action="merge-search"]`);
  await page.waitForSelector(`${TOP} input[type="radio"][value="${other.id}"]`, {visible: true});
  assert.equal(await page.$(`${TOP} input[type="radio"][value="${survivor.id}"]`), null, 'the customer itself is not offered');
  await page.click(`${TOP} input[type="radio"][value="${other.id}"]`);
  await page.click(`${TOP} button[type="submit"]`);

  // The confirmation says what moves and that the other one disappears.
  await page.waitForSelector(`${TOP} .confirm-text`, {visible: true});
  const text = await page.$eval(`${TOP} .confirm-text`, (e) => e.textContent);
  for (const part of [other.name, survivor.name, '联系人', '商机', '合同', '跟进', '历史', '列表']) {
    assert.ok(text.includes(part), `the confirmation mentions ${part}: ${text}`);
  }
  const answer = nextResponse(page, (r) => r.url().endsWith(`/customers/${survivor.id}/merge`) && r.request().method() === 'POST', 'POST …/merge');
  await page.click(`${TOP} button[type="submit"]`);
  const res = await answer;
  assert.equal(res.status(), 200, `the merge answered ${res.status()}: ${await res.text()}`);
  assert.deepEqual(JSON.parse(res.request().postData()), {from: other.id});

  // The survivor: "merged from" the other, with its contact.
  await page.waitForSelector(`[data-field="merged_from"] a[data-id="${other.id}"]`, {visible: true});
  await page.waitForSelector(`tr[data-id="${contact.id}"]`, {visible: true});
  await page.waitForSelector(`tr[data-id="${opp.id}"]`, {visible: true});
  // (The live update may draw the survivor before the page's own reload says so.)
  await page.waitForSelector('[data-page="customer"] > .alert-ok', {visible: true});
  const ok = await page.$eval('[data-page="customer"] > .alert-ok', (e) => e.textContent);
  assert.ok(ok.includes('合并'), `the page says it merged: ${ok}`);
  await page.waitForSelector('.timeline.events [data-event="CustomerAbsorbed"]');
  const absorbed = await page.$eval('.timeline.events [data-event="CustomerAbsorbed"]', (e) => e.textContent);
  assert.ok(absorbed.includes(other.id) && absorbed.includes('并入'), `the history reads the merge: ${absorbed}`);
  const moved = await page.$$eval('.timeline.events [data-event="RecordMoved"]', (es) => es.map((e) => e.textContent));
  assert.ok(moved.some((m) => m.includes(`从客户 ${other.id} 转移到 ${survivor.id}`)), `the history reads the moved contact: ${moved}`);
  assert.ok(moved.some((m) => m.includes('负责人：李小明')), `the moved opportunity names its owner: ${moved}`);

  // The merged one: a banner to the survivor, no actions, read-only.
  await page.click(`[data-field="merged_from"] a[data-id="${other.id}"]`);
  await page.waitForSelector(`.merged-banner[data-merged-into="${survivor.id}"]`, {visible: true});
  await page.waitForFunction((name) => document.querySelector('.merged-banner [data-action="open-survivor"]').textContent === name, {}, survivor.name);
  const banner = await page.$eval('.merged-banner', (e) => e.textContent);
  assert.ok(banner.includes('已合并到'), `the banner: ${banner}`);
  const actions = await page.$$eval('[data-page="customer"] .c360 button[data-action]', (bs) => bs.map((b) => b.dataset.action));
  assert.deepEqual(actions, [], 'a merged customer has no actions');
  assert.equal(await page.$(`tr[data-id="${contact.id}"]`), null, 'its contact is no longer here');
  await page.waitForSelector('.timeline.events [data-event="CustomerMerged"]');
  await screenshot(page, 'customer-merged-desktop');

  // Gone from the list.
  const list = await (await ctx.api('manager')).get('/customers?limit=500');
  assert.ok(!list.items.some((c) => c.id === other.id), 'the merged customer is not listed');
  await page.click('.merged-banner [data-action="open-survivor"]');
  await page.waitForSelector(`[data-field="merged_from"] a[data-id="${other.id}"]`, {visible: true});
});

test('a rep has no merge action; a refused merge shows why', {timeout: T.test}, async () => {
  const rep = await ctx.signedIn('rep1');
  await openRoute(rep, `#/customers/${ctx.ids.customer2}`, 'customer', {ready: '[data-action="edit"]'});
  assert.equal(await rep.$('[data-action="merge"]'), null);

  // Someone else merged the picked customer meanwhile: the 409's detail is shown.
  const rep1 = await ctx.api('rep1');
  const a = await rep1.post('/customers', {name: '无锡竞态测试甲公司'}, {expect: 201});
  const b = await rep1.post('/customers', {name: '无锡竞态测试乙公司'}, {expect: 201});
  const page = await ctx.signedIn('admin');
  await openRoute(page, `#/customers/${a.id}`, 'customer', {ready: '[data-action="merge"]'});
  await page.click('[data-action="merge"]');
  await page.waitForSelector(`${TOP} input[name="q"]`, {visible: true});
  await page.type(`${TOP} input[name="q"]`, '无锡竞态');
  await page.click(`${TOP} [data-action="merge-search"]`);
  await page.waitForSelector(`${TOP} input[type="radio"][value="${b.id}"]`, {visible: true});
  await page.click(`${TOP} input[type="radio"][value="${b.id}"]`);
  await page.click(`${TOP} button[type="submit"]`);
  await page.waitForSelector(`${TOP} .confirm-text`, {visible: true});
  const admin = await ctx.api('admin');
  await admin.post(`/customers/${ctx.ids.customer2}/merge`, {from: b.id});
  const answer = nextResponse(page, (r) => r.url().endsWith(`/customers/${a.id}/merge`), 'POST …/merge');
  await page.click(`${TOP} button[type="submit"]`);
  assert.equal((await answer).status(), 409);
  await page.waitForSelector(`${TOP} .alert:not([hidden]) .alert-detail`, {visible: true});
  const detail = await page.$eval(`${TOP} .alert .alert-detail`, (e) => e.textContent);
  assert.ok(detail.includes('merged'), `the detail says why: ${detail}`);
});
