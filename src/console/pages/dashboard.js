// The dashboard: a month and a department; tiles, the pipeline funnel and the
// leaderboard, live over the `dashboard` topic.
import {h, svg, clear, replace, pageHeader, section, select, field, table, alertBox, showError, clearAlert,
  thisMonth, isRole, loading} from './_shared.js';
import {t, tEnum, fmtMoneyMap, fmtNum, fmtPct, fmtPeriod} from '../i18n.js';
import {get, departments, me, ApiError} from '../api.js';
import * as live from '../live.js';

// Departments the person may pick: a manager their subtree, finance/auditor/admin all.
function flatten(nodes, depth = 0, out = []) {
  for (const n of nodes) {
    out.push({id: n.id, name: n.name, depth});
    flatten(n.children || [], depth + 1, out);
  }
  return out;
}
function findNode(nodes, id) {
  for (const n of nodes) {
    if (n.id === id) return n;
    const c = findNode(n.children || [], id);
    if (c) return c;
  }
  return null;
}

function value(data, path) {
  return path.split('.').reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), data);
}

// A tile: data-tile is the field's path in GET /api/v1/dashboard; .tile-value holds the
// formatted figure and data-value the raw JSON.
function tile(data, path, label, kind, sub) {
  const v = value(data, path);
  let text;
  if (kind === 'money') text = fmtMoneyMap(v);
  else if (kind === 'pct') text = fmtPct(v);
  else text = fmtNum(v);
  return h('div', {class: ['tile', `tile-${kind}`], 'data-tile': path},
    h('div', {class: 'tile-label'}, label),
    h('div', {class: 'tile-value', 'data-value': JSON.stringify(v ?? null)}, text),
    sub ? h('div', {class: 'tile-sub'}, sub) : null);
}

function firstCurrency(...maps) {
  for (const m of maps) for (const c of Object.keys(m || {})) return c;
  return 'CNY';
}

// The open pipeline as a funnel: one band per stage, width by amount (or count).
function funnel(byStage) {
  const open = byStage.filter((s) => !['won', 'lost'].includes(s.stage));
  const closed = byStage.filter((s) => ['won', 'lost'].includes(s.stage));
  const cur = firstCurrency(...byStage.map((s) => s.amount));
  const amt = (s) => (s.amount && s.amount[cur]) || 0;
  const max = Math.max(1, ...open.map(amt));
  const maxCount = Math.max(1, ...open.map((s) => s.count));
  const W = 520, rowH = 44, gap = 8, labelW = 110;
  const H = open.length * (rowH + gap);
  const chart = svg('svg', {class: 'funnel', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('dash.funnel')});
  const avail = W - labelW;
  open.forEach((s, i) => {
    const frac = max > 1 ? amt(s) / max : s.count / maxCount;
    const w = Math.max(8, avail * frac);
    const x = labelW + (avail - w) / 2;
    const y = i * (rowH + gap);
    const text = fmtMoneyMap(s.amount, cur);
    const inside = w > text.length * 8 + 16;
    chart.append(
      svg('rect', {x, y, width: w, height: rowH, rx: 6, class: `funnel-band funnel-${i}`},
        svg('title', `${tEnum('stage', s.stage)}: ${fmtNum(s.count)} · ${fmtMoneyMap(s.amount)}`)),
      svg('text', {x: 0, y: y + rowH / 2 - 3, class: 'funnel-label'}, tEnum('stage', s.stage)),
      svg('text', {x: 0, y: y + rowH / 2 + 14, class: 'funnel-sub'}, t('dash.count', {n: fmtNum(s.count)})),
      inside
        ? svg('text', {x: labelW + avail / 2, y: y + rowH / 2 + 5, 'text-anchor': 'middle', class: 'funnel-value'}, text)
        : svg('text', {x: x + w + 6, y: y + rowH / 2 + 5, class: 'funnel-value outside'}, text));
  });
  const rows = byStage.map((s) => ({...s}));
  const tbl = table([
    {label: t('dash.stage'), cell: (s) => tEnum('stage', s.stage)},
    {label: t('dash.count.h'), cell: (s) => fmtNum(s.count), class: 'num'},
    {label: t('dash.amount'), cell: (s) => fmtMoneyMap(s.amount), class: 'num'},
    {label: t('dash.weighted'), cell: (s) => fmtMoneyMap(s.weighted), class: 'num'},
  ], rows, {rowAttrs: (s) => ({'data-stage': s.stage}), caption: t('dash.pipeline')});
  return h('div', {class: 'pipeline'}, h('div', {class: 'funnel-wrap'}, chart, closed.length ? h('div', {class: 'funnel-closed'},
    closed.map((s) => h('span', {class: `badge badge-${s.stage === 'won' ? 'green' : 'red'}`}, `${tEnum('stage', s.stage)} ${fmtNum(s.count)} · ${fmtMoneyMap(s.amount)}`))) : null), tbl);
}

