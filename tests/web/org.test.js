// 19. Organisation (组织架构): an admin creates a department and a person (the token is
//     shown once, copies and works), edits a person's role and department, moves a
//     department; a stale person form (412) is reloaded and keeps what was typed; moving a
//     department under its own child (409), and a role change while the person owns
//     leads, are refused in the form and change nothing; a new token stops the old one.
//     Passwords: a person created with a first password signs in with it through the
//     sign-in form; an admin sets someone's password (too short and mismatched said in the
//     form, nothing sent), which ends their sessions and signs them in; a first password
//     that fails after the create keeps the token on screen and is set from the list.
//     A rep has no such page; a manager reads it without any create or edit control.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse, screenshot, waitUntil, apiClient, createSession, signIn} from './harness.js';

const ctx = fixture();

const DIALOG = 'dialog[open]';
const PAGE = '[data-page="org"]';

async function fill(page, selector, text) {
  await page.$eval(selector, (el) => { el.value = ''; });
  await page.type(selector, text);
}

const valueOf = (page, selector) => page.$eval(selector, (el) => el.value);
const textOf = (page, selector) => page.$eval(selector, (el) => el.textContent.trim());

// Waits until every read model has applied `position` (so the console's next read sees it).
async function applied(position) {
  await waitUntil(async () => {
    const health = await fetch(`${ctx.url}/health`).then((x) => x.json());
    return Object.values(health.projections).every((p) => p >= position);
  }, {message: `the read models to apply #${position}`});
}

// A person made through the API, as another admin would.
async function newPerson(name, email, extra = {}) {
  const admin = await ctx.api('admin');
  const s = await admin.post('/staff', {name, email, role: 'sales', department_id: ctx.ids.deptSh1, region: '上海', ...extra}, {expect: 201});
  await applied(s.position);
  return s;
}

function onAnswer(page, method, pathPart) {
  return nextResponse(page, (r) => r.request().method() === method && new URL(r.url()).pathname === `/api/v1${pathPart}`,
    `answer to ${method} ${pathPart}`);
}

// Submits `form` (a selector); → the answer to `method` `pathPart` (below /api/v1).
async function submitted(page, form, method, pathPart) {
  const answer = onAnswer(page, method, pathPart);
  await page.click(`${form} button[type="submit"]`);
  return answer;
}

async function openOrg(page, ready = `${PAGE} #staff-list tr[data-id]`) {
  await openRoute(page, '#/org', 'org', {ready});
}

// An admin's organisation page with the `action` button of person `id`'s row clicked and
// its dialog open; → {page, row, form}: the page and the selectors of the row and of
// `form` (by default the dialog's form named after the action).
async function openRowDialog(id, action, form = `${DIALOG} form[data-form="${action}"]`) {
  const page = await ctx.signedIn('admin');
  const row = `#staff-list tr[data-id="${id}"]`;
  await openOrg(page, `${row} [data-action="${action}"]`);
  await page.click(`${row} [data-action="${action}"]`);
  await page.waitForSelector(form, {visible: true});
  return {page, row, form};
}

// Opens the new-person form and fills it in: a select picks, an input is typed into.
// → the form's selector.
async function newStaffForm(page, values) {
  await page.click(`${PAGE} [data-action="new-staff"]`);
  const form = `${DIALOG} form[data-form="new-staff"]`;
  await page.waitForSelector(`${form} input[name="email"]`, {visible: true});
  for (const [name, value] of Object.entries(values)) {
    if (await page.$(`${form} select[name="${name}"]`)) await page.select(`${form} select[name="${name}"]`, value);
    else await fill(page, `${form} input[name="${name}"]`, value);
  }
  return form;
}

const PASSWORD_PATH = /^\/api\/v1\/staff\/[^/]+\/password$/;

// The requests the page sends from now on with `method` to a path matching `pattern`.
function requestsTo(page, method, pattern) {
  const seen = [];
  page.on('request', (r) => { if (r.method() === method && pattern.test(new URL(r.url()).pathname)) seen.push(r); });
  return seen;
}

