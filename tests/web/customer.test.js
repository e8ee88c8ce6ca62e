// 5. Customer 360 "as of" a time before a handover shows the old owner.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, consoleModuleUrl, waitUntil, nextResponse, BROWSER_TZ} from './harness.js';

const ctx = fixture();

// "2026-11-28T08:03:46" in the browser's zone (Asia/Shanghai, no daylight saving).
function localInput(ms) {
  assert.equal(BROWSER_TZ, 'Asia/Shanghai');
  return new Date(ms + 8 * 3600e3).toISOString().slice(0, 19);
}

// The owner the 360 page shows: the profile fact labelled as the console labels the
// owner (there is no hook for it; see the report).
async function shownOwner(page) {
  const label = await page.evaluate(async (url) => (await import(url)).t('common.owner'), await consoleModuleUrl(page, 'i18n.js'));
  return page.evaluate((l) => {
    const root = document.querySelector('[data-page="customer"]');
    const hook = root && root.querySelector('[data-field="owner_id"], [data-owner-id]');
    if (hook) return hook.textContent.trim();
    for (const f of root ? root.querySelectorAll('.fact') : []) {
      const dt = f.querySelector('dt');
      if (dt && dt.textContent.trim() === l) return f.querySelector('dd').textContent.trim();
    }
    return null;
  }, label);
}

test('customer 360 as of a time before a handover shows the old owner', {timeout: T.test}, async () => {
  const {rep1, rep3} = ctx.people;
  const r3 = await ctx.api('rep3');
  const c = await r3.post('/customers', {name: '杭州西湖文旅集团', industry: '文旅', region: '杭州', level: 'B'}, {expect: 201});
  const created = Date.parse((await r3.get(`/customers/${c.id}`)).created_at);
  // A whole second after the creation (the console's as-of field has seconds), and the
  // handover strictly after it.
  const asOf = Math.floor(created / 1000) * 1000 + 1000;
  await waitUntil(() => Date.now() > asOf + 200, {timeout: 3000, message: 'the clock to pass the as-of time'});
  const mgr = await ctx.api('manager');
  const ho = await mgr.post(`/staff/${rep3.id}/handover`, {to: rep1.id, depart: true});
  assert.ok(ho.moved.customers >= 1);
  const asOfIso = new Date(asOf).toISOString().replace('.000Z', 'Z');
  assert.equal((await mgr.get(`/customers/${c.id}?as_of=${encodeURIComponent(asOfIso)}`)).owner_id, rep3.id, 'the API: rep3 owned it then');
  assert.equal((await mgr.get(`/customers/${c.id}`)).owner_id, rep1.id, 'the API: rep1 owns it now');

  const page = await ctx.signedIn('manager');
  await openRoute(page, `#/customers/${c.id}`, 'customer', {ready: '[data-page="customer"] h1'});
  await waitUntil(async () => (await shownOwner(page)) === rep1.name, {timeout: T.wait,
    message: `the current owner ${rep1.name}`}).catch(async (e) => assert.fail(`${e.message}; shows ${await shownOwner(page)}`));

  await page.waitForSelector('[data-page="customer"] input[name="as_of"]');
  await page.$eval('[data-page="customer"] input[name="as_of"]', (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  }, localInput(asOf));
  const answer = nextResponse(page, (r) => r.url().includes(`/api/v1/customers/${c.id}?`) && r.url().includes('as_of='),
    `GET /api/v1/customers/${c.id}?as_of=… after submitting the as-of form`);
  await page.$eval('[data-page="customer"] input[name="as_of"]', (el) => {
    const b = el.form.querySelector('button[type="submit"]');
    if (b) b.click(); else el.form.requestSubmit();
  });
  const res = await answer;
  assert.equal(res.status(), 200);
  const asked = new URL(res.url()).searchParams.get('as_of');
  assert.equal(Date.parse(asked), asOf, `the console asked as_of=${asked}, meant ${asOfIso}`);
  await waitUntil(async () => (await shownOwner(page)) === rep3.name, {timeout: T.wait,
    message: `the old owner ${rep3.name}`}).catch(async (e) => assert.fail(`${e.message}; shows ${await shownOwner(page)}`));
  const text = await page.$eval('[data-page="customer"]', (e) => e.textContent);
  assert.ok(!text.includes(rep1.name), `the historical view mentions the later owner ${rep1.name} nowhere`);
  assert.equal(await page.$eval('[data-page="customer"]', (e) => e.dataset.historical), 'true', 'the page is marked historical');
  // No commands on a view of the past.
  assert.equal(await page.$('[data-page="customer"] [data-action="transfer"], [data-page="customer"] [data-action="release"]'), null);
  // Back to now.
  await page.click('[data-page="customer"] [data-action="now"]');
  await waitUntil(async () => (await shownOwner(page)) === rep1.name, {timeout: T.wait, message: 'the owner now, again'});
});
