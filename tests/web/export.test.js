// 17. Export (导出): the leads, customers and receivables lists download what they show as
//     Excel (.xlsx, read back with openpyxl, a reader nobody here wrote) and CSV (UTF-8
//     with a BOM so Excel opens it), with exactly the filters applied and the server's
//     file name — fetched with the session's token, saved through an object URL.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdtemp, readdir, readFile, rm, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fixture, T, openRoute, nextResponse, waitUntil} from './harness.js';

const ctx = fixture();
const run = promisify(execFile);
const dirs = [];

// The rows of an .xlsx's first sheet, as openpyxl reads them.
async function xlsxRows(file) {
  const script = 'import openpyxl, sys, json\n' +
    'wb = openpyxl.load_workbook(sys.argv[1])\n' +
    'ws = wb.worksheets[0]\n' +
    'print(json.dumps([list(r) for r in ws.iter_rows(values_only=True)], default=str, ensure_ascii=False))\n';
  const {stdout} = await run('/usr/bin/python3', ['-c', script, file], {timeout: 20000});
  return JSON.parse(stdout);
}

// Clicks `selector` and waits for the download it starts: → {file, bytes, url (of the
// export request), filename (the server's)}. Each download goes to a fresh directory.
async function download(page, selector, what) {
  const dir = await mkdtemp(path.join(tmpdir(), 'evcrm-dl-'));
  dirs.push(dir);
  const cdp = await page.createCDPSession();
  await cdp.send('Page.setDownloadBehavior', {behavior: 'allow', downloadPath: dir});
  const answer = nextResponse(page, (r) => r.url().includes(`/api/v1/${what}/export`), `GET /api/v1/${what}/export`);
  await page.click(selector);
  const res = await answer;
  assert.equal(res.status(), 200, `the export answered ${res.status()}`);
  const cd = res.headers()['content-disposition'] || '';
  const m = /filename="([^"]+)"/.exec(cd);
  assert.ok(m, `the answer names a file: ${cd}`);
  const file = path.join(dir, m[1]);
  await waitUntil(async () => {
    const names = await readdir(dir);
    if (names.some((n) => n.endsWith('.crdownload'))) return false;
    return names.includes(m[1]) && (await stat(file)).size > 0;
  }, {message: `the download ${m[1]} in ${dir}`}).catch(async (e) => { throw new Error(`${e.message} (there: ${await readdir(dir)})`); });
  return {file, bytes: await readFile(file), url: new URL(res.url()), filename: m[1]};
}

// The query of an export request without the read-your-writes position.
function filters(url) {
  const q = Object.fromEntries(url.searchParams);
  delete q.min_position;
  return q;
}

test.after(async () => { for (const d of dirs) await rm(d, {recursive: true, force: true}); });

test('the leads list exports Excel and CSV: the header row, the names, the BOM, the filters', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const visible = (await rep1.get('/leads?limit=500')).items;
  const names = visible.map((l) => l.name);
  assert.ok(names.includes('马超') && names.includes('林晓'), `rep1 sees the seeded leads: ${names}`);

  const page = await ctx.signedIn('rep1');
  await openRoute(page, '#/leads', 'leads', {ready: 'tr[data-id]'});

  const x = await download(page, '[data-page="leads"] [data-action="export-xlsx"]', 'leads');
  assert.deepEqual(filters(x.url), {format: 'xlsx'}, 'no filter set: only the format');
  assert.match(x.filename, /^leads-.*\.xlsx$/);
  assert.equal(x.bytes.subarray(0, 2).toString('latin1'), 'PK', 'an .xlsx is a zip');
  const rows = await xlsxRows(x.file);
  const header = rows[0];
  for (const col of ['id', 'name', 'company', 'phone', 'state']) assert.ok(header.includes(col), `the header has ${col}: ${header}`);
  const nameCol = header.indexOf('name');
  const idCol = header.indexOf('id');
  const inFile = rows.slice(1).map((r) => r[nameCol]);
  assert.deepEqual([...inFile].sort(), [...names].sort(), 'the workbook has the leads the list shows');
  const ma = rows.find((r) => r[nameCol] === '马超');
  assert.equal(ma[idCol], visible.find((l) => l.name === '马超').id);

  const c = await download(page, '[data-page="leads"] [data-action="export-csv"]', 'leads');
  assert.deepEqual(filters(c.url), {format: 'csv'});
  assert.deepEqual([...c.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the CSV starts with a UTF-8 BOM');
  const text = c.bytes.subarray(3).toString('utf8');
  assert.ok(text.startsWith('id,name,company'), `the CSV's header: ${text.slice(0, 60)}`);
  for (const n of names) assert.ok(text.includes(n), `the CSV has ${n}`);

  // With a search and a state: exactly those filters, and only what they match.
  await page.type('[data-page="leads"] input[name="q"]', '马超');
  await page.select('[data-page="leads"] select[name="state"]', 'following');
  await page.waitForFunction(() => document.querySelectorAll('[data-page="leads"] tr[data-id]').length === 1);
  const f = await download(page, '[data-page="leads"] [data-action="export-csv"]', 'leads');
  assert.deepEqual(filters(f.url), {format: 'csv', q: '马超', state: 'following'});
  const ftext = f.bytes.toString('utf8');
  assert.ok(ftext.includes('马超') && !ftext.includes('林晓'), `the filtered CSV: ${ftext}`);
});

test('the customers list exports with its filters; a manager may filter by owner', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('manager');
  await openRoute(page, '#/customers', 'customers', {ready: 'tr[data-id]'});
  await page.select('[data-page="customers"] select[name="level"]', 'A');
  await page.waitForFunction(() => document.querySelectorAll('[data-page="customers"] tr[data-id]').length === 1);
  await page.select('[data-page="customers"] select[name="owner_id"]', ctx.people.rep1.id);
  await page.waitForFunction(() => document.querySelectorAll('[data-page="customers"] tr[data-id]').length === 1);
  const x = await download(page, '[data-page="customers"] [data-action="export-xlsx"]', 'customers');
  assert.deepEqual(filters(x.url), {format: 'xlsx', level: 'A', owner_id: ctx.people.rep1.id});
  const rows = await xlsxRows(x.file);
  const nameCol = rows[0].indexOf('name');
  assert.ok(nameCol >= 0, `the header has name: ${rows[0]}`);
  assert.deepEqual(rows.slice(1).map((r) => r[nameCol]), ['上海星辰科技有限公司']);
});

test('the finance page exports the receivables, overdue only when so filtered', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('finance');
  await openRoute(page, '#/finance', 'finance', {ready: 'tr[data-id]'});
  await page.click('[data-page="finance"] input[name="overdue"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#finance-receivables tr[data-id]')].every((r) => r.classList.contains('row-danger')));
  const c = await download(page, '#finance-receivables [data-action="export-csv"]', 'receivables');
  assert.deepEqual(filters(c.url), {format: 'csv', overdue: 'true'});
  assert.deepEqual([...c.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const text = c.bytes.toString('utf8');
  assert.ok(text.includes('HT-2026-001'), `the overdue installment of the seeded contract: ${text}`);
  const x = await download(page, '#finance-receivables [data-action="export-xlsx"]', 'receivables');
  assert.deepEqual(filters(x.url), {format: 'xlsx', overdue: 'true'});
  const rows = await xlsxRows(x.file);
  assert.ok(rows.length >= 2 && rows.slice(1).some((r) => r.includes('HT-2026-001')), `the workbook: ${JSON.stringify(rows)}`);
});
