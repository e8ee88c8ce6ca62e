// 3. A rep claims a lead on the pool page and it leaves a second rep's open pool page.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse} from './harness.js';

const ctx = fixture();

test('a lead claimed on one rep\'s pool page leaves another rep\'s open pool page', {timeout: T.test}, async () => {
  const lead = ctx.ids.poolLeads[0];
  const row = `[data-page="pool"] tr[data-id="${lead}"]`;
  const [a, b] = await Promise.all([ctx.signedIn('rep1'), ctx.signedIn('rep2')]);
  for (const p of [a, b]) {
    assert.match(await p.evaluate(() => location.hash), /^#\/pool/, 'a rep lands on the pool');
    await openRoute(p, '#/pool', 'pool', {ready: row});
  }
  // The second page must learn of the claim over the live connection, not by reloading.
  await b.waitForSelector('#live-status[data-state="live"]', {timeout: T.wait});
  const marker = `m-${Math.random()}`;
  await b.evaluate((m) => { window.__e2eMarker = m; }, marker);
  const otherRows = await b.$$eval('[data-page="pool"] tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
  assert.ok(otherRows.length >= 2, 'the pool shows the seeded items');

  const claimed = nextResponse(a, (r) => r.url().includes(`/api/v1/leads/${lead}/claim`) && r.request().method() === 'POST', 'answer to the claim');
  await a.click(`${row} button.claim, ${row} [data-action="claim"]`);
  const res = await claimed;
  assert.equal(res.status(), 200, `the claim answered ${res.status()}: ${await res.text().catch(() => '')}`);
  await a.waitForFunction((s) => !document.querySelector(s), {timeout: T.wait}, row);

  try {
    await b.waitForFunction((s) => !document.querySelector(s), {timeout: 5000}, row);
  } catch {
    assert.fail(`the claimed lead is still on the other rep's pool page 5 s after the claim (live: ${await b.$eval('#live-status', (e) => e.dataset.state)})`);
  }
  assert.equal(await b.evaluate(() => window.__e2eMarker), marker, 'the other rep\'s page was reloaded');
  // Only the claimed lead left.
  const left = await b.$$eval('[data-page="pool"] tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
  assert.deepEqual(left.sort(), otherRows.filter((id) => id !== lead).sort());

  const api = await ctx.api('manager');
  const l = await api.get(`/leads/${lead}`);
  assert.equal(l.owner_id, ctx.people.rep1.id);
  assert.equal(l.state, 'pending');
});
