// The harness of the console's browser tests: a fresh crmd on a free loopback port and
// a temp data dir, API helpers to seed it, and a headless Chromium (puppeteer-core) whose
// pages report uncaught errors, CSP violations and dialogs.
import {spawn} from 'node:child_process';
import {mkdtemp, rm, mkdir} from 'node:fs/promises';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {randomUUID} from 'node:crypto';
import assert from 'node:assert/strict';
import {before, after, afterEach} from 'node:test';
import puppeteer from 'puppeteer-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const CRMD = path.resolve(HERE, process.env.CRMD || '../../build/crmd');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CONSOLE_DIR = process.env.CONSOLE_DIR ? path.resolve(HERE, process.env.CONSOLE_DIR) : '';
export const SCREENSHOT_DIR = path.resolve(HERE, process.env.SCREENSHOT_DIR || '../../build/screenshots');
export const ADMIN_EMAIL = 'admin@localhost';
export const ADMIN_PASSWORD = 'e2e-admin-password-0001';
// Business days start at +08:00 (crmd's default); the browser runs in the same zone so
// the console's "this month" and "today" are the server's.
export const BROWSER_TZ = 'Asia/Shanghai';

// Timeouts (ms).
export const T = {health: 15000, wait: 10000, nav: 15000, test: 60000};

// --- small utilities -----------------------------------------------------------------

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value (which is returned) or the timeout passes.
export async function waitUntil(fn, {timeout = T.wait, interval = 50, message = 'condition'} = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await delay(interval);
  }
}

// Today and this month in the business time zone (+08:00), as crmd counts them.
export function businessToday(now = Date.now()) {
  return new Date(now + 8 * 3600e3).toISOString().slice(0, 10);
}
export function businessMonth(now = Date.now()) {
  return businessToday(now).slice(0, 7);
}
export function businessDay(offsetDays) {
  return businessToday(Date.now() + offsetDays * 86400e3);
}

// --- crmd --------------------------------------------------------------------------

const running = new Set();
function killAll() {
  for (const p of running) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

// Starts a fresh crmd; → {url, port, dataDir, adminToken, log(), stop()}.
export async function startServer() {
  const dir = await mkdtemp(path.join(tmpdir(), 'evcrm-web-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const args = ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`];
  if (CONSOLE_DIR) args.push('--console-dir', CONSOLE_DIR);
  const adminToken = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
  const proc = spawn(CRMD, args, {
    env: {...process.env, CRMD_ADMIN_PASSWORD: ADMIN_PASSWORD, CRMD_ADMIN_TOKEN: adminToken},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let output = '';
  proc.stdout.on('data', (b) => { output += b; });
  proc.stderr.on('data', (b) => { output += b; });
  let exited = null;
  const exit = new Promise((resolve) => proc.on('exit', (code, signal) => { exited = {code, signal}; running.delete(proc); resolve(exited); }));
  proc.on('error', (e) => { output += `\nspawn error: ${e.message}`; });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => {
      if (exited) throw new Error(`crmd exited early (${JSON.stringify(exited)}):\n${output}`);
      const r = await fetch(`${url}/health`).catch(() => null);
      return r && r.ok;
    }, {timeout: T.health, message: `crmd at ${url}/health`});
  } catch (e) {
    proc.kill('SIGKILL');
    await rm(dir, {recursive: true, force: true});
    throw new Error(`${e.message}\ncrmd: ${CRMD} ${args.join(' ')}\n${output}`);
  }
  return {
    url, port, dataDir, adminToken,
    log: () => output,
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(t);
      }
      await rm(dir, {recursive: true, force: true});
      return exited;
    },
  };
}

// --- API helpers -------------------------------------------------------------------

export class HttpError extends Error {
  constructor(method, p, status, body) {
    super(`${method} ${p} → ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

// api(url, token)(method, path, body?, {key, expect, headers}) → parsed body.
// `expect` is the status (or list) that counts as success; default any 2xx.
export function apiClient(url, token) {
  const call = async (method, p, body, opts = {}) => {
    const headers = {Accept: 'application/json', ...(opts.headers || {})};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET') headers['Idempotency-Key'] = opts.key || randomUUID();
    const res = await fetch(`${url}/api/v1${p}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10000)});
    const text = await res.text();
    let data = text;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    const ok = opts.expect === undefined ? res.ok : [].concat(opts.expect).includes(res.status);
    if (!ok) throw new HttpError(method, p, res.status, data);
    if (opts.full) return {status: res.status, headers: res.headers, data};
    return data;
  };
  call.get = (p, o) => call('GET', p, undefined, o);
  call.post = (p, b, o) => call('POST', p, b === undefined ? {} : b, o);
  call.put = (p, b, o) => call('PUT', p, b, o);
  call.token = token;
  return call;
}

