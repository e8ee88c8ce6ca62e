// 8. Five wrong passwords for one email: the fifth answers 429, and the sign-in page
//    tells the user.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, consoleModuleUrl, nextResponse} from './harness.js';

const ctx = fixture();

test('a wrong password five times gives 429, shown in the .alert', {timeout: T.test}, async () => {
  // An email of its own (seeded as "locked"), so no other sign-in is locked out.
  const email = ctx.people.locked.email;
  const page = await ctx.page();
  await page.goto(`${ctx.url}/#/signin`, {waitUntil: 'domcontentloaded'});
  await page.waitForSelector('[data-page="signin"] #signin input[name="password"]', {visible: true});
  const statuses = [];
  let retryAfter = null;
  for (let i = 1; i <= 5; i++) {
    await page.$eval('#signin input[name="email"]', (el) => { el.value = ''; });
    await page.$eval('#signin input[name="password"]', (el) => { el.value = ''; });
    await page.type('#signin input[name="email"]', email);
    await page.type('#signin input[name="password"]', `wrong-password-${i}-xyz`);
    const answer = nextResponse(page, (r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST', `answer to sign-in attempt ${i}`);
    await page.click('#signin button[type="submit"]');
    const res = await answer;
    statuses.push(res.status());
    if (res.status() === 429) retryAfter = Number(res.headers()['retry-after']);
    // The form is usable again and says something.
    await page.waitForFunction(() => {
      const f = document.querySelector('#signin');
      const a = f && f.querySelector('.alert');
      return f && f.getAttribute('aria-busy') !== 'true' && a && !a.hidden && a.textContent.trim();
    }, {timeout: T.wait});
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 429], 'the fifth failure answers 429');
  assert.ok(retryAfter > 0, 'the 429 has Retry-After');
  const alert = await page.$eval('#signin .alert', (a) => a.textContent.trim());
  // The console's own words for it, with the seconds to wait.
  const [pre, post] = await page.evaluate(async (url) => (await import(url)).t('signin.tooMany', {n: '\u0000'}).split('\u0000'),
    await consoleModuleUrl(page, 'i18n.js'));
  assert.ok(alert.startsWith(pre.trim()) && alert.endsWith(post.trim()), `the alert says "${alert}", expected "${pre}N${post}"`);
  const n = Number(alert.slice(pre.length, alert.length - post.length).trim());
  assert.ok(n > 0 && n <= retryAfter, `it counts down from Retry-After (${retryAfter}): shows ${n}`);
  assert.match(await page.evaluate(() => location.hash), /^#\/signin/, 'still on the sign-in page');
  assert.equal(await page.evaluate(() => localStorage.getItem('evcrm.session')), null, 'no session stored');
});
