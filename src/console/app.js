// Boot, the shell (navigation, language, live indicator, account) and the hash router.
import {h, clear, replace} from './dom.js';
import {t, tEnum, lang, setLang, onLangChange} from './i18n.js';
import {getSession, me, role, onSessionChange, signOut} from './api.js';
import * as live from './live.js';
import {loadStaff} from './ui.js';
import * as tasks from './tasks.js';

// Each route: pattern, module, the roles that may open it (null: everyone signed in).
const ROUTES = [
  {name: 'signin', re: /^#\/signin$/, load: () => import('./pages/signin.js'), public: true},
  {name: 'dashboard', re: /^#\/dashboard$/, load: () => import('./pages/dashboard.js'), roles: null, nav: 'nav.dashboard', icon: '▦'},
  {name: 'tasks', re: /^#\/tasks(?:\?record=([^&]+))?$/, load: () => import('./pages/tasks.js'), roles: null, nav: 'nav.tasks', icon: '☑'},
  {name: 'pool', re: /^#\/pool$/, load: () => import('./pages/pool.js'), roles: ['sales', 'manager', 'admin'], nav: 'nav.pool', icon: '◎'},
  {name: 'leads', re: /^#\/leads$/, load: () => import('./pages/leads.js'), roles: ['sales', 'manager', 'admin', 'auditor'], nav: 'nav.leads', icon: '◇'},
  {name: 'import', re: /^#\/leads\/import$/, load: () => import('./pages/import.js'), roles: ['sales', 'manager', 'admin'], parent: 'leads'},
  {name: 'lead', re: /^#\/leads\/([^/]+)$/, load: () => import('./pages/leads.js'), roles: ['sales', 'manager', 'admin', 'auditor'], parent: 'leads'},
  {name: 'customers', re: /^#\/customers$/, load: () => import('./pages/customers.js'), roles: null, nav: 'nav.customers', icon: '◈'},
  {name: 'customer', re: /^#\/customers\/([^/]+)$/, load: () => import('./pages/customers.js'), roles: null, parent: 'customers'},
  {name: 'finance', re: /^#\/finance$/, load: () => import('./pages/finance.js'), roles: ['finance', 'admin', 'manager', 'auditor'], nav: 'nav.finance', icon: '¥'},
  {name: 'handover', re: /^#\/handover$/, load: () => import('./pages/handover.js'), roles: ['admin', 'manager'], nav: 'nav.handover', icon: '⇄'},
  {name: 'org', re: /^#\/org$/, load: () => import('./pages/org.js'), roles: ['admin', 'manager'], nav: 'nav.org', icon: '▤'},
  {name: 'audit', re: /^#\/audit$/, load: () => import('./pages/audit.js'), roles: ['auditor', 'admin'], nav: 'nav.audit', icon: '✓'},
  {name: 'account', re: /^#\/account$/, load: () => import('./pages/account.js'), roles: null},
];

export function homeFor(r) {
  switch (r) {
    case 'manager': case 'admin': return '#/dashboard';
    case 'sales': return '#/pool';
    case 'finance': return '#/finance';
    case 'auditor': return '#/audit';
    default: return '#/signin';
  }
}

function allowed(route, r) {
  return route.public || route.roles === null || (r && route.roles.includes(r));
}

const app = document.getElementById('app');
let cleanup = null;
let renderSeq = 0;
let shell = null;  // {nav, main, key}
let shellDisposers = [];

function liveIndicator() {
  const el = h('span', {id: 'live-status', class: 'live-status', 'data-state': live.status(), role: 'status', 'aria-live': 'polite'},
    h('span', {class: 'live-dot', 'aria-hidden': 'true'}), h('span', {class: 'live-text'}));
  const paint = (s) => {
    el.dataset.state = s;
    el.querySelector('.live-text').textContent = t(`live.${s}`);
    el.title = t(`live.${s}.hint`);
  };
  shellDisposers.push(live.onStatus(paint));
  el.addEventListener('click', () => live.retry());
  return el;
}

// The caller's task count beside "Tasks" in the navigation; red when any is overdue.
function tasksBadge() {
  const el = h('span', {id: 'tasks-badge', class: 'nav-count', hidden: true, 'data-count': '', 'data-overdue': ''});
  shellDisposers.push(tasks.onTasks((d) => {
    if (!d) { el.hidden = true; el.dataset.count = ''; el.dataset.overdue = ''; return; }
    const overdue = (d.items || []).filter((i) => i.overdue).length;
    el.hidden = d.count === 0;
    el.textContent = d.count > 99 ? '99+' : String(d.count);
    el.dataset.count = String(d.count);
    el.dataset.overdue = String(overdue);
    el.classList.toggle('nav-count-overdue', overdue > 0);
    el.title = overdue > 0 ? t('tasks.badgeOverdue', {n: d.count, o: overdue}) : t('tasks.badge', {n: d.count});
    el.setAttribute('aria-label', el.title);
  }));
  return el;
}

function langSwitch() {
  const next = () => (lang() === 'zh-CN' ? 'en' : 'zh-CN');
  return h('button', {type: 'button', class: 'btn btn-ghost lang-switch', 'data-lang': lang(),
    'aria-label': t('shell.switchLanguage'), onclick: () => setLang(next())}, t('shell.otherLanguage'));
}

function markNav(current) {
  for (const a of shell.nav.querySelectorAll('a[data-nav]')) {
    const on = current && (current.name === a.dataset.nav || current.parent === a.dataset.nav);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function ensureShell() {
  const staff = me();
  const key = `${staff.id}|${staff.role}|${lang()}`;
  if (shell && shell.key === key && app.contains(shell.main)) return;
  for (const d of shellDisposers) d();
  shellDisposers = [];
  const current = currentRoute();
  const navList = h('ul', {class: 'nav-list'},
    ROUTES.filter((r) => r.nav && allowed(r, staff.role)).map((r) => h('li',
      h('a', {href: `#/${r.name}`, class: 'nav-link', 'data-nav': r.name,
        'aria-current': current && (current.name === r.name || current.parent === r.name) ? 'page' : null},
      h('span', {class: 'nav-icon', 'aria-hidden': 'true'}, r.icon), h('span', t(r.nav)),
      r.name === 'tasks' ? tasksBadge() : null))));
  const menuBtn = h('button', {type: 'button', class: 'btn btn-ghost menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'main-nav'}, '☰ ', t('shell.menu'));
  const nav = h('nav', {id: 'main-nav', class: 'nav', 'aria-label': t('shell.navigation')}, navList);
  menuBtn.addEventListener('click', () => {
    const open = menuBtn.getAttribute('aria-expanded') !== 'true';
    menuBtn.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
  nav.addEventListener('click', (e) => {
    if (e.target.closest('a')) { nav.classList.remove('open'); menuBtn.setAttribute('aria-expanded', 'false'); }
  });
  const main = h('main', {id: 'main', class: 'main', tabindex: '-1'});
  const side = h('aside', {class: 'side'},
    h('div', {class: 'brand'}, h('a', {href: homeFor(staff.role), class: 'brand-link'}, h('span', {class: 'brand-mark', 'aria-hidden': 'true'}, 'ev'), h('span', {class: 'brand-name'}, t('app.name')))),
    menuBtn,
    nav,
    h('div', {class: 'side-foot'},
      liveIndicator(),
      langSwitch(),
      h('div', {class: 'who'},
        h('a', {href: '#/account', class: 'who-link', 'data-nav': 'account'},
          h('span', {class: 'who-name'}, staff.name), h('span', {class: 'who-role'}, tEnum('role', staff.role)))),
      h('button', {type: 'button', class: 'btn btn-ghost signout', id: 'signout', onclick: async () => {
        live.stop();
        await signOut();
        location.hash = '#/signin';
      }}, t('shell.signOut'))));
  replace(app,
    h('a', {href: '#main', class: 'skip-link', onclick: (e) => { e.preventDefault(); main.focus(); }}, t('shell.skip')),
    h('div', {class: 'layout'}, side, main));
  shell = {main, nav, key};
}

function currentRoute() {
  const hash = location.hash || '';
  for (const r of ROUTES) {
    const m = r.re.exec(hash);
    if (m) return {...r, params: m.slice(1).map((x) => (x === undefined ? undefined : decodeURIComponent(x)))};
  }
  return null;
}

async function render() {
  const seq = ++renderSeq;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const session = getSession();
  let route = currentRoute();
  if (!session) {
    live.stop();
    if (!route || route.name !== 'signin') { location.replace('#/signin'); return; }
  } else if (!route || route.name === 'signin' || !allowed(route, role())) {
    location.replace(homeFor(role()));
    return;
  }
  route = currentRoute();
  document.documentElement.lang = lang();
  let target;
  if (route.public) {
    shell = null;
    target = h('div', {class: 'signin-wrap'});
    replace(app, target);
  } else {
    ensureShell();
    markNav(route);
    live.start();
    tasks.ensure();
    target = shell.main;
    loadStaff().catch(() => {});
  }
  let mod;
  try {
    mod = await route.load();
  } catch (e) {
    if (seq === renderSeq) replace(target, h('div', {class: 'alert', role: 'alert'}, t('error.unexpected')));
    console.error(e);
    return;
  }
  if (seq !== renderSeq) return;
  const root = h('div', {class: 'page', 'data-page': route.name});
  replace(target, root);
  document.title = `${t(route.nav || `page.${route.name}`)} · ${t('app.name')}`;
  try {
    const c = await mod.render(root, {params: route.params, homeFor});
    if (seq === renderSeq) cleanup = typeof c === 'function' ? c : null;
    else if (typeof c === 'function') c();
  } catch (e) {
    console.error(e);
  }
}

window.addEventListener('hashchange', render);
onLangChange(render);
onSessionChange(() => tasks.reset());
onSessionChange((s) => { if (!s) { live.stop(); if (location.hash !== '#/signin') location.hash = '#/signin'; } });
render();