function passwordAnswer(page) {
  return nextResponse(page, (r) => r.request().method() === 'PUT' && PASSWORD_PATH.test(new URL(r.url()).pathname), 'answer to PUT /staff/{id}/password');
}

// Types a password and its repeat into `form`, submits, and waits until the form has
// said what is wrong with them (the field marked).
async function refusedPasswords(page, form, password, again, field) {
  await fill(page, `${form} input[name="password"]`, password);
  await fill(page, `${form} input[name="password_again"]`, again);
  await page.click(`${form} button[type="submit"]`);
  await page.waitForSelector(`${form} input[name="${field}"][aria-invalid="true"]`, {visible: true});
  return textOf(page, `${form} input[name="${field}"] ~ .field-error`);
}

// Signs `email` in through the console's sign-in form in a page of its own; checks that
// it lands on the home page of `role` as person `id`.
async function signsInAs(id, email, password, home) {
  const page = await ctx.page();
  const session = await signIn(page, ctx.url, email, password);
  assert.equal(session.staff.id, id, 'the console is signed in as that person');
  assert.equal(await page.evaluate(() => location.hash), `#/${home}`, `they land on their home page #/${home}`);
  await page.waitForSelector(`[data-page="${home}"]`);
}

test('an admin creates a department and a person: the token is shown once, copies, and works', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const page = await ctx.signedIn('admin');
  assert.ok(await page.$('nav a[data-nav="org"]'), 'the navigation has the organisation page');
  await page.click('nav a[data-nav="org"]');
  await openOrg(page, `${PAGE} #org-tree li[data-id="${ctx.ids.deptEast}"] li[data-id="${ctx.ids.deptSh1}"]`);
  assert.equal(await textOf(page, `${PAGE} h1`), '组织架构');
  const shCount = await page.$eval(`#org-tree li[data-id="${ctx.ids.deptSh1}"] > .org-row [data-field="staff_count"]`, (e) => e.dataset.count);
  assert.equal(shCount, '4', 'the tree counts the people of 上海一组 (rep1, rep2, rep3, locked)');

  // A department at the top level.
  await page.click(`${PAGE} [data-action="new-department"]`);
  const dform = `${DIALOG} form`;
  await page.waitForSelector(`${dform} input[name="name"]`, {visible: true});
  await page.type(`${dform} input[name="name"]`, '华南区');
  assert.equal(await valueOf(page, `${dform} select[name="parent_id"]`), '', 'a new department is at the top level unless a parent is picked');
  const dres = await submitted(page, dform, 'POST', '/departments');
  assert.equal(dres.status(), 201, `POST /departments answered ${dres.status()}: ${await dres.text()}`);
  assert.deepEqual(JSON.parse(dres.request().postData()), {name: '华南区'});
  const deptId = (await dres.json()).id;
  await page.waitForSelector(`#org-tree > ul > li[data-id="${deptId}"]`, {visible: true});
  assert.equal(await textOf(page, `#org-tree li[data-id="${deptId}"] .org-name`), '华南区');
  const dep = (await admin.get('/departments')).items.find((d) => d.id === deptId);
  assert.equal(dep.name, '华南区');
  assert.equal(dep.parent_id, null);

  // A person in it.
  const sform = await newStaffForm(page, {name: '冯新人', email: 'fengxinren@e2e.test', role: 'sales', department_id: deptId, region: '广州'});
  const res = await submitted(page, sform, 'POST', '/staff');
  assert.equal(res.status(), 201, `POST /staff answered ${res.status()}: ${await res.text()}`);
  assert.deepEqual(JSON.parse(res.request().postData()),
    {name: '冯新人', email: 'fengxinren@e2e.test', role: 'sales', department_id: deptId, region: '广州'});
  const {id, token} = await res.json();
  assert.ok(token, 'the answer has the token');

  // The token, once, with a warning saying so.
  const box = `${DIALOG} [data-token-for="${id}"]`;
  await page.waitForSelector(`${box} input[name="token"]`, {visible: true});
  assert.equal(await valueOf(page, `${box} input[name="token"]`), token, 'the dialog shows the token the server answered');
  assert.equal(await page.$eval(`${box} input[name="token"]`, (e) => e.readOnly), true);
  const warning = await textOf(page, `${box} .alert-warn`);
  assert.ok(warning.includes('只显示这一次'), `the dialog warns that the token is shown once: ${warning}`);
  await screenshot(page, 'org-token');
  await page.browserContext().overridePermissions(ctx.url, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
  await page.click(`${box} [data-action="copy-token"]`);
  await page.waitForSelector(`${box} [data-copy-status="copied"]`, {visible: true});
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, 'Copy put the token on the clipboard');
  const me = await apiClient(ctx.url, token).get(`/staff/${id}`);
  assert.equal(me.email, 'fengxinren@e2e.test', 'the token works');

  await page.click(`${box} [data-action="token-done"]`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  const row = `#staff-list tr[data-id="${id}"]`;
  await page.waitForSelector(row, {visible: true});
  const cells = await page.$eval(row, (tr) => Object.fromEntries([...tr.querySelectorAll('[data-field]')].map((e) => [e.dataset.field, e.textContent.trim()])));
  assert.deepEqual(cells, {name: '冯新人', email: 'fengxinren@e2e.test', role: '销售', department: '华南区', region: '广州', departed: '在职'});
  await page.waitForFunction((d) => document.querySelector(`#org-tree li[data-id="${d}"] [data-field="staff_count"]`).dataset.count === '1', {}, deptId);
  assert.ok((await textOf(page, `${PAGE} .alert-ok`)).includes('冯新人'), 'the page says the person was created');
  // Shown once: nothing on the page holds the token any more (neither its markup nor a
  // control's value, which markup does not show).
  assert.equal(await page.evaluate((tk) => document.body.innerHTML.includes(tk) ||
    [...document.querySelectorAll('input, textarea')].some((el) => el.value === tk), token), false);
});

