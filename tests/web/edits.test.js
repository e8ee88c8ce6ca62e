// 11. Edits with If-Match: a lead, an opportunity and a contact edited in the console;
//     a stale form (412) is explained, shows the saved values, keeps what the user typed
//     and saves against the new version.
// 12. Duplicate leads (撞单): the warning names the existing lead and its owner, and
//     "Save anyway" records the lead with duplicate_of.
// 13. Edit events read "field: old → new" on the audit page and the customer's history.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse, screenshot, waitUntil} from './harness.js';

const ctx = fixture();

const DIALOG = 'dialog[open]';

// Replaces an input's text the way a user does (select all, type).
async function fill(page, selector, text) {
  await page.$eval(selector, (el) => { el.value = ''; });
  await page.type(selector, text);
}

const valueOf = (page, selector) => page.$eval(selector, (el) => el.value);

// PATCH as another client, with If-Match of the record's current version; waits until
// every read model has applied it (so the console's next read sees it).
async function patchBehindTheBack(api, path, body, version) {
  const r = await api('PATCH', path, body, {headers: {'If-Match': `"${version}"`}});
  await waitUntil(async () => {
    const health = await fetch(`${ctx.url}/health`).then((x) => x.json());
    return Object.values(health.projections).every((p) => p >= r.position);
  }, {message: `the read models to apply #${r.position}`});
  return r;
}

async function clickSave(page, form, pathPart) {
  const answer = nextResponse(page, (r) => r.url().includes(`/api/v1${pathPart}`) && r.request().method() === 'PATCH', `answer to PATCH ${pathPart}`);
  await page.click(`${form} button[type="submit"]`);
  return answer;
}

test('a lead edited with a stale version: the 412 is explained, fresh values shown, typed ones kept; the second save succeeds', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const mgr = await ctx.api('manager');
  const lead = await rep1.post('/leads', {name: '钱多多', company: '上海编辑测试有限公司', phone: '13500000061', source: '官网', region: '上海'}, {expect: 201});

  const page = await ctx.signedIn('rep1');
  await openRoute(page, `#/leads/${lead.id}`, 'lead', {ready: '[data-page="lead"] [data-action="edit"]'});
  await page.click('[data-page="lead"] [data-action="edit"]');
  const form = `${DIALOG} form[data-form="edit-lead"]`;
  await page.waitForSelector(form, {visible: true});
  assert.equal(await page.$eval(form, (f) => f.dataset.version), '1', 'the form is at the version the lead was loaded at');
  assert.equal(await valueOf(page, `${form} input[name="name"]`), '钱多多');
  assert.equal(await valueOf(page, `${form} input[name="source"]`), '官网');

  // The user changes the name and adds an email...
  await fill(page, `${form} input[name="name"]`, '钱多多（采购总监）');
  await fill(page, `${form} input[name="email"]`, 'qian@example.cn');
  await screenshot(page, 'lead-edit-form');

  // ...while the manager changes the name and the source.
  await patchBehindTheBack(mgr, `/leads/${lead.id}`, {name: '钱多多（经理改）', source: '展会'}, 1);

  const first = await clickSave(page, form, `/leads/${lead.id}`);
  assert.equal(first.status(), 412, `the stale save answered ${first.status()}`);
  assert.equal(first.request().headers()['if-match'], '"1"', 'the save sent If-Match of the version it was loaded at');
  const alert = await page.waitForSelector(`${form} .alert[data-conflict="true"]`, {visible: true});
  await page.waitForFunction((f) => document.querySelector(f).dataset.version === '2', {}, form);
  const alertText = await alert.evaluate((a) => a.textContent);
  assert.ok(alertText.includes('他人修改'), `the alert says someone else changed the lead: ${alertText}`);
  // The untouched field took the saved value; the typed ones were kept, the saved name beneath.
  assert.equal(await valueOf(page, `${form} input[name="source"]`), '展会');
  assert.equal(await valueOf(page, `${form} input[name="name"]`), '钱多多（采购总监）');
  assert.equal(await valueOf(page, `${form} input[name="email"]`), 'qian@example.cn');
  const nameNote = await page.$eval(`${form} [data-fresh="name"]`, (n) => n.textContent);
  assert.ok(nameNote.includes('钱多多（经理改）'), `the saved name is shown under the field: ${nameNote}`);
  assert.ok(await page.$(`${form} [data-fresh="source"]`), 'the changed source is marked');
  // The page behind the dialog shows the fresh lead too.
  assert.equal(await page.$eval('[data-page="lead"] h1', (e) => e.textContent.trim()), '钱多多（经理改）');
  await screenshot(page, 'lead-edit-conflict');

  const second = await clickSave(page, form, `/leads/${lead.id}`);
  assert.equal(second.status(), 200, `the second save answered ${second.status()}: ${await second.text()}`);
  assert.equal(second.request().headers()['if-match'], '"2"', 'the second save goes against the new version');
  assert.deepEqual(JSON.parse(second.request().postData()), {name: '钱多多（采购总监）', email: 'qian@example.cn'},
    'only what differs from the saved lead is sent');
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  await page.waitForFunction(() => document.querySelector('[data-page="lead"] h1').textContent.trim() === '钱多多（采购总监）');

  const saved = await rep1.get(`/leads/${lead.id}`);
  assert.equal(saved.name, '钱多多（采购总监）');
  assert.equal(saved.email, 'qian@example.cn');
  assert.equal(saved.source, '展会', 'the manager\'s change of the source stays');
  assert.equal(saved.phone, '13500000061');
  assert.equal(saved.version, 3);
});

