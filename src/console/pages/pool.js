// The public pool (公海): what may be claimed, the caller's quota, and what is about to
// be recycled; live over the `pool` topic.
import {h, clear, replace, pageHeader, section, input, select, field, table, appendRows, alertBox, showError,
  clearAlert, showOk, badge, staffName, loading, facts} from './_shared.js';
import {t, tEnum, fmtDateTime, fmtRelative, fmtNum, fmtDuration} from '../i18n.js';
import {get, post, newKey, sawPosition} from '../api.js';
import * as live from '../live.js';

export async function render(root) {
  const box = alertBox();
  const meBox = h('div', {class: 'pool-me'}, loading());
  const dueBox = h('div', {id: 'pool-due'});
  const listBox = h('div', {id: 'pool-list'}, loading());
  const more = h('button', {type: 'button', class: 'btn', hidden: true}, t('common.more'));
  const state = {kind: '', region: '', q: ''};
  let cursor = null;
  let shownCount = 0;
  let gen = 0;
  const keys = new Map();  // claim keys per record, kept until the claim succeeds

  const tabs = h('div', {class: 'tabs', role: 'tablist', 'aria-label': t('pool.kind')},
    [['', t('pool.all')], ['lead', t('pool.leads')], ['customer', t('pool.customers')]].map(([k, label]) =>
      h('button', {type: 'button', role: 'tab', class: 'tab', 'data-kind': k, 'aria-selected': String(k === state.kind),
        onclick: () => { state.kind = k; for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.kind === k)); reload(); }}, label)));
  const q = input('q', {type: 'search', placeholder: t('pool.searchHint')});
  const region = input('region', {placeholder: t('common.region')});
  const filters = h('form', {class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); state.q = q.value.trim(); state.region = region.value.trim(); reload(); }},
    field(t('common.search'), q), field(t('common.region'), region),
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'submit', class: 'btn'}, t('common.filter'))));

  const columns = [
    {label: t('pool.kindCol'), cell: (r) => h('span', {class: 'badge badge-gray'}, tEnum('kind', r.kind))},
    {label: t('common.name'), cell: (r) => h('div', {class: 'cell-main'},
      h('div', {class: 'strong'}, r.name), r.kind === 'lead' ? h('div', {class: 'muted small'}, r.company) : (r.industry ? h('div', {class: 'muted small'}, r.industry) : null))},
    {label: t('common.region'), cell: (r) => r.region || '—'},
    {label: t('pool.reason'), cell: (r) => badge('poolReason', r.reason)},
    {label: t('pool.since'), cell: (r) => h('span', {title: fmtDateTime(r.since)}, fmtRelative(r.since))},
    {label: t('pool.previousOwner'), cell: (r) => staffName(r.previous_owner_id)},
    {label: '', class: 'actions', cell: (r) => claimButton(r)},
  ];

  function claimButton(r) {
    const b = h('button', {type: 'button', class: 'btn btn-primary btn-sm claim', 'data-id': r.id}, t('pool.claim'));
    b.addEventListener('click', async () => {
      clearAlert(box);
      if (!keys.has(r.id)) keys.set(r.id, newKey());
      b.disabled = true;
      try {
        await post(`/${r.kind === 'lead' ? 'leads' : 'customers'}/${r.id}/claim`, undefined, {key: keys.get(r.id)});
        keys.delete(r.id);
        const row = b.closest('tr');
        if (row) row.remove();
        const link = h('a', {href: `#/${r.kind === 'lead' ? 'leads' : 'customers'}/${encodeURIComponent(r.id)}`}, t('pool.open'));
        showOk(box, t('pool.claimed', {name: r.name}), ' ', link);
        loadMe();
      } catch (e) {
        b.disabled = false;
        showError(box, e);
        if (e.code === 'not_in_pool' || e.code === 'invalid_transition' || e.status === 404) reload();
      }
    });
    return b;
  }

  let tbl = null;
  async function reload(keepCount) {
    const mine = ++gen;
    const limit = keepCount ? Math.min(500, Math.max(50, shownCount)) : 50;
    try {
      const page = await get('/pool', {kind: state.kind, region: state.region, q: state.q, limit});
      if (mine !== gen) return;
      tbl = table(columns, page.items || [], {rowAttrs: (r) => ({'data-id': r.id, 'data-kind': r.kind}), empty: t('pool.empty'), caption: t('nav.pool')});
      replace(listBox, tbl);
      shownCount = (page.items || []).length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      if (mine === gen) showError(box, e);
    }
  }
  more.addEventListener('click', async () => {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await get('/pool', {kind: state.kind, region: state.region, q: state.q, cursor, limit: 50});
      appendRows(tbl.tbody, columns, page.items || [], (r) => ({'data-id': r.id, 'data-kind': r.kind}));
      shownCount += (page.items || []).length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (e) { showError(box, e); } finally { more.disabled = false; }
  });

  async function loadMe() {
    try {
      const m = await get('/pool/me');
      const limit = (v) => (v === null || v === undefined ? t('pool.noLimit') : fmtNum(v));
      replace(meBox, h('div', {class: 'tiles tiles-sm'},
        h('div', {class: 'tile', 'data-tile': 'claims_today'}, h('div', {class: 'tile-label'}, t('pool.claimsToday')),
          h('div', {class: 'tile-value'}, `${fmtNum(m.claims_today)} / ${limit(m.daily_claim_limit)}`)),
        h('div', {class: 'tile', 'data-tile': 'owned_leads'}, h('div', {class: 'tile-label'}, t('pool.ownedLeads')),
          h('div', {class: 'tile-value'}, `${fmtNum(m.owned_leads)} / ${limit(m.max_owned_leads)}`)),
        h('div', {class: 'tile', 'data-tile': 'owned_customers'}, h('div', {class: 'tile-label'}, t('pool.ownedCustomers')),
          h('div', {class: 'tile-value'}, `${fmtNum(m.owned_customers)} / ${limit(m.max_owned_customers)}`))));
      const due = m.due_for_recycle || [];
      replace(dueBox, section(t('pool.dueTitle'),
        m.remind_before ? h('p', {class: 'muted small'}, t('pool.dueHint', {d: fmtDuration(m.remind_before)})) : null,
        table([
          {label: t('pool.kindCol'), cell: (r) => tEnum('kind', r.kind)},
          {label: t('common.name'), cell: (r) => h('a', {href: `#/${r.kind === 'lead' ? 'leads' : 'customers'}/${encodeURIComponent(r.id)}`}, r.name)},
          {label: t('common.company'), cell: (r) => r.company || '—'},
          {label: t('pool.recycleAt'), cell: (r) => h('span', {class: 'warn'}, `${fmtDateTime(r.recycle_at)} (${fmtRelative(r.recycle_at)})`)},
        ], due, {rowAttrs: (r) => ({'data-id': r.id}), empty: t('pool.dueEmpty')})));
    } catch (e) {
      clear(meBox);
      showError(box, e);
    }
  }

  root.append(pageHeader(t('nav.pool'), t('pool.subtitle')), meBox, box,
    h('section', {class: 'card'}, h('div', {class: 'card-head'}, tabs), filters, listBox, h('div', {class: 'more-row'}, more)),
    dueBox);
  await Promise.all([reload(), loadMe()]);

  // Someone claimed, released or recycled: fetch the list again as filtered, no reload.
  let pending = null;
  const unsubscribe = live.subscribe({topic: 'pool'}, (msg) => {
    if (msg.type !== 'update' && msg.type !== 'snapshot') return;
    sawPosition(msg.position);
    clearTimeout(pending);
    pending = setTimeout(() => { reload(true); loadMe(); }, msg.type === 'snapshot' ? 0 : 100);
  });
  return () => { gen += 1; clearTimeout(pending); unsubscribe(); };
}