test('an admin edits a person\'s role and department with If-Match; the list shows it', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const s = await newPerson('褚调岗', 'chudiaogang@e2e.test');
  const {page, row, form} = await openRowDialog(s.id, 'edit-staff');
  assert.equal(await page.$eval(form, (f) => f.dataset.version), '1');
  assert.equal(await valueOf(page, `${form} input[name="name"]`), '褚调岗');
  assert.equal(await valueOf(page, `${form} select[name="role"]`), 'sales');
  assert.equal(await valueOf(page, `${form} select[name="department_id"]`), ctx.ids.deptSh1);
  await page.select(`${form} select[name="role"]`, 'manager');
  await page.select(`${form} select[name="department_id"]`, ctx.ids.deptEast);
  const res = await submitted(page, form, 'PATCH', `/staff/${s.id}`);
  assert.equal(res.status(), 200, `the save answered ${res.status()}: ${await res.text()}`);
  assert.equal(res.request().headers()['if-match'], '"1"');
  assert.deepEqual(JSON.parse(res.request().postData()), {role: 'manager', department_id: ctx.ids.deptEast}, 'only what changed is sent');
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  await page.waitForFunction((r) => (document.querySelector(`${r} [data-field="role"]`) || {textContent: ''}).textContent.trim() === '销售经理', {}, row);
  assert.equal(await textOf(page, `${row} [data-field="department"]`), '华东区');

  // The filters: by role and by department (with its sub-departments).
  await page.select(`${PAGE} select[name="role"]`, 'manager');
  assert.ok(await page.$(row), 'a manager is listed under the role filter "manager"');
  assert.equal(await page.$(`#staff-list tr[data-id="${ctx.people.rep1.id}"]`), null, 'a rep is not');
  await page.select(`${PAGE} select[name="role"]`, '');
  await page.click(`#org-tree li[data-id="${ctx.ids.deptSh1}"] > .org-row [data-action="filter-department"]`);
  await page.waitForFunction((r) => !document.querySelector(r), {}, row);
  assert.ok(await page.$(`#staff-list tr[data-id="${ctx.people.rep1.id}"]`), '上海一组 lists rep1');
  await page.click(`#org-tree li[data-id="${ctx.ids.deptEast}"] > .org-row [data-action="filter-department"]`);
  await page.waitForSelector(row);
  assert.ok(await page.$(`#staff-list tr[data-id="${ctx.people.rep1.id}"]`), '华东区 lists the people of its sub-department 上海一组 too');

  const saved = await admin.get(`/staff/${s.id}`);
  assert.equal(saved.role, 'manager');
  assert.equal(saved.department_id, ctx.ids.deptEast);
  assert.equal(saved.region, '上海');
  assert.equal(saved.version, 2);
});