test('a new lead whose phone matches another rep\'s lead shows the duplicate warning; "Save anyway" records it with duplicate_of', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  // rep2's lead 高远 (13700000021), from the seed.
  const existing = (await admin.get(`/leads?q=${encodeURIComponent('常州恒通')}`)).items.find((l) => l.owner_id === ctx.people.rep2.id);
  assert.ok(existing, 'the seed has rep2\'s lead of 常州恒通机电有限公司');

  const page = await ctx.signedIn('rep1');
  await openRoute(page, '#/leads', 'leads', {ready: '[data-page="leads"] [data-action="new-lead"]'});
  await page.click('[data-page="leads"] [data-action="new-lead"]');
  const form = `${DIALOG} form`;
  await page.waitForSelector(`${form} input[name="name"]`, {visible: true});
  await page.type(`${form} input[name="name"]`, '高总');
  await page.type(`${form} input[name="company"]`, '常州恒通集团');
  await page.type(`${form} input[name="phone"]`, '+86 137-0000-0021');
  await page.type(`${form} input[name="source"]`, '转介绍');

  const isCreate = (r) => r.url().endsWith('/api/v1/leads') && r.request().method() === 'POST';
  const first = nextResponse(page, isCreate, 'answer to POST /api/v1/leads');
  await page.click(`${form} button[type="submit"]`);
  const res = await first;
  assert.equal(res.status(), 409);
  assert.equal((await res.json()).code, 'duplicate_lead');

  const notice = await page.waitForSelector(`${form} .duplicate-notice`, {visible: true});
  const shown = await notice.evaluate((n) => ({id: n.dataset.existingId, owner: n.dataset.ownerId, text: n.textContent}));
  assert.equal(shown.id, existing.id, 'the warning names the existing lead');
  assert.equal(shown.owner, ctx.people.rep2.id);
  assert.ok(shown.text.includes(existing.id), 'the existing lead\'s id is shown');
  assert.ok(shown.text.includes(ctx.people.rep2.name), `the owner's name is shown: ${shown.text}`);
  await screenshot(page, 'lead-duplicate-warning');

  const second = nextResponse(page, isCreate, 'answer to POST /api/v1/leads with allow_duplicate');
  await page.click(`${form} [data-action="save-anyway"]`);
  const created = await second;
  assert.equal(created.status(), 201, `"Save anyway" answered ${created.status()}`);
  assert.equal(JSON.parse(created.request().postData()).allow_duplicate, true);
  const id = (await created.json()).id;

  await page.waitForFunction((i) => location.hash === `#/leads/${i}`, {}, id);
  await openRoute(page, `#/leads/${id}`, 'lead', {ready: '[data-page="lead"] [data-field="duplicate_of"]'});
  assert.equal(await page.$eval('[data-page="lead"] [data-field="duplicate_of"]', (e) => e.textContent.trim()), existing.id);
  const lead = await admin.get(`/leads/${id}`);
  assert.equal(lead.duplicate_of, existing.id);
  assert.equal(lead.owner_id, ctx.people.rep1.id);
});

