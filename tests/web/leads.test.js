// 4. A convert that hits a duplicate customer links to the existing customer.
// 7. Record data that looks like HTML is shown as text and runs nothing.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse} from './harness.js';

const ctx = fixture();

test('a convert that hits a duplicate customer shows a.duplicate-link to the existing one', {timeout: T.test}, async () => {
  // rep2 owns 北京华夏数据有限公司; rep1 cannot see it, so converting rep1's lead of the
  // same company answers 409 duplicate_customer with existing_id.
  const existing = ctx.ids.rep2Customer;
  const rep1 = await ctx.api('rep1');
  const lead = await rep1.post('/leads', {name: '赵敏', company: '北京华夏数据有限公司', phone: '13500000041', region: '北京'}, {expect: 201});

  const page = await ctx.signedIn('rep1');
  await openRoute(page, `#/leads/${lead.id}`, 'lead', {ready: '[data-page="lead"] [data-action="convert"]'});
  await page.click('[data-page="lead"] [data-action="convert"]');
  const dialog = 'dialog[open] form';
  await page.waitForSelector(dialog, {visible: true});
  const answer = nextResponse(page, (r) => r.url().includes(`/api/v1/leads/${lead.id}/convert`) && r.request().method() === 'POST', 'answer to the convert');
  await page.click(`${dialog} button[type="submit"]`);
  const res = await answer;
  assert.equal(res.status(), 409, `convert answered ${res.status()}`);
  const body = await res.json();
  assert.equal(body.code, 'duplicate_customer');
  assert.equal(body.existing_id, existing);

  const link = await page.waitForSelector('a.duplicate-link', {visible: true, timeout: T.wait}).catch(async () => {
    const alert = await page.$eval('dialog[open] .alert', (a) => a.textContent).catch(() => '(no .alert)');
    assert.fail(`no visible a.duplicate-link after the 409; the dialog's alert says: ${alert}`);
  });
  const href = await link.evaluate((a) => a.getAttribute('href'));
  assert.equal(href, `#/customers/${existing}`, 'the link points to the existing customer');
  const alert = await page.$eval('dialog[open] .alert', (a) => a.textContent);
  assert.ok(alert.trim().length > 0, 'the refusal is explained in an .alert');

  // Nothing was converted.
  const l = await rep1.get(`/leads/${lead.id}`);
  assert.equal(l.state, 'pending');
});

const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_COMPANY = '"><script>alert(2)</script><svg onload=alert(3)>';
const XSS_POOL = '<img src=x onerror=alert(4)> 公海';

// No element made from the data: no <img src=x>, no inline handler, no inline script.
async function noInjectedElements(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const img of document.querySelectorAll('img')) if (img.getAttribute('src') === 'x') bad.push(img.outerHTML);
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}=${a.value}`);
    }
    for (const s of document.querySelectorAll('script:not([src])')) bad.push(s.outerHTML);
    return bad;
  });
}

test('a lead named like HTML is shown as text and runs no script', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const admin = await ctx.api('admin');
  const mine = await rep1.post('/leads', {name: XSS_NAME, company: XSS_COMPANY, phone: '13500000051', source: XSS_NAME}, {expect: 201});
  const pooled = await admin.post('/leads', {name: XSS_POOL, company: '转义测试有限公司', phone: '13500000052'}, {expect: 201});

  const page = await ctx.signedIn('rep1');
  await page.evaluate(() => { window.__e2eRan = 0; });
  // The leads list.
  await openRoute(page, '#/leads', 'leads', {ready: `[data-page="leads"] tr[data-id="${mine.id}"]`});
  const rowText = await page.$eval(`tr[data-id="${mine.id}"]`, (r) => r.textContent);
  assert.ok(rowText.includes(XSS_NAME), `the list row shows the name verbatim: ${rowText}`);
  assert.ok(rowText.includes(XSS_COMPANY), 'the list row shows the company verbatim');
  assert.deepEqual(await noInjectedElements(page), []);
  // The lead's page.
  await openRoute(page, `#/leads/${mine.id}`, 'lead', {ready: '[data-page="lead"] h1'});
  const heading = await page.$eval('[data-page="lead"] h1', (e) => e.textContent);
  assert.equal(heading.trim(), XSS_NAME, 'the heading is the name as text');
  const pageText = await page.$eval('[data-page="lead"]', (e) => e.textContent);
  assert.ok(pageText.includes(XSS_COMPANY));
  assert.deepEqual(await noInjectedElements(page), []);
  // The pool.
  await openRoute(page, '#/pool', 'pool', {ready: `[data-page="pool"] tr[data-id="${pooled.id}"]`});
  const poolText = await page.$eval(`[data-page="pool"] tr[data-id="${pooled.id}"]`, (r) => r.textContent);
  assert.ok(poolText.includes(XSS_POOL), 'the pool row shows the name verbatim');
  assert.deepEqual(await noInjectedElements(page), []);
  // The document title too, if it names the record.
  assert.ok(!(await page.title()).includes('<img'), 'the title is not built from markup');
  // Nothing ran: no dialog (checked after the test), no img errors of src=x.
  const xRequests = page.tracker.requests.filter((u) => new URL(u).pathname.endsWith('/x'));
  assert.deepEqual(xRequests, [], 'no request for the injected img src');
});
