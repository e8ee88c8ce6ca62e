// 16. Lead import (导入线索): a rep uploads a CSV as Chinese Excel saves it (GB18030,
//     CRLF, Chinese headers, a quoted field with a comma) from the leads list's "导入";
//     the preview names the duplicate row (of an existing lead, by phone) and the invalid
//     one (a bad email) by row number; confirming creates the other rows, which the leads
//     list then shows. A file the server refuses as a whole says why.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, writeFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fixture, T, openRoute, nextResponse, screenshot, waitUntil} from './harness.js';

const ctx = fixture();

// GB18030 bytes (Node cannot encode GB18030), made once with
//   python3 -c "print('…'.encode('gb18030').hex())"
// of these lines, each ending in CRLF as Excel writes them:
//   姓名,公司,电话,邮箱,来源,地区
//   赵一,"北京朗润科技有限公司,海淀分部",13811110001,zhaoyi@example.cn,展会,北京   (row 2)
//   钱二,杭州钱塘贸易有限公司,+86 138 0000 0077,,官网,杭州                       (row 3: duplicate phone)
//   孙三,南京秦淮电子有限公司,13811110003,not-an-email,转介绍,南京               (row 4: invalid email)
//   李四,苏州园区软件有限公司,13811110004,lisi@example.cn,展会,苏州              (row 5)
const GB18030_CSV = Buffer.from(
  'd0d5c3fb2cb9abcbbe2cb5e7bbb02cd3cacfe42cc0b4d4b42cb5d8c7f80d0ad5d4d2bb2c22b1b1bea9c0cac8f3bfc6bc' +
  'bcd3d0cfdeb9abcbbe2cbaa3b5edb7d6b2bf222c31333831313131303030312c7a68616f7969406578616d706c652e63' +
  '6e2cd5b9bbe12cb1b1bea90d0ac7aeb6fe2cbabcd6ddc7aeccc1c3b3d2d7d3d0cfdeb9abcbbe2c2b3836203133382030' +
  '30303020303037372c2cb9d9cdf82cbabcd6dd0d0acbefc8fd2cc4cfbea9c7d8bbb4b5e7d7d3d3d0cfdeb9abcbbe2c31' +
  '333831313131303030332c6e6f742d616e2d656d61696c2cd7aabde9c9dc2cc4cfbea90d0ac0eecbc42ccbd5d6ddd4b0' +
  'c7f8c8edbcfed3d0cfdeb9abcbbe2c31333831313131303030342c6c697369406578616d706c652e636e2cd5b9bbe12c' +
  'cbd5d6dd0d0a', 'hex');

async function tempFile(name, bytes) {
  const dir = await mkdtemp(path.join(tmpdir(), 'evcrm-import-'));
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return {file, done: () => rm(dir, {recursive: true, force: true})};
}

const tileValue = (page, k) => page.$eval(`#import-preview [data-count="${k}"] .tile-value`, (e) => e.dataset.value);

