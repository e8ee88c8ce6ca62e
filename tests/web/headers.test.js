// 9. Security headers on every HTML answer, and no inline script in the page.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute} from './harness.js';

const ctx = fixture();

function checkHtmlHeaders(where, h) {
  const csp = h.get('content-security-policy') || '';
  const directives = csp.split(';').map((d) => d.trim().replace(/\s+/g, ' '));
  assert.ok(directives.includes("default-src 'self'"), `${where}: CSP has default-src 'self' (got "${csp}")`);
  assert.ok(directives.includes("frame-ancestors 'none'"), `${where}: CSP has frame-ancestors 'none' (got "${csp}")`);
  for (const d of directives) {
    assert.doesNotMatch(d, /^(script-src|default-src|style-src)\b.*'unsafe-(inline|eval)'/, `${where}: CSP allows unsafe code: ${d}`);
  }
  assert.equal(h.get('x-content-type-options'), 'nosniff', `${where}: X-Content-Type-Options`);
  assert.equal(h.get('referrer-policy'), 'no-referrer', `${where}: Referrer-Policy`);
}

test('every HTML answer carries CSP, nosniff and no-referrer; the page has no inline script', {timeout: T.test}, async () => {
  const root = await fetch(`${ctx.url}/`);
  const html = await root.text();
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type') || '', /^text\/html/);
  checkHtmlHeaders('GET /', root.headers);

  // No inline script or handler in the document itself: every <script> has a src.
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length > 0, 'the page loads a script');
  for (const [tag, attrs, body] of scripts) {
    assert.match(attrs, /\bsrc=/, `inline script: ${tag.slice(0, 80)}`);
    assert.equal(body.trim(), '', `script with a body: ${tag.slice(0, 80)}`);
  }
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler attributes');
  assert.doesNotMatch(html, /javascript:/i, 'no javascript: URLs');
  assert.doesNotMatch(html, /<style\b|\sstyle\s*=/i, 'no inline style');

  // Every other path that might answer HTML: whatever is HTML has the headers too.
  const assets = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(assets.length >= 2, 'the page names its script and style sheet');
  const build = assets[0].split('/')[2];
  const probe = ['/', '/?lang=en', '/index.html', `/console/${build}/index.html`, `/console/${build}/`, `/console/${build}/pages/`,
    '/console/', '/no-such-page', '/signin', '/api/v1/no-such', '/api/v1/', '/health', `/console/${build}/../index.html`, ...assets];
  const html2 = [];
  for (const p of probe) {
    const r = await fetch(`${ctx.url}${p}`, {redirect: 'manual'});
    await r.arrayBuffer();
    const type = r.headers.get('content-type') || '';
    if (/text\/html/i.test(type)) { html2.push(p); checkHtmlHeaders(`GET ${p} (${r.status})`, r.headers); }
    // Whatever the console serves is typed, so nosniff cannot break it.
    if (p.startsWith('/console/') && r.status === 200) {
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${p}: nosniff`);
      if (p.endsWith('.js')) assert.match(type, /^text\/javascript/, `${p}: ${type}`);
      if (p.endsWith('.css')) assert.match(type, /^text\/css/, `${p}: ${type}`);
    }
  }
  assert.ok(html2.includes('/'), 'GET / is HTML');

  // In the browser: every HTML response seen has the headers, no CSP violation happens
  // (checked after the test), and the rendered DOM has no inline script or handler.
  const page = await ctx.page();
  const htmlResponses = [];
  page.on('response', (r) => {
    if (/text\/html/i.test(r.headers()['content-type'] || '')) htmlResponses.push({url: r.url(), status: r.status(), headers: r.headers()});
  });
  await page.goto(`${ctx.url}/`, {waitUntil: 'load'});
  await openRoute(page, '#/signin', 'signin', {ready: '#signin'});
  const {email, password} = ctx.people.manager;
  await page.type('#signin input[name="email"]', email);
  await page.type('#signin input[name="password"]', password);
  await page.click('#signin button[type="submit"]');
  await page.waitForSelector('[data-page="dashboard"] [data-tile]', {timeout: T.nav});
  assert.ok(htmlResponses.length >= 1, 'the browser loaded the HTML');
  for (const r of htmlResponses) checkHtmlHeaders(`browser ${r.url}`, new Headers(r.headers));
  const inline = await page.evaluate(() => {
    const bad = [...document.querySelectorAll('script:not([src])')].map((s) => s.outerHTML.slice(0, 80));
    for (const el of document.querySelectorAll('*')) for (const a of el.attributes) if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}`);
    return bad;
  });
  assert.deepEqual(inline, [], 'no inline script or handler attribute in the rendered page');
  assert.equal(await page.evaluate(() => window.top === window), true);
});