function leaderboard(rows) {
  return table([
    {label: '#', cell: (r) => String(r.rank), class: 'num rank'},
    {label: t('dash.person'), cell: (r) => r.name},
    {label: t('dash.contracts'), cell: (r) => fmtMoneyMap(r.contracts), class: 'num'},
    {label: t('dash.received'), cell: (r) => fmtMoneyMap(r.received), class: 'num'},
    {label: t('dash.target'), cell: (r) => (Object.keys(r.target || {}).length ? fmtMoneyMap(r.target) : '—'), class: 'num'},
    {label: t('dash.attainment'), cell: (r) => {
      const pct = Math.max(0, r.attainment || 0);
      const bar = h('span', {class: 'bar-fill'});
      bar.style.width = `${Math.min(100, pct * 100)}%`;
      if (pct >= 1) bar.classList.add('bar-done');
      return h('div', {class: 'attain'},
        h('span', {class: 'bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct * 100)), 'aria-label': t('dash.attainment')}, bar),
        h('span', {class: 'attain-pct'}, fmtPct(pct, 0)));
    }},
  ], rows.map((r, i) => ({...r, rank: i + 1})), {rowAttrs: (r) => ({'data-id': r.staff_id}), empty: t('dash.noPeople'), caption: t('dash.leaderboard')});
}

function renderData(body, data) {
  replace(body,
    h('div', {class: 'tiles'},
      tile(data, 'leads.created', t('dash.leadsCreated'), 'count'),
      tile(data, 'leads.converted', t('dash.leadsConverted'), 'count'),
      tile(data, 'leads.conversion_rate', t('dash.conversionRate'), 'pct'),
      tile(data, 'contracts.signed', t('dash.contractsSigned'), 'count'),
      tile(data, 'contracts.amount', t('dash.contractsAmount'), 'money'),
      tile(data, 'payments.received', t('dash.received'), 'money', t('dash.paymentsCount', {n: fmtNum(data.payments.count)})),
      tile(data, 'receivables.outstanding', t('dash.outstanding'), 'money'),
      tile(data, 'receivables.overdue', t('dash.overdue'), 'money'),
      tile(data, 'pipeline.forecast', t('dash.forecast'), 'money'),
      tile(data, 'pool.leads', t('dash.poolLeads'), 'count'),
      tile(data, 'pool.customers', t('dash.poolCustomers'), 'count'),
      tile(data, 'leads.assigned', t('dash.leadsAssigned'), 'count')),
    h('div', {class: 'grid-2'},
      section(t('dash.pipeline'), funnel(data.pipeline.by_stage || [])),
      section(t('dash.leadStates'), h('div', {class: 'state-bars'},
        ['unassigned', 'pending', 'following', 'invalid', 'converted', 'voided'].map((k) => [k, (data.leads.by_state || {})[k] || 0]).map(([k, n]) => {
          const total = Math.max(1, ...Object.values(data.leads.by_state));
          const fill = h('span', {class: `bar-fill state-${k}`});
          fill.style.width = `${(n / total) * 100}%`;
          return h('div', {class: 'state-bar', 'data-state': k},
            h('span', {class: 'state-name'}, tEnum('leadState', k)),
            h('span', {class: 'bar'}, fill),
            h('span', {class: 'num'}, fmtNum(n)));
        })),
      h('p', {class: 'muted small'}, t('dash.poolActivity', {claimed: fmtNum(data.pool.claimed), recycled: fmtNum(data.pool.recycled)})))),
    section(t('dash.leaderboard'), leaderboard(data.leaderboard || [])),
    h('p', {class: 'muted small asof'}, t('dash.position', {p: fmtNum(data.position)})));
}

export async function render(root) {
  const staff = me();
  const box = alertBox();
  const body = h('div', {class: 'dash-body'}, loading());
  const period = h('input', {type: 'month', name: 'period', value: thisMonth(), required: true});
  const dept = select('department_id', [['', t('dash.allVisible')]]);
  const controls = h('form', {class: 'toolbar', role: 'search', onsubmit: (e) => e.preventDefault()},
    field(t('dash.period'), period),
    isRole('sales') ? null : field(t('dash.department'), dept));
  root.append(pageHeader(t('nav.dashboard'), staff.role === 'sales' ? t('dash.scopeOwn') : t('dash.scopeVisible'), controls), box, body);

  if (!isRole('sales')) {
    departments().then((tree) => {
      let nodes = tree;
      if (staff.role === 'manager') {
        const mine = staff.department_id ? findNode(tree, staff.department_id) : null;
        nodes = mine ? [mine] : [];
      }
      for (const d of flatten(nodes)) dept.append(h('option', {value: d.id}, `${'\u3000'.repeat(d.depth)}${d.name}`));
    }).catch((e) => showError(box, e));
  }

  let unsubscribe = null;
  let gen = 0;
  let shown = -1;
  const draw = (data) => {
    if (!data || data.period !== (period.value || data.period)) return;
    if (typeof data.position === 'number' && data.position < shown) return;
    shown = data.position ?? shown;
    renderData(body, data);
  };
  const load = async () => {
    const mine = ++gen;
    shown = -1;
    clearAlert(box);
    const params = {period: period.value || undefined, department_id: dept.value || undefined};
    if (unsubscribe) unsubscribe();
    let ready = false;
    unsubscribe = live.subscribe({topic: 'dashboard', period: params.period || null, department_id: params.department_id || null}, (msg) => {
      if (mine !== gen) return;
      if (msg.type === 'snapshot') ready = true;
      if (msg.type === 'error') { showError(box, new ApiError({code: msg.code, detail: msg.detail})); return; }
      if (ready && (msg.type === 'snapshot' || msg.type === 'update')) draw(msg.data);
    });
    try {
      const data = await get('/dashboard', params);
      if (mine === gen) draw(data);
    } catch (e) {
      if (mine === gen) { clear(body); showError(box, e); }
    }
  };
  period.addEventListener('change', () => { if (period.value) load(); });
  dept.addEventListener('change', load);
  await load();
  return () => { gen += 1; if (unsubscribe) unsubscribe(); };
}