export async function createSession(url, email, password) {
  const r = await apiClient(url, null)('POST', '/sessions', {email, password}, {expect: 201});
  return r;
}

// Seeds an organisation, pool rules, leads (some in the pool), customers, an
// opportunity, a contract with a payment plan and a payment. → {people, ids, api}.
export async function seed(server) {
  const admin = apiClient(server.url, server.adminToken);
  const ids = {};
  const east = await admin.post('/departments', {name: '华东区'});
  const sh1 = await admin.post('/departments', {name: '上海一组', parent_id: east.id});
  ids.deptEast = east.id;
  ids.deptSh1 = sh1.id;

  const people = {
    admin: {email: ADMIN_EMAIL, password: ADMIN_PASSWORD, name: 'admin', role: 'admin', token: server.adminToken},
  };
  const staff = [
    ['manager', '王经理', 'manager', east.id],
    ['rep1', '李小明', 'sales', sh1.id],
    ['rep2', '张伟', 'sales', sh1.id],
    ['rep3', '孙丽', 'sales', sh1.id],
    ['finance', '赵会计', 'finance', east.id],
    ['auditor', '钱审计', 'auditor', east.id],
    ['locked', '周锁定', 'sales', sh1.id],
  ];
  for (const [key, name, role, dep] of staff) {
    const email = `${key}@e2e.test`;
    const s = await admin.post('/staff', {name, email, role, department_id: dep, region: '上海'});
    const password = `e2e-${key}-password-01`;
    await admin.put(`/staff/${s.id}/password`, {password});
    people[key] = {id: s.id, email, password, name, role, token: s.token};
  }
  people.admin.id = (await admin.get('/staff')).items.find((s) => s.role === 'admin').id;

  await admin.put('/pool/policy', {
    recycle_no_follow_up: 'P15D', recycle_no_deal: 'P90D', remind_before: 'P3D', daily_claim_limit: 20,
    previous_owner_block: 'P7D', max_owned_customers: 200, max_owned_leads: 500,
  });
  await admin.put('/targets', {period: businessMonth(), staff_id: people.rep1.id, amount: 50000000, currency: 'CNY'});

  const as = (who) => apiClient(server.url, people[who].token);
  const rep1 = as('rep1');
  const rep2 = as('rep2');
  const rep3 = as('rep3');
  const fin = as('finance');

  // The pool: unassigned leads (created by the admin without an owner).
  const poolLeads = [
    ['陈静', '杭州云帆信息技术有限公司', '13800000001', '杭州'],
    ['刘洋', '南京智联软件有限公司', '13800000002', '南京'],
    ['黄磊', '苏州精工机械制造厂', '13800000003', '苏州'],
    ['吴芳', '上海海纳百川贸易有限公司', '13800000004', '上海'],
    ['郑强', '宁波港联物流有限公司', '13800000005', '宁波'],
  ];
  ids.poolLeads = [];
  for (const [name, company, phone, region] of poolLeads) {
    const l = await admin.post('/leads', {name, company, phone, region, source: '展会'});
    ids.poolLeads.push(l.id);
  }
  // rep1's own leads, one with follow-ups.
  const myLeads = [
    ['马超', '上海东方明珠文化传播有限公司', '13900000011', '上海', '官网'],
    ['林晓', '无锡新材料科技有限公司', '13900000012', '无锡', '转介绍'],
    ['何平', '合肥天工电子有限公司', '13900000013', '合肥', '电话营销'],
  ];
  ids.rep1Leads = [];
  for (const [name, company, phone, region, source] of myLeads) {
    const l = await rep1.post('/leads', {name, company, phone, region, source, email: `${phone}@example.cn`});
    ids.rep1Leads.push(l.id);
  }
  await rep1.post(`/leads/${ids.rep1Leads[0]}/follow-ups`, {channel: 'call', note: '电话沟通，客户对年度服务方案感兴趣，约下周面谈。', next_at: new Date(Date.now() + 3 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z')});
  await rep1.post(`/leads/${ids.rep1Leads[0]}/follow-ups`, {channel: 'visit', note: '上门拜访，见到采购负责人。'});
  await rep2.post('/leads', {name: '高远', company: '常州恒通机电有限公司', phone: '13700000021', region: '常州'});

  // Customers: rep1's with an opportunity, a contract with a payment plan and a payment.
  const c1 = await rep1.post('/customers', {name: '上海星辰科技有限公司', industry: '软件', region: '上海', level: 'A', phone: '021-55550001', address: '上海市浦东新区张江路 100 号'});
  ids.customer = c1.id;
  await rep1.post(`/customers/${c1.id}/contacts`, {name: '周杰', title: '采购总监', phone: '13600000031', email: 'zhoujie@xingchen.example.cn', decision_maker: true});
  await rep1.post(`/customers/${c1.id}/contacts`, {name: '王芳', title: 'IT 经理', phone: '13600000032'});
  await rep1.post(`/customers/${c1.id}/follow-ups`, {channel: 'visit', note: '拜访客户，确认二期需求。'});
  const o1 = await rep1.post('/opportunities', {customer_id: c1.id, name: 'CRM 二期实施', amount: 36000000, currency: 'CNY', expected_close_date: businessDay(30), stage: 'proposal'});
  ids.opportunity = o1.id;
  const o2 = await rep1.post('/opportunities', {customer_id: c1.id, name: '年度运维服务', amount: 12000000, currency: 'CNY', expected_close_date: businessDay(10), stage: 'negotiation'});
  ids.opportunity2 = o2.id;
  const k1 = await rep1.post('/contracts', {customer_id: c1.id, opportunity_id: o2.id, number: 'HT-2026-001', title: '年度运维服务合同',
    amount: 12000000, currency: 'CNY', signed_on: businessToday(),
    installments: [{due_on: businessDay(-5), amount: 4000000}, {due_on: businessDay(30), amount: 4000000}, {due_on: businessDay(90), amount: 4000000}]});
  ids.contract = k1.id;
  const p1 = await fin.post(`/contracts/${k1.id}/payments`, {amount: 1500000, received_on: businessToday(), method: '银行转账', reference: 'BANK-0001'});
  ids.payment = p1.id;

  const c2 = await rep1.post('/customers', {name: '苏州恒达制造有限公司', industry: '制造业', region: '苏州', level: 'B'});
  ids.customer2 = c2.id;
  const c3 = await rep2.post('/customers', {name: '北京华夏数据有限公司', industry: '数据服务', region: '北京', level: 'C'});
  ids.rep2Customer = c3.id;
  // A customer in the pool (created by the admin without an owner).
  const c4 = await admin.post('/customers', {name: '广州南方电器有限公司', industry: '家电', region: '广州', level: 'C'});
  ids.poolCustomer = c4.id;
  const head = await fetch(`${server.url}/health`).then((r) => r.json());
  ids.seedPosition = head.position;
  return {people, ids, admin, as};
}

// --- the browser -------------------------------------------------------------------

export async function launchBrowser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=zh-CN', '--no-first-run', '--no-default-browser-check'],
    env: {...process.env, TZ: BROWSER_TZ, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN:zh'},
    protocolTimeout: 30000,
    defaultViewport: {width: 1280, height: 800, deviceScaleFactor: 1},
  });
}

// Reports, for one page: uncaught errors, CSP violations, dialogs, console errors and
// failed requests.
export function track(page) {
  const r = {pageErrors: [], csp: [], dialogs: [], consoleErrors: [], failed: [], requests: []};
  page.on('request', (q) => r.requests.push(q.url()));
  page.on('pageerror', (e) => r.pageErrors.push(String(e && e.stack || e)));
  page.on('dialog', async (d) => {
    r.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/Content Security Policy|CSP-VIOLATION/i.test(text)) r.csp.push(text);
    else r.consoleErrors.push(text);
  });
  page.on('requestfailed', (q) => {
    const f = q.failure();
    // Aborts are what a page does when it moves on (e.g. a superseded fetch).
    if (f && /ERR_ABORTED/.test(f.errorText)) return;
    r.failed.push(`${q.method()} ${q.url()}: ${f && f.errorText}`);
  });
  return r;
}