test('an edit that makes a lead match a pool lead warns "in the pool"; "Save anyway" records duplicate_of', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const leadId = ctx.ids.rep1Leads[2];
  const pooled = ctx.ids.poolLeads[0];  // 陈静, 13800000001, in the pool
  const page = await ctx.signedIn('rep1');
  await openRoute(page, `#/leads/${leadId}`, 'lead', {ready: '[data-page="lead"] [data-action="edit"]'});
  await page.click('[data-page="lead"] [data-action="edit"]');
  const form = `${DIALOG} form[data-form="edit-lead"]`;
  await page.waitForSelector(form, {visible: true});
  await fill(page, `${form} input[name="phone"]`, '0086 138 0000 0001');
  const first = await clickSave(page, form, `/leads/${leadId}`);
  assert.equal(first.status(), 409);
  const notice = await page.waitForSelector(`${form} .duplicate-notice`, {visible: true});
  const shown = await notice.evaluate((n) => ({id: n.dataset.existingId, owner: n.dataset.ownerId,
    where: n.querySelector('[data-field="owner"]').textContent, link: (n.querySelector('a.duplicate-link') || {}).hash}));
  assert.deepEqual(shown, {id: pooled, owner: '', where: '该线索在公海中', link: `#/leads/${pooled}`});

  const third = nextResponse(page, (r) => r.url().includes(`/api/v1/leads/${leadId}`) && r.request().method() === 'PATCH', 'the PATCH with allow_duplicate');
  await page.click(`${form} [data-action="save-anyway"]`);
  const res = await third;
  assert.equal(res.status(), 200, `"Save anyway" answered ${res.status()}: ${await res.text()}`);
  assert.deepEqual(JSON.parse(res.request().postData()), {phone: '0086 138 0000 0001', allow_duplicate: true});
  await openRoute(page, `#/leads/${leadId}`, 'lead', {ready: '[data-page="lead"] [data-field="duplicate_of"]'});
  const lead = await rep1.get(`/leads/${leadId}`);
  assert.equal(lead.duplicate_of, pooled);
  assert.equal(lead.phone, '0086 138 0000 0001');
});

test('an opportunity edited on the customer page; its history reads "field: old → new"', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const oppId = ctx.ids.opportunity;
  const before = await rep1.get(`/opportunities/${oppId}`);

  const page = await ctx.signedIn('rep1');
  const row = `[data-page="customer"] tr[data-id="${oppId}"]`;
  await openRoute(page, `#/customers/${ctx.ids.customer}`, 'customer', {ready: `${row} [data-action="edit-opportunity"]`});
  await page.click(`${row} [data-action="edit-opportunity"]`);
  const form = `${DIALOG} form[data-form="edit-opportunity"]`;
  await page.waitForSelector(form, {visible: true});
  assert.equal(await valueOf(page, `${form} input[name="amount"]`), '360000.00', 'the amount is shown in yuan');
  assert.equal(await page.$eval(form, (f) => f.dataset.version), String(before.version));
  await fill(page, `${form} input[name="name"]`, 'CRM 二期实施（含培训）');
  await fill(page, `${form} input[name="amount"]`, '365,000.50');
  await screenshot(page, 'opportunity-edit-form');

  const res = await clickSave(page, form, `/opportunities/${oppId}`);
  assert.equal(res.status(), 200, `the save answered ${res.status()}: ${await res.text()}`);
  assert.equal(res.request().headers()['if-match'], `"${before.version}"`);
  assert.deepEqual(JSON.parse(res.request().postData()), {name: 'CRM 二期实施（含培训）', amount: 36500050});
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));

  const after = await rep1.get(`/opportunities/${oppId}`);
  assert.equal(after.name, 'CRM 二期实施（含培训）');
  assert.equal(after.amount, 36500050);
  assert.equal(after.currency, 'CNY');
  assert.equal(after.version, before.version + 1);
  await page.waitForFunction((r) => (document.querySelector(r) || {textContent: ''}).textContent.includes('CRM 二期实施（含培训）'), {}, row);

  // The customer's history shows the edit, money in yuan.
  const item = await page.waitForSelector('[data-page="customer"] .timeline.events .change[data-field="amount"]', {visible: true});
  const text = await item.evaluate((e) => e.textContent);
  assert.match(text, /360,000\.00\s*→\s*¥?365,000\.50/, `the history reads old → new: ${text}`);
});