test('a rep imports a GB18030 CSV from Excel: preview with the duplicate and the invalid row, then the leads', {timeout: T.test}, async () => {
  // The lead the file's row 3 duplicates: the same phone, written differently.
  const rep1 = await ctx.api('rep1');
  const existing = await rep1.post('/leads', {name: '冯晨', company: '宁波甬江机电有限公司', phone: '13800000077', region: '宁波'}, {expect: 201});
  const tmp = await tempFile('leads-gb18030.csv', GB18030_CSV);
  try {
    const page = await ctx.signedIn('rep1');
    await openRoute(page, '#/leads', 'leads', {ready: 'tr[data-id]'});
    await page.click('[data-page="leads"] [data-action="import-leads"]');
    await openRoute(page, '#/leads/import', 'import', {ready: 'input[type="file"][name="file"]'});

    const input = await page.$('[data-page="import"] input[type="file"][name="file"]');
    const dry = nextResponse(page, (r) => r.url().includes('/api/v1/leads/import') && r.request().method() === 'POST', 'the dry run');
    await input.uploadFile(tmp.file);
    const res = await dry;
    assert.equal(res.status(), 200, `the dry run answered ${res.status()}: ${await res.text()}`);
    const url = new URL(res.url());
    assert.equal(url.searchParams.get('dry_run'), 'true', 'the first upload is a dry run');
    assert.match(res.request().headers()['content-type'], /^text\/csv/, 'the file goes as text/csv');
    const answer = await res.json();
    assert.equal(answer.rows, 4);

    await page.waitForSelector('#import-preview:not([hidden]) [data-action="confirm-import"]', {visible: true});
    assert.equal(await tileValue(page, 'rows'), '4');
    assert.equal(await tileValue(page, 'created'), '2', 'two rows can be created');
    assert.equal(await tileValue(page, 'duplicates'), '1');
    assert.equal(await tileValue(page, 'invalid'), '1');
    // The duplicate: row 3, linked to the existing lead.
    const dups = await page.$$eval('#import-duplicates tr[data-row]', (rows) => rows.map((r) => ({row: r.dataset.row, existing: r.dataset.existingId,
      href: r.querySelector('a') ? r.querySelector('a').getAttribute('href') : null})));
    assert.deepEqual(dups, [{row: '3', existing: existing.id, href: `#/leads/${existing.id}`}]);
    // The invalid row: row 4, its email.
    const bad = await page.$$eval('#import-invalid tr[data-row]', (rows) => rows.map((r) => ({row: r.dataset.row,
      fields: [...r.querySelectorAll('[data-field]')].map((f) => f.dataset.field), text: r.textContent})));
    assert.equal(bad.length, 1, JSON.stringify(bad));
    assert.equal(bad[0].row, '4');
    assert.deepEqual(bad[0].fields, ['email']);
    const confirmLabel = await page.$eval('[data-action="confirm-import"]', (b) => b.textContent);
    assert.ok(confirmLabel.includes('2'), `the button says how many: ${confirmLabel}`);
    await screenshot(page, 'import-preview-desktop');

    // Confirm: the same bytes, for real.
    const real = nextResponse(page, (r) => r.url().includes('/api/v1/leads/import') && r.request().method() === 'POST', 'the import');
    await page.click('[data-action="confirm-import"]');
    const done = await real;
    assert.equal(done.status(), 200, `the import answered ${done.status()}: ${await done.text()}`);
    assert.equal(new URL(done.url()).searchParams.get('dry_run'), 'false');
    const result = await done.json();
    assert.equal(result.created, 2);
    assert.deepEqual(result.leads.map((l) => l.row).sort(), [2, 5]);

    await page.waitForSelector('#import-result:not([hidden])[data-created="2"]', {visible: true});
    const links = await page.$$eval('#import-created tr[data-id]', (rows) => rows.map((r) => [r.dataset.row, r.dataset.id]));
    assert.deepEqual(links.sort(), result.leads.map((l) => [String(l.row), l.id]).sort());
    const ok = await page.$eval('#import-result .alert-ok', (e) => e.textContent);
    assert.ok(ok.includes('2'), `the result says how many were imported: ${ok}`);
    assert.equal(await page.$('#import-preview:not([hidden])'), null, 'the preview is gone');
    await screenshot(page, 'import-result-desktop');

    // The file was read as GB18030, the quoted comma kept.
    const zhao = await rep1.get(`/leads/${result.leads.find((l) => l.row === 2).id}`);
    assert.equal(zhao.name, '赵一');
    assert.equal(zhao.company, '北京朗润科技有限公司,海淀分部');
    assert.equal(zhao.email, 'zhaoyi@example.cn');

    // The leads list shows them.
    await page.click('#import-result [data-action="to-leads"]');
    await openRoute(page, '#/leads', 'leads', {ready: 'tr[data-id]'});
    for (const l of result.leads) await page.waitForSelector(`[data-page="leads"] tr[data-id="${l.id}"]`);
    const names = await page.$$eval('[data-page="leads"] tr[data-id]', (rows) => rows.map((r) => r.querySelector('a.strong').textContent));
    assert.ok(names.includes('赵一') && names.includes('李四'), `the list shows the imported leads: ${names.join(', ')}`);
    assert.ok(!names.includes('孙三'), 'the invalid row was not imported');
  } finally {
    await tmp.done();
  }
});

test('a file refused as a whole (no lead columns) says why, and nothing is previewed', {timeout: T.test}, async () => {
  const tmp = await tempFile('bad.csv', Buffer.from('foo,bar\r\n1,2\r\n', 'utf8'));
  try {
    const page = await ctx.signedIn('manager');
    await openRoute(page, '#/leads/import', 'import', {ready: 'input[type="file"]'});
    const input = await page.$('[data-page="import"] input[type="file"]');
    const dry = nextResponse(page, (r) => r.url().includes('/api/v1/leads/import'), 'the dry run');
    await input.uploadFile(tmp.file);
    const res = await dry;
    assert.equal(res.status(), 400);
    await page.waitForSelector('[data-page="import"] > .alert:not([hidden])', {visible: true});
    const text = await page.$eval('[data-page="import"] > .alert', (e) => e.textContent);
    assert.ok(text.includes("'foo' is not a lead field"), `the alert names the problem: ${text}`);
    assert.ok(text.includes('bad.csv'), `the alert names the file: ${text}`);
    assert.equal(await page.$('#import-preview:not([hidden])'), null);
  } finally {
    await tmp.done();
  }
});

test('an auditor has no import button and cannot open the import page', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('auditor');
  await openRoute(page, '#/leads', 'leads', {ready: 'tr[data-id]'});
  assert.equal(await page.$('[data-action="import-leads"]'), null);
  await page.evaluate(() => { location.hash = '#/leads/import'; });
  await waitUntil(() => page.evaluate(() => location.hash === '#/audit'), {message: 'the auditor to be sent home'});
});
