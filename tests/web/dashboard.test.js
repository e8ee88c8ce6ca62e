// 1. The dashboard's tiles equal GET /api/v1/dashboard for the same period and scope.
// 2. A payment recorded by another client shows on the open dashboard within 2 s,
//    without a reload.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, apiClient, sessionOf, openRoute, consoleModuleUrl, waitUntil, businessToday} from './harness.js';

const ctx = fixture();

function at(data, path) {
  return path.split('.').reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), data);
}

// Every [data-tile] of the dashboard against the API's answer for the page's period and
// department, formatted with the console's own i18n module. → {mismatches, tiles, api}.
async function compareTiles(page, api) {
  const tiles = await page.$$eval('[data-page="dashboard"] [data-tile]', (els) => els.map((el) => {
    const v = el.querySelector('.tile-value');
    return {path: el.dataset.tile, text: v ? v.textContent.trim() : null, raw: v ? v.getAttribute('data-value') : el.getAttribute('data-value')};
  }));
  const scope = await page.evaluate(() => ({
    period: (document.querySelector('[data-page="dashboard"] [name="period"]') || {}).value || '',
    department_id: (document.querySelector('[data-page="dashboard"] [name="department_id"]') || {}).value || '',
  }));
  const q = new URLSearchParams();
  if (scope.period) q.set('period', scope.period);
  if (scope.department_id) q.set('department_id', scope.department_id);
  const data = await api.get(`/dashboard?${q}`);
  const i18n = await consoleModuleUrl(page, 'i18n.js');
  const expected = await page.evaluate(async (url, items) => {
    const m = await import(url);
    return items.map(({path, value}) => {
      if (value === undefined) return null;
      if (value !== null && typeof value === 'object') return m.fmtMoneyMap(value);
      if (/(^|\.)(conversion_rate|attainment)$|rate$/.test(path)) return m.fmtPct(value);
      return m.fmtNum(value);
    });
  }, i18n, tiles.map((t) => ({path: t.path, value: at(data, t.path)})));
  const mismatches = [];
  tiles.forEach((t, i) => {
    const want = at(data, t.path);
    if (want === undefined) { mismatches.push(`${t.path}: no such field in GET /dashboard`); return; }
    if (t.raw !== null) {
      let raw;
      try { raw = JSON.parse(t.raw); } catch { raw = t.raw; }
      try { assert.deepEqual(raw, want); } catch { mismatches.push(`${t.path}: data-value ${t.raw} ≠ API ${JSON.stringify(want)}`); }
    }
    if (t.text !== expected[i]) mismatches.push(`${t.path}: shows "${t.text}", API ${JSON.stringify(want)} formats as "${expected[i]}"`);
  });
  return {mismatches, tiles, data, scope};
}

test('a manager signs in and the dashboard tiles equal GET /api/v1/dashboard', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('manager');
  assert.match(await page.evaluate(() => location.hash), /^#\/dashboard/, 'a manager lands on the dashboard');
  await openRoute(page, '#/dashboard', 'dashboard', {ready: '[data-page="dashboard"] [data-tile] .tile-value'});
  const session = await sessionOf(page);
  assert.ok(session && session.token, 'the session token is kept in localStorage');
  const api = apiClient(ctx.url, session.token);
  let last;
  try {
    await waitUntil(async () => { last = await compareTiles(page, api); return last.mismatches.length === 0; },
      {timeout: 5000, message: 'tiles to equal the API'});
  } catch (e) {
    assert.fail(`dashboard tiles differ from GET /api/v1/dashboard (${JSON.stringify(last && last.scope)}):\n  ${(last ? last.mismatches : [e.message]).join('\n  ')}`);
  }
  assert.ok(last.tiles.length >= 6, `expected the dashboard's tiles, found ${last.tiles.length}`);
  const paths = last.tiles.map((t) => t.path);
  for (const p of ['contracts.amount', 'payments.received', 'receivables.outstanding']) {
    assert.ok(paths.includes(p), `a tile for ${p} (tiles: ${paths.join(', ')})`);
  }
  // The seed is in this manager's scope: the figures are not all zero.
  assert.deepEqual(last.data.contracts.amount, {CNY: 12000000});
  assert.deepEqual(last.data.payments.received, {CNY: 1500000});
});

test('a payment recorded through the API shows on the open dashboard within 2 s, no reload', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('manager');
  await openRoute(page, '#/dashboard', 'dashboard', {ready: '[data-page="dashboard"] [data-tile="payments.received"] .tile-value'});
  const session = await sessionOf(page);
  const api = apiClient(ctx.url, session.token);
  let before;
  await waitUntil(async () => { before = await compareTiles(page, api); return before.mismatches.length === 0; },
    {timeout: 5000, message: 'tiles to equal the API before the payment'}).catch(() => {
    assert.fail(`tiles differ before the payment:\n  ${before.mismatches.join('\n  ')}`);
  });
  await page.waitForSelector('#live-status[data-state="live"]', {timeout: T.wait});
  const marker = `m-${Math.random()}`;
  const href = await page.evaluate((m) => { window.__e2eMarker = m; return location.href; }, marker);
  const navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });

  const received = before.data.payments.received.CNY || 0;
  const amount = 250000;
  const fin = await ctx.api('finance');
  const t0 = Date.now();
  await fin.post(`/contracts/${ctx.ids.contract}/payments`, {amount, received_on: businessToday(), method: '银行转账', reference: 'E2E-LIVE-1'}, {expect: 201});
  const left = Math.max(100, 2000 - (Date.now() - t0));
  try {
    await page.waitForFunction((want) => {
      const v = document.querySelector('[data-page="dashboard"] [data-tile="payments.received"] .tile-value');
      if (!v) return false;
      try { return (JSON.parse(v.getAttribute('data-value')) || {}).CNY === want; } catch { return false; }
    }, {timeout: left, polling: 'mutation'}, received + amount);
  } catch {
    const now = await page.$eval('[data-page="dashboard"] [data-tile="payments.received"] .tile-value', (v) => v.getAttribute('data-value') + ' / ' + v.textContent);
    assert.fail(`payments.received did not become ${received + amount} within 2 s of the payment (shows ${now}; live: ${await page.$eval('#live-status', (e) => e.dataset.state)})`);
  }
  const took = Date.now() - t0;
  const after = await page.evaluate(() => ({marker: window.__e2eMarker, href: location.href}));
  assert.equal(after.marker, marker, 'the page was reloaded (the window marker is gone)');
  assert.equal(after.href, href, 'the page navigated');
  assert.deepEqual(navigations, [], 'no navigation of the main frame');
  // And the rest of the tiles followed (outstanding went down by the same amount).
  let last;
  await waitUntil(async () => { last = await compareTiles(page, api); return last.mismatches.length === 0; },
    {timeout: 3000, message: 'tiles to equal the API after the payment'}).catch(() => {
    assert.fail(`tiles differ after the payment:\n  ${last.mismatches.join('\n  ')}`);
  });
  assert.equal(last.data.receivables.outstanding.CNY, before.data.receivables.outstanding.CNY - amount);
  console.log(`# dashboard updated ${took} ms after the payment's answer`);
});