test('a contact edited with a stale version is reloaded, keeps what was typed and saves', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const mgr = await ctx.api('manager');
  const contact = (await rep1.get(`/customers/${ctx.ids.customer}/contacts`)).items.find((x) => x.name === '王芳');
  assert.ok(contact && contact.version, 'the seed has the contact 王芳, with a version');

  const page = await ctx.signedIn('rep1');
  const row = `[data-page="customer"] tr[data-id="${contact.id}"]`;
  await openRoute(page, `#/customers/${ctx.ids.customer}`, 'customer', {ready: `${row} [data-action="edit-contact"]`});
  await page.click(`${row} [data-action="edit-contact"]`);
  const form = `${DIALOG} form[data-form="edit-contact"]`;
  await page.waitForSelector(form, {visible: true});
  await fill(page, `${form} input[name="title"]`, 'IT 总监');
  await page.click(`${form} input[name="decision_maker"]`);

  await patchBehindTheBack(mgr, `/contacts/${contact.id}`, {phone: '13600000099'}, contact.version);

  const first = await clickSave(page, form, `/contacts/${contact.id}`);
  assert.equal(first.status(), 412);
  await page.waitForSelector(`${form} .alert[data-conflict="true"]`, {visible: true});
  await waitUntil(async () => (await valueOf(page, `${form} input[name="phone"]`)) === '13600000099', {message: 'the saved phone in the form'});
  assert.equal(await valueOf(page, `${form} input[name="title"]`), 'IT 总监');
  assert.equal(await page.$eval(`${form} input[name="decision_maker"]`, (e) => e.checked), true);

  const second = await clickSave(page, form, `/contacts/${contact.id}`);
  assert.equal(second.status(), 200, `the second save answered ${second.status()}: ${await second.text()}`);
  assert.equal(second.request().headers()['if-match'], `"${contact.version + 1}"`);
  const saved = (await rep1.get(`/customers/${ctx.ids.customer}/contacts`)).items.find((x) => x.id === contact.id);
  assert.equal(saved.title, 'IT 总监');
  assert.equal(saved.decision_maker, true);
  assert.equal(saved.phone, '13600000099');
});

test('the audit page shows a lead edit as "field: old → new"', {timeout: T.test}, async () => {
  const rep1 = await ctx.api('rep1');
  const lead = await rep1.post('/leads', {name: '审计编辑', company: '审计编辑测试有限公司', phone: '13500000071'}, {expect: 201});
  await rep1('PATCH', `/leads/${lead.id}`, {company: '审计编辑测试集团', phone: null}, {headers: {'If-Match': '"1"'}});

  const page = await ctx.signedIn('auditor');
  await openRoute(page, '#/audit', 'audit', {ready: '#event-feed > [data-position]'});
  await fill(page, '[data-page="audit"] input[name="stream"]', lead.id);
  await page.$eval('[data-page="audit"] input[name="stream"]', (el) => el.form.requestSubmit());
  const ev = await page.waitForSelector('#event-feed > [data-type="LeadEdited"]', {visible: true});
  const lines = await ev.$$eval('.changes .change', (els) => els.map((e) => [e.dataset.field, e.textContent]));
  assert.deepEqual(lines, [['company', '公司：审计编辑测试有限公司 → 审计编辑测试集团'], ['phone', '电话：13500000071 → （空）']],
    'each change reads "field: old → new", visible without opening the event');
});