// A new page (in `context` or the default one) that reports CSP violations as console
// errors, with default timeouts set.
export async function newPage(browserOrContext, {viewport} = {}) {
  const page = await browserOrContext.newPage();
  page.setDefaultTimeout(T.wait);
  page.setDefaultNavigationTimeout(T.nav);
  if (viewport) await page.setViewport(viewport);
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP-VIOLATION ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.tracker = track(page);
  return page;
}

// Fails on uncaught page errors, CSP violations and dialogs of the given pages.
export function assertClean(...pages) {
  for (const p of pages) {
    const r = p.tracker;
    if (!r) continue;
    assert.deepEqual(r.pageErrors, [], `uncaught errors in the page:\n${r.pageErrors.join('\n')}`);
    assert.deepEqual(r.csp, [], `CSP violations:\n${r.csp.join('\n')}`);
    assert.deepEqual(r.dialogs, [], `dialogs opened:\n${r.dialogs.join('\n')}`);
  }
}

// Console errors that are not the browser's own "Failed to load resource" lines (the
// console shows refusals like 401/409/429 on purpose).
export function unexpectedConsoleErrors(page) {
  return (page.tracker ? page.tracker.consoleErrors : []).filter((t) => !/^Failed to load resource/.test(t));
}

// Signs in through the real sign-in form; waits until the role's home page shows.
export async function signIn(page, base, email, password) {
  if (!page.url().startsWith(base)) {
    await page.goto(`${base}/#/signin`, {waitUntil: 'domcontentloaded'});
  } else if (!page.url().endsWith('#/signin')) {
    await page.evaluate(() => { location.hash = '#/signin'; });
  }
  await page.waitForSelector('[data-page="signin"] form#signin input[name="email"]', {visible: true});
  await page.$eval('#signin input[name="email"]', (el) => { el.value = ''; });
  await page.$eval('#signin input[name="password"]', (el) => { el.value = ''; });
  await page.type('#signin input[name="email"]', email);
  await page.type('#signin input[name="password"]', password);
  const answer = nextResponse(page, (r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST', 'answer to POST /api/v1/sessions');
  await page.click('#signin button[type="submit"]');
  const res = await answer;
  assert.equal(res.status(), 201, `sign-in of ${email} answered ${res.status()}: ${await res.text().catch(() => '')}`);
  await page.waitForFunction(() => !location.hash.startsWith('#/signin') && document.querySelector('[data-page]:not([data-page="signin"])'),
    {timeout: T.nav});
  return page.evaluate(() => JSON.parse(localStorage.getItem('evcrm.session') || 'null'));
}

// A promise of the next response matching `pred`, failing with a message naming `what`.
export function nextResponse(page, pred, what, timeout = T.wait) {
  return page.waitForResponse(pred, {timeout}).catch((e) => {
    throw new Error(`no ${what} within ${timeout} ms (${e.message})`);
  });
}

// The session the console keeps (token and staff), read from localStorage.
export async function sessionOf(page) {
  return page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      try {
        const v = JSON.parse(localStorage.getItem(k));
        if (v && typeof v === 'object' && typeof v.token === 'string') return v;
      } catch { /* not JSON */ }
    }
    return null;
  });
}