test('a person edited with a stale version: the 412 is explained, fresh values shown, typed ones kept; nothing lost', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const s = await newPerson('卫旧名', 'weijiuming@e2e.test');
  const {page, row, form} = await openRowDialog(s.id, 'edit-staff');
  // The user changes the region and the name...
  await fill(page, `${form} input[name="region"]`, '深圳');
  await fill(page, `${form} input[name="name"]`, '卫新名（我改）');

  // ...while another admin changes the name and the email.
  const other = await admin('PATCH', `/staff/${s.id}`, {name: '卫新名（他改）', email: 'weixinming@e2e.test'}, {headers: {'If-Match': '"1"'}});
  await applied(other.position);

  const res = await submitted(page, form, 'PATCH', `/staff/${s.id}`);
  assert.equal(res.status(), 412, `the stale save answered ${res.status()}`);
  assert.equal(res.request().headers()['if-match'], '"1"');
  const alert = await page.waitForSelector(`${form} .alert[data-conflict="true"]`, {visible: true});
  await page.waitForFunction((f) => document.querySelector(f).dataset.version === '2', {}, form);
  const alertText = await alert.evaluate((a) => a.textContent);
  assert.ok(alertText.includes('他人修改'), `the alert says someone else changed the person: ${alertText}`);
  // The untouched email took the saved value; the typed name and region were kept.
  assert.equal(await valueOf(page, `${form} input[name="email"]`), 'weixinming@e2e.test');
  assert.equal(await valueOf(page, `${form} input[name="name"]`), '卫新名（我改）');
  assert.equal(await valueOf(page, `${form} input[name="region"]`), '深圳');
  const note = await textOf(page, `${form} [data-fresh="name"]`);
  assert.ok(note.includes('卫新名（他改）'), `the saved name is shown under the field: ${note}`);
  assert.ok(await page.$(`${form} [data-fresh="email"]`), 'the changed email is marked');
  // The list behind the dialog shows the saved person.
  await page.waitForFunction((r) => (document.querySelector(`${r} [data-field="email"]`) || {textContent: ''}).textContent.trim() === 'weixinming@e2e.test', {}, row);
  await screenshot(page, 'org-staff-conflict');
  const unchanged = await admin.get(`/staff/${s.id}`);
  assert.equal(unchanged.name, '卫新名（他改）', 'the stale save wrote nothing');
  assert.equal(unchanged.region, '上海');

  const res2 = await submitted(page, form, 'PATCH', `/staff/${s.id}`);
  assert.equal(res2.status(), 200, `the second save answered ${res2.status()}: ${await res2.text()}`);
  assert.equal(res2.request().headers()['if-match'], '"2"', 'the second save goes against the new version');
  assert.deepEqual(JSON.parse(res2.request().postData()), {name: '卫新名（我改）', region: '深圳'});
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  await page.waitForFunction((r) => (document.querySelector(`${r} [data-field="name"]`) || {textContent: ''}).textContent.trim() === '卫新名（我改）', {}, row);

  const saved = await admin.get(`/staff/${s.id}`);
  assert.equal(saved.name, '卫新名（我改）');
  assert.equal(saved.email, 'weixinming@e2e.test', 'the other admin\'s email stays');
  assert.equal(saved.region, '深圳');
  assert.equal(saved.version, 3);
});

