// 16. Tasks (待办): the navigation badge counts the caller's tasks and is kept live by the
//     `tasks` topic; the Tasks page lists them by due time with links to their records;
//     a personal task is added and marked done in the browser.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse, screenshot, waitUntil} from './harness.js';

const ctx = fixture();

const badgeCount = (page) => page.$eval('#tasks-badge', (e) => e.dataset.count);

test('the task badge goes up live when a follow-up comes due; the tasks page links to the lead; a personal task is added and done', {timeout: T.test}, async () => {
  const lead = ctx.ids.rep1Leads[1];
  const page = await ctx.signedIn('rep1');
  // The first snapshot of the `tasks` topic fills the badge.
  await page.waitForFunction(() => document.querySelector('#tasks-badge')?.dataset.count !== '', {timeout: T.wait});
  const before = Number(await badgeCount(page));
  // The seed gives rep1 an overdue installment (HT-2026-001), so the badge shows and is red.
  assert.ok(before >= 1, `the badge counts the seeded overdue installment: ${before}`);
  assert.ok(await page.$('#tasks-badge.nav-count-overdue:not([hidden])'), 'the badge is shown, highlighted as overdue');
  await page.evaluate(() => { window.__noReload = true; });

  // A follow-up whose next_at has just passed, recorded through the API.
  const rep1 = await ctx.api('rep1');
  const nextAt = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  await rep1.post(`/leads/${lead}/follow-ups`, {channel: 'call', note: '电话未接通，稍后再打。', next_at: nextAt}, {expect: 201});

  await waitUntil(async () => Number(await badgeCount(page)) === before + 1, {message: `the badge to go from ${before} to ${before + 1}`});
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  await screenshot(page, 'tasks-badge');

  // The tasks page lists it, marked overdue, and its link opens the lead.
  await page.click('a.nav-link[data-nav="tasks"]');
  const item = `#tasks-list li[data-kind="follow_up"][data-record="${lead}"]`;
  await openRoute(page, '#/tasks', 'tasks', {ready: item});
  assert.equal(await page.$eval(item, (e) => e.dataset.overdue), 'true', 'a follow-up past its time is overdue');
  assert.ok(await page.$('#tasks-list [data-group="overdue"] li[data-kind="installment"]'), 'the overdue installment is listed too');
  const times = await page.$$eval('#tasks-list li', (els) => els.map((e) => e.querySelector('.task-when [title]').title));
  assert.ok(times.length >= before + 1, `every task is listed: ${times.length}`);
  await screenshot(page, 'tasks-page');
  await page.click(`${item} a.task-record`);
  await page.waitForSelector('[data-page="lead"]', {timeout: T.nav});
  assert.equal(await page.evaluate(() => location.hash), `#/leads/${lead}`);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'still no reload');

  // A personal task, added in the browser, counted by the badge, then marked done.
  // "Add task" on the lead's page opens the form with the lead prefilled.
  await page.waitForSelector('[data-page="lead"] a[data-action="add-task"]', {visible: true});
  await page.click('[data-page="lead"] a[data-action="add-task"]');
  await page.waitForSelector('[data-page="tasks"] #task-form input[name="title"]', {timeout: T.nav});
  assert.equal(await page.$eval('#task-form input[name="record_id"]', (e) => e.value), lead, 'the lead is prefilled');
  const title = `回电马总确认报价 ${Date.now().toString(36)}`;
  await page.type('#task-form input[name="title"]', title);
  const added = nextResponse(page, (r) => r.url().endsWith('/api/v1/tasks') && r.request().method() === 'POST', 'POST /tasks');
  await page.click('#task-form button[type="submit"]');
  const res = await added;
  assert.equal(res.status(), 201, `adding the task answered ${res.status()}: ${await res.text().catch(() => '')}`);
  const sent = JSON.parse(res.request().postData());
  assert.equal(sent.title, title);
  assert.equal(sent.record_id, lead);
  assert.match(sent.due_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const {id} = await res.json();
  const mine = `#tasks-list li[data-kind="task"][data-task="${id}"]`;
  await page.waitForSelector(mine, {visible: true});
  assert.ok((await page.$eval(mine, (e) => e.textContent)).includes(title));
  await waitUntil(async () => Number(await badgeCount(page)) === before + 2, {message: 'the badge to count the new task'});
  await screenshot(page, 'tasks-added');

  const done = nextResponse(page, (r) => r.url().endsWith(`/api/v1/tasks/${id}/done`) && r.request().method() === 'POST', 'POST /tasks/{id}/done');
  await page.click(`${mine} [data-action="task-done"]`);
  assert.equal((await done).status(), 200);
  await page.waitForSelector(mine, {hidden: true});
  await waitUntil(async () => Number(await badgeCount(page)) === before + 1, {message: 'the badge to drop the done task'});
  const me = await rep1.get('/tasks/me');
  assert.equal(me.items.some((i) => i.task_id === id), false, 'the server no longer lists the done task');
  assert.equal(await page.evaluate(() => window.__noReload), true, 'no reload throughout');
});