// Goes to a hash route and waits for the page's root and for its loading state to end.
export async function openRoute(page, hash, pageName, {ready} = {}) {
  await page.evaluate((h) => { if (location.hash !== h) location.hash = h; }, hash);
  await page.waitForSelector(`[data-page="${pageName}"]`, {timeout: T.nav});
  await page.waitForFunction((name) => {
    const root = document.querySelector(`[data-page="${name}"]`);
    return root && !root.querySelector('.loading');
  }, {timeout: T.nav}, pageName);
  if (ready) await page.waitForSelector(ready, {timeout: T.nav});
}

// The console's own formatting functions (its i18n module, as the page loaded it).
export async function consoleModuleUrl(page, file) {
  return page.evaluate((f) => {
    const s = document.querySelector('script[type="module"][src]');
    return new URL(f, s.src).href;
  }, file);
}

export function uniq(prefix = '') {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export async function ensureDir(d) {
  await mkdir(d, {recursive: true});
  return d;
}

// Saves what the page shows now (the viewport, open dialogs included) as
// SCREENSHOT_DIR/<name>.png, after layout has settled; → the file's path.
export async function screenshot(page, name) {
  const file = path.join(await ensureDir(SCREENSHOT_DIR), `${name}.png`);
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))));
  await page.screenshot({path: file});
  return file;
}