test('a department moves under another; a move under its own child is refused in the form and changes nothing', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const central = await admin.post('/departments', {name: '华中区'}, {expect: 201});
  await applied(central.position);
  const page = await ctx.signedIn('admin');
  const east = `#org-tree li[data-id="${ctx.ids.deptEast}"]`;
  await openOrg(page, `#org-tree li[data-id="${central.id}"] [data-action="edit-department"]`);

  // A move that is allowed: 华中区 under 华东区.
  await page.click(`#org-tree li[data-id="${central.id}"] [data-action="edit-department"]`);
  const form = `${DIALOG} form[data-form="edit-department"]`;
  await page.waitForSelector(form, {visible: true});
  const offered = await page.$$eval(`${form} select[name="parent_id"] option`, (os) => os.map((o) => o.value));
  assert.ok(!offered.includes(central.id), 'a department is not offered as its own parent');
  await page.select(`${form} select[name="parent_id"]`, ctx.ids.deptEast);
  const mres = await submitted(page, form, 'PATCH', `/departments/${central.id}`);
  assert.equal(mres.status(), 200, `the move answered ${mres.status()}: ${await mres.text()}`);
  assert.equal(mres.request().headers()['if-match'], '"1"');
  assert.deepEqual(JSON.parse(mres.request().postData()), {parent_id: ctx.ids.deptEast});
  await page.waitForSelector(`${east} > ul > li[data-id="${central.id}"]`, {visible: true});

  // 华东区 under its own child 上海一组: 409, explained in the form.
  const before = (await admin.get('/departments')).items.find((d) => d.id === ctx.ids.deptEast);
  await page.click(`${east} > .org-row [data-action="edit-department"]`);
  await page.waitForSelector(form, {visible: true});
  assert.equal(await valueOf(page, `${form} input[name="name"]`), '华东区');
  assert.equal(await valueOf(page, `${form} select[name="parent_id"]`), '');
  await page.select(`${form} select[name="parent_id"]`, ctx.ids.deptSh1);
  const rres = await submitted(page, form, 'PATCH', `/departments/${ctx.ids.deptEast}`);
  assert.equal(rres.status(), 409, `the cycle answered ${rres.status()}`);
  assert.equal((await rres.json()).code, 'invalid_transition');
  await page.waitForSelector(`${form} .alert [data-error="cycle"]`, {visible: true});
  const alertText = await textOf(page, `${form} .alert`);
  assert.ok(alertText.includes('上海一组') && alertText.includes('循环'), `the alert names the child and the loop: ${alertText}`);
  assert.equal(await page.$eval(`${form} select[name="parent_id"]`, (e) => e.getAttribute('aria-invalid')), 'true', 'the parent field is marked');
  assert.ok((await textOf(page, `${form} select[name="parent_id"] ~ .field-error`)).length > 0);
  assert.equal(await valueOf(page, `${form} select[name="parent_id"]`), ctx.ids.deptSh1, 'the choice stays in the form');
  await screenshot(page, 'org-department-cycle');

  const after = await admin.get('/departments');
  const eastNow = after.items.find((d) => d.id === ctx.ids.deptEast);
  assert.ok(eastNow, '华东区 is still at the top level');
  assert.equal(eastNow.parent_id, null);
  assert.equal(eastNow.version, before.version, 'nothing was written');
  assert.equal(eastNow.name, '华东区');
  assert.ok(eastNow.children.some((c) => c.id === ctx.ids.deptSh1), '上海一组 is still under 华东区');

  await page.click(`${DIALOG} .form-actions button:not([type="submit"])`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  assert.ok(await page.$(`${east} li[data-id="${ctx.ids.deptSh1}"]`), 'the tree is unchanged');
});

test('a role change refused because the person still owns leads and customers says to hand them over first', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const before = await admin.get(`/staff/${ctx.people.rep1.id}`);
  const {page, form} = await openRowDialog(ctx.people.rep1.id, 'edit-staff');
  await page.select(`${form} select[name="role"]`, 'finance');
  const res = await submitted(page, form, 'PATCH', `/staff/${ctx.people.rep1.id}`);
  assert.equal(res.status(), 409, `the role change answered ${res.status()}`);
  await page.waitForSelector(`${form} .alert [data-error="holdings"] a[href="#/handover"]`, {visible: true});
  assert.equal(await page.$eval(`${form} select[name="role"]`, (e) => e.getAttribute('aria-invalid')), 'true', 'the role field is marked');
  const after = await admin.get(`/staff/${ctx.people.rep1.id}`);
  assert.equal(after.role, 'sales');
  assert.equal(after.version, before.version);
});

test('a new token for a person, after a confirmation, stops the old one', {timeout: T.test}, async () => {
  const s = await newPerson('蒋令牌', 'jianglingpai@e2e.test');
  assert.ok(await apiClient(ctx.url, s.token).get(`/staff/${s.id}`), 'the first token works');
  const {page, form} = await openRowDialog(s.id, 'new-token');
  const confirm = await textOf(page, `${form} .confirm-text`);
  assert.ok(confirm.includes('蒋令牌') && confirm.includes('失效'), `the confirmation names the person and says the old token stops: ${confirm}`);
  const res = await submitted(page, form, 'POST', `/staff/${s.id}/tokens`);
  assert.equal(res.status(), 201);
  const {token} = await res.json();
  await page.waitForSelector(`${DIALOG} [data-token-for="${s.id}"] input[name="token"]`, {visible: true});
  assert.equal(await valueOf(page, `${DIALOG} [data-token-for="${s.id}"] input[name="token"]`), token);
  await assert.rejects(apiClient(ctx.url, s.token).get(`/staff/${s.id}`), (e) => e.status === 401, 'the old token stopped working');
  assert.ok(await apiClient(ctx.url, token).get(`/staff/${s.id}`), 'the new token works');
  await page.click(`${DIALOG} [data-action="token-done"]`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
});

test('a person created with a first password signs in with it through the sign-in form and lands on their home page', {timeout: T.test}, async () => {
  const page = await ctx.signedIn('admin');
  await openOrg(page);
  const email = 'yangchumi@e2e.test';
  const password = '杨初密-first-pw-01';
  const form = await newStaffForm(page, {name: '杨初密', email, role: 'sales', department_id: ctx.ids.deptSh1});
  const section = await textOf(page, `${form} .form-section`);
  assert.ok(section.includes('可选'), `the password is offered as optional: ${section}`);

  // Too short: said at the field, and nothing is sent, not even the person.
  const creates = requestsTo(page, 'POST', /^\/api\/v1\/staff$/);
  const puts = requestsTo(page, 'PUT', PASSWORD_PATH);
  const short = await refusedPasswords(page, form, 'short-pw1', 'short-pw1', 'password');
  assert.ok(short.includes('12'), `the field says the rule: ${short}`);
  assert.equal(creates.length + puts.length, 0, 'nothing was sent');

  await fill(page, `${form} input[name="password"]`, password);
  await fill(page, `${form} input[name="password_again"]`, password);
  const created = onAnswer(page, 'POST', '/staff');
  const set = passwordAnswer(page);
  await page.click(`${form} button[type="submit"]`);
  const res = await created;
  assert.equal(res.status(), 201, `POST /staff answered ${res.status()}: ${await res.text()}`);
  assert.deepEqual(JSON.parse(res.request().postData()), {name: '杨初密', email, role: 'sales', department_id: ctx.ids.deptSh1},
    'the person is created without the password');
  const {id, token} = await res.json();
  const pres = await set;
  assert.equal(new URL(pres.url()).pathname, `/api/v1/staff/${id}/password`);
  assert.equal(pres.status(), 204, 'the password is set');
  assert.deepEqual(JSON.parse(pres.request().postData()), {password});
  assert.ok(pres.request().headers()['idempotency-key'], 'the password is sent with an Idempotency-Key');

  // The token dialog still shows the token, and says the password is set.
  const box = `${DIALOG} [data-token-for="${id}"]`;
  await page.waitForSelector(`${box} input[name="token"]`, {visible: true});
  assert.equal(await valueOf(page, `${box} input[name="token"]`), token);
  assert.ok((await textOf(page, `${box} [data-password="set"]`)).includes(email), 'the dialog says they can sign in with their email');
  await page.click(`${box} [data-action="token-done"]`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  await page.waitForSelector(`#staff-list tr[data-id="${id}"]`);
  const ok = await textOf(page, `${PAGE} > .alert-ok`);
  assert.ok(ok.includes('杨初密') && ok.includes('初始密码'), `the page says the person was created with a password: ${ok}`);

  await signsInAs(id, email, password, 'pool');
});

test('an admin sets a person\'s password: too short and mismatched said in the form; their sessions end, their token works, the new one signs them in', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const email = 'hanshemi@e2e.test';
  const s = await newPerson('韩设密', email, {role: 'finance', department_id: ctx.ids.deptEast});
  const before = 'han-old-password-1';
  const after = 'han-new-password-2';
  await admin.put(`/staff/${s.id}/password`, {password: before}, {expect: 204});
  const session = await createSession(ctx.url, email, before);
  assert.ok(await apiClient(ctx.url, session.token).get(`/staff/${s.id}`), 'they are signed in');

  const {page, row, form} = await openRowDialog(s.id, 'set-password');
  assert.ok((await textOf(page, `${DIALOG} h2`)).includes('韩设密'), 'the dialog names the person');
  assert.ok((await textOf(page, `${form} .confirm-text`)).includes(email), 'it says which email they sign in with');
  const notice = await textOf(page, `${form} [data-notice="sessions"]`);
  assert.ok(notice.includes('会话') && notice.includes('结束') && notice.includes('API 令牌不受影响'),
    `it says their sessions end and their API token does not: ${notice}`);
  const self = `#staff-list tr[data-id="${ctx.people.admin.id}"] [data-action="set-password"]`;
  assert.equal(await page.$eval(self, (a) => a.getAttribute('href')), '#/account', 'one\'s own password is changed on the account page');

  const puts = requestsTo(page, 'PUT', PASSWORD_PATH);
  // 11 characters, 16 UTF-16 units: counted as the server counts, in characters.
  const short = await refusedPasswords(page, form, 'short😀😀😀😀😀!', 'short😀😀😀😀😀!', 'password');
  assert.ok(short.includes('12') && short.includes('11'), `too short, counted in characters: ${short}`);
  const mismatch = await refusedPasswords(page, form, after, `${after}x`, 'password_again');
  assert.ok(mismatch.includes('不一致'), `the repeat differs: ${mismatch}`);
  assert.equal(await page.$(`${form} input[name="password"][aria-invalid="true"]`), null, 'the password itself is fine now');
  assert.equal(puts.length, 0, 'nothing was sent');
  await screenshot(page, 'org-password');
  // Phone width (isMobile would reload the page, and close the dialog).
  await page.setViewport({width: 375, height: 812, deviceScaleFactor: 1});
  await screenshot(page, 'org-password-phone');
  await page.setViewport({width: 1280, height: 800, deviceScaleFactor: 1});

  await fill(page, `${form} input[name="password_again"]`, after);
  const res = await submitted(page, form, 'PUT', `/staff/${s.id}/password`);
  assert.equal(res.status(), 204, 'the password is set');
  assert.deepEqual(JSON.parse(res.request().postData()), {password: after});
  assert.ok(res.request().headers()['idempotency-key'], 'sent with an Idempotency-Key');
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  const ok = await page.waitForSelector(`${PAGE} > .alert-ok`, {visible: true});
  assert.ok((await ok.evaluate((e) => e.textContent)).includes('韩设密'), 'the page says whose password was set');

  // As the dialog said: the session ended, the API token works, the old password no more.
  await assert.rejects(apiClient(ctx.url, session.token).get(`/staff/${s.id}`), (e) => e.status === 401, 'their session ended');
  assert.ok(await apiClient(ctx.url, s.token).get(`/staff/${s.id}`), 'their API token still works');
  await assert.rejects(createSession(ctx.url, email, before), (e) => e.status === 401, 'the old password no longer signs in');
  // The password is an event of the person: the list has their new version, so an edit
  // opened now goes against it.
  await page.click(`${row} [data-action="edit-staff"]`);
  await page.waitForSelector(`${DIALOG} form[data-form="edit-staff"]`, {visible: true});
  assert.equal(await page.$eval(`${DIALOG} form[data-form="edit-staff"]`, (f) => f.dataset.version), '3');
  await page.click(`${DIALOG} .form-actions button:not([type="submit"])`);

  await signsInAs(s.id, email, after, 'finance');
});

test('a first password failing after the person is created: the token stays on screen, the page says so, and the list sets it', {timeout: T.test}, async () => {
  const admin = await ctx.api('admin');
  const page = await ctx.signedIn('admin');
  await openOrg(page);
  // The first PUT of a password fails as a storage failure would.
  await page.setRequestInterception(true);
  let failures = 0;
  page.on('request', (r) => {
    if (r.method() === 'PUT' && PASSWORD_PATH.test(new URL(r.url()).pathname) && failures === 0) {
      failures += 1;
      r.respond({status: 503, contentType: 'application/problem+json', body: JSON.stringify({type: 'urn:evcrm:error:unavailable',
        title: 'Service unavailable', status: 503, code: 'unavailable', detail: 'storage is failing (test)'})});
    } else {
      r.continue();
    }
  });
  const email = 'qinshibai@e2e.test';
  const password = 'qin-first-password';
  const form = await newStaffForm(page, {name: '秦失败', email, role: 'manager', department_id: ctx.ids.deptEast,
    password, password_again: password});
  const created = onAnswer(page, 'POST', '/staff');
  const set = passwordAnswer(page);
  await page.click(`${form} button[type="submit"]`);
  const {id, token} = await (await created).json();
  assert.equal((await set).status(), 503);

  const box = `${DIALOG} [data-token-for="${id}"]`;
  await page.waitForSelector(`${box} input[name="token"]`, {visible: true});
  assert.equal(await valueOf(page, `${box} input[name="token"]`), token, 'the token is shown all the same');
  const said = await textOf(page, `${box} [data-password="failed"]`);
  assert.ok(said.includes('秦失败') && said.includes('已创建') && said.includes('没有设置成功') && said.includes('storage is failing (test)'),
    `the dialog says the person exists without the password, and why: ${said}`);
  await page.click(`${box} [data-action="token-done"]`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  const warning = await textOf(page, `${PAGE} > .alert-warn`);
  assert.ok(warning.includes('已创建') && warning.includes('设置密码'), `the page says so too, and what to do: ${warning}`);
  assert.ok(await page.$(`${PAGE} > .alert-warn [data-action="retry-password"]`));
  assert.equal((await admin.get(`/staff/${id}`)).email, email, 'the person exists');
  await assert.rejects(createSession(ctx.url, email, password), (e) => e.status === 401, 'without a password');

  // From the list.
  const row = `#staff-list tr[data-id="${id}"]`;
  await page.click(`${row} [data-action="set-password"]`);
  const again = `${DIALOG} form[data-form="set-password"]`;
  await page.waitForSelector(again, {visible: true});
  await fill(page, `${again} input[name="password"]`, password);
  await fill(page, `${again} input[name="password_again"]`, password);
  assert.equal((await submitted(page, again, 'PUT', `/staff/${id}/password`)).status(), 204);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  await page.waitForSelector(`${PAGE} > .alert-ok`, {visible: true});

  await signsInAs(id, email, password, 'dashboard');
});

test('a rep has no organisation page; a manager reads it without create or edit controls', {timeout: T.test}, async () => {
  const rep = await ctx.signedIn('rep1');
  assert.equal(await rep.$('nav a[data-nav="org"]'), null, 'no navigation entry for a rep');
  await rep.evaluate(() => { location.hash = '#/org'; });
  await rep.waitForFunction(() => location.hash === '#/pool', {timeout: T.nav});
  await rep.waitForSelector('[data-page="pool"]');
  assert.equal(await rep.$('[data-page="org"]'), null);

  const mgr = await ctx.signedIn('manager');
  assert.ok(await mgr.$('nav a[data-nav="org"]'), 'a manager has the navigation entry');
  await openOrg(mgr, `${PAGE} #staff-list tr[data-id="${ctx.people.rep1.id}"]`);
  assert.ok(await mgr.$(`#org-tree li[data-id="${ctx.ids.deptSh1}"]`), 'the tree is shown');
  const controls = await mgr.$$eval(`${PAGE} [data-action]`, (els) => [...new Set(els.map((e) => e.dataset.action))]);
  assert.deepEqual(controls, ['filter-department'], 'a manager only filters');
  assert.equal(await mgr.$(`${PAGE} .actions button`), null);
});