// One crmd, its seed, and one browser for a test file: before/after wiring. Pages made
// with ctx.page() are checked after each test (uncaught errors, CSP violations,
// dialogs fail the test) and their browser contexts closed.
export function fixture({browser = true} = {}) {
  const ctx = {opened: []};
  before(async () => {
    ctx.server = await startServer();
    ctx.url = ctx.server.url;
    ctx.seed = await seed(ctx.server);
    ctx.people = ctx.seed.people;
    ctx.ids = ctx.seed.ids;
    if (browser) ctx.browser = await launchBrowser();
  }, {timeout: 60000});
  after(async () => {
    if (ctx.browser) await ctx.browser.close().catch(() => {});
    if (ctx.server) {
      const exit = await ctx.server.stop();
      if (exit && exit.code !== 0 && exit.signal !== 'SIGTERM') console.error(`crmd exited with ${JSON.stringify(exit)}`);
    }
  }, {timeout: 20000});
  afterEach(async () => {
    const pages = ctx.opened.splice(0);
    try {
      for (const p of pages) {
        const extra = unexpectedConsoleErrors(p);
        if (extra.length) console.error(`console errors on ${p.url()}:\n  ${extra.join('\n  ')}`);
      }
      assertClean(...pages);
    } finally {
      for (const p of pages) await p.browserContext().close().catch(() => {});
    }
  }, {timeout: 20000});
  // A fresh browser context (own localStorage) with one page in it.
  ctx.page = async (opts) => {
    const c = await ctx.browser.createBrowserContext();
    const p = await newPage(c, opts);
    ctx.opened.push(p);
    return p;
  };
  // A fresh page signed in as one of the seeded people (through the form).
  ctx.signedIn = async (who, opts) => {
    const p = await ctx.page(opts);
    const person = ctx.people[who];
    await signIn(p, ctx.url, person.email, person.password);
    return p;
  };
  // An API client with a fresh session of a seeded person.
  ctx.api = async (who) => {
    const person = ctx.people[who];
    if (person.token) return apiClient(ctx.url, person.token);
    const s = await createSession(ctx.url, person.email, person.password);
    return apiClient(ctx.url, s.token);
  };
  return ctx;
}
