// Customers (客户): the list with a create form, and the Customer 360 page — profile,
// contacts, opportunities, contracts and payments, money, history — live over the
// `customer` topic, or as it was at a chosen time (read-only).
import {h, clear, replace, append, pageHeader, section, sectionWithActions, input, select, textarea, field, table,
  appendRows, alertBox, showError, clearAlert, showOk, badge, flag, staffName, loadStaff, loading, facts, wireForm,
  formDialog, FormInvalid, parseAmount, localToIso, isRole, assignableOptions, todayYmd, pagedList, editDialog, diffFields,
  amountToInput, eventChanges, exportButtons} from './_shared.js';
import {t, tEnum, fmtDateTime, fmtDate, fmtRelative, fmtNum, fmtMoney, fmtMoneyMap} from '../i18n.js';
import {get, getAll, getRecord, post, patch, me, staffList, ApiError} from '../api.js';
import * as live from '../live.js';
import {paymentsTable, invoicesArea} from './_contract.js';

const LEVELS = ['A', 'B', 'C', 'D'];
const CHANNELS = ['call', 'visit', 'email', 'message', 'other'];
const STAGES_OPEN = ['qualification', 'needs_analysis', 'proposal', 'negotiation'];

export async function render(root, {params}) {
  if (params && params.length && params[0]) return renderCustomer(root, params[0]);
  return renderList(root);
}

function duplicateExtra(err, onClick) {
  return h('div', {class: 'alert-extra'}, t('customers.duplicate'), ' ',
    h('a', {class: 'duplicate-link', href: `#/customers/${encodeURIComponent(err.existingId)}`, onclick: onClick}, t('convert.openExisting')));
}

async function renderList(root) {
  const box = alertBox();
  const listBox = h('div', loading());
  const more = h('button', {type: 'button', class: 'btn', hidden: true}, t('common.more'));
  const q = input('q', {type: 'search', placeholder: t('customers.searchHint')});
  const level = select('level', [['', t('customers.anyLevel')], ...LEVELS.map((x) => [x, tEnum('level', x)])]);
  const region = input('region', {placeholder: t('common.region')});
  const ownerSel = select('owner_id', [['', t('common.anyOwner')]]);
  const canPickOwner = !isRole('sales');
  const filters = h('form', {class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); reload(); }},
    field(t('common.search'), q), field(t('customers.level'), level), field(t('common.region'), region),
    canPickOwner ? field(t('common.owner'), ownerSel) : null,
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'submit', class: 'btn'}, t('common.filter'))));
  level.addEventListener('change', () => reload());
  ownerSel.addEventListener('change', () => reload());
  const columns = [
    {label: t('common.name'), cell: (c) => h('div', {class: 'cell-main'}, h('a', {href: `#/customers/${encodeURIComponent(c.id)}`, class: 'strong'}, c.name),
      c.industry ? h('div', {class: 'muted small'}, c.industry) : null)},
    {label: t('customers.level'), cell: (c) => (c.level ? h('span', {class: 'badge badge-purple'}, tEnum('level', c.level)) : '—')},
    {label: t('common.owner'), cell: (c) => (c.in_pool ? flag(t('customers.inPool'), 'amber') : staffName(c.owner_id))},
    {label: t('common.region'), cell: (c) => c.region || '—'},
    {label: t('common.phone'), cell: (c) => c.phone || '—'},
    {label: t('leads.lastFollowUp'), cell: (c) => (c.last_follow_up_at ? fmtRelative(c.last_follow_up_at) : '—')},
    {label: t('customers.flags'), cell: (c) => [c.locked ? flag(t('customers.locked'), 'purple') : null,
      c.recycle_at ? h('span', {class: 'warn small'}, t('customers.recycleOn', {at: fmtDateTime(c.recycle_at)})) : null]},
  ];
  const fp = () => ({q: q.value.trim(), level: level.value, region: region.value.trim(), owner_id: canPickOwner ? ownerSel.value : ''});
  const {reload, stop} = pagedList({path: '/customers', params: fp, columns, rowAttrs: (c) => ({'data-id': c.id}),
    empty: t('customers.empty'), caption: t('nav.customers'), box, listBox, more});
  const canCreate = isRole('sales', 'manager', 'admin');
  root.append(pageHeader(t('nav.customers'), t('customers.subtitle'),
    h('div', {class: 'btn-row'}, exportButtons('/customers/export', fp, box),
      canCreate ? h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'new-customer', onclick: () => create()}, t('customers.new')) : null)),
  box, h('section', {class: 'card'}, filters, listBox, h('div', {class: 'more-row'}, more)));
  const staff = await staffList().catch(() => []);
  await loadStaff().catch(() => {});
  for (const [v, l] of assignableOptions(staff)) ownerSel.append(h('option', {value: v}, l));
  await reload();

  function create() {
    const fields = profileFields({});
    if (isRole('manager', 'admin')) {
      fields.push(field(t('common.owner'), select('owner_id', assignableOptions(staff, {includeEmpty: true, emptyLabel: t('leads.toPool')}))));
    }
    let dlg = null;
    dlg = formDialog(t('customers.new'), fields, (v, key) => post('/customers', v, {key}), {
      submitLabel: t('common.create'),
      onError: (err, ebox) => {
        if (err instanceof ApiError && err.code === 'duplicate_customer' && err.existingId) {
          showError(ebox, err, duplicateExtra(err, () => dlg && dlg.close()));
          return true;
        }
        return false;
      },
      onDone: (r) => { location.hash = `#/customers/${encodeURIComponent(r.data.id)}`; },
    });
  }
  return stop;
}

function profileFields(c) {
  return [
    field(t('common.name'), input('name', {value: c.name || '', maxlength: 200}), {required: true}),
    field(t('customers.industry'), input('industry', {value: c.industry || '', maxlength: 100})),
    field(t('common.region'), input('region', {value: c.region || '', maxlength: 100})),
    field(t('customers.level'), select('level', [['', '—'], ...LEVELS.map((x) => [x, tEnum('level', x)])], {value: c.level || ''})),
    field(t('common.phone'), input('phone', {type: 'tel', value: c.phone || '', maxlength: 50})),
    field(t('customers.address'), input('address', {value: c.address || '', maxlength: 500}), {wide: true}),
  ];
}

// --- Customer 360 ------------------------------------------------------------------

async function renderCustomer(root, id) {
  const box = alertBox();
  const banner = h('div', {class: 'historical-banner', role: 'status', hidden: true});
  const body = h('div', {class: 'c360'}, loading());
  const timelineBox = h('div');
  const asOf = h('input', {type: 'datetime-local', name: 'as_of', step: '1'});
  const asOfForm = h('form', {class: 'toolbar asof-form', onsubmit: (e) => { e.preventDefault(); setAsOf(asOf.value); }},
    field(t('c360.asOf'), asOf),
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'submit', class: 'btn'}, t('c360.showAsOf'))),
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'button', class: 'btn btn-ghost', 'data-action': 'now', onclick: () => { asOf.value = ''; setAsOf(''); }}, t('c360.backToNow'))));
  root.append(h('p', {class: 'crumbs'}, h('a', {href: '#/customers'}, `← ${t('nav.customers')}`)), asOfForm, banner, box, body, timelineBox);
  await loadStaff().catch(() => {});

  let c = null;
  let version = null;
  let asOfIso = '';
  let unsubscribe = null;
  let lastJson = '';
  let gen = 0;

  async function load(note) {
    const mine = ++gen;
    try {
      const r = await getRecord(`/customers/${encodeURIComponent(id)}`, {as_of: asOfIso || undefined});
      if (mine !== gen) return;
      show(r.data, r.version);
      if (note) showOk(box, note);
    } catch (e) {
      if (mine !== gen) return;
      clear(body);
      showError(box, e);
    }
    loadTimeline();
  }

  function show(data, v) {
    const j = JSON.stringify(data);
    c = data;
    version = v ?? data.version;
    if (j === lastJson) return;
    lastJson = j;
    draw();
  }

  function setAsOf(v) {
    asOfIso = v ? localToIso(v) || '' : '';
    lastJson = '';
    clearAlert(box);
    root.classList.toggle('historical', !!asOfIso);
    root.dataset.historical = asOfIso ? 'true' : 'false';
    if (asOfIso) {
      if (unsubscribe) { unsubscribe(); unsubscribe = null; }
      banner.hidden = false;
      replace(banner, h('strong', t('c360.historical')), ' ', t('c360.historicalAt', {at: fmtDateTime(asOfIso)}));
    } else {
      banner.hidden = true;
      subscribe();
    }
    load();
  }

  function subscribe() {
    if (unsubscribe) unsubscribe();
    unsubscribe = live.subscribe({topic: 'customer', id}, (msg) => {
      if (asOfIso) return;
      if ((msg.type === 'snapshot' || msg.type === 'update') && msg.data) {
        show(msg.data, msg.data.version);
        if (msg.type === 'update') loadTimeline();
      }
    });
  }

  // A merged customer is read-only too: its records live on in the survivor.
  const readOnly = () => !!asOfIso || isRole('auditor', 'finance') || !!(c && c.merged_into);
  const cmd = (path, payload, key, withVersion = true) =>
    post(`/customers/${encodeURIComponent(id)}${path}`, payload, {key, version: withVersion ? version : undefined});
  const onConflict = (err) => {
    if (err instanceof ApiError && err.code === 'version_conflict') {
      lastJson = '';
      load().then(() => showError(box, err, h('div', {class: 'alert-extra'}, t('error.conflictReloaded'))));
    }
    return false;
  };
  const done = (k) => async () => { await load(t(k)); };

  function draw() {
    const m = me();
    const ro = readOnly();
    const mayManage = isRole('manager', 'admin');
    const isOwner = c.owner_id === m.id;
    const actions = [];
    const act = (key, label, fn, cls = 'btn') => actions.push(h('button', {type: 'button', class: cls, 'data-action': key, onclick: fn}, label));
    const merged = !!c.merged_into;
    if (!ro) {
      if (mayManage) act('merge', t('merge.action'), mergeFrom);
      if (c.in_pool) act('claim', t('pool.claim'), () => simple('/claim', t('pool.claim'), t('c360.claimConfirm'), 'c360.claimed', false), 'btn btn-primary');
      if (!c.in_pool) {
        act('edit', t('c360.edit'), editProfile);
        if (isOwner) act('follow-up', t('followUp.add'), addFollowUp);
        if (isOwner) actions.push(h('a', {href: `#/tasks?record=${encodeURIComponent(c.id)}`, class: 'btn', 'data-action': 'add-task'}, t('tasks.addFor')));
        if (mayManage) act('transfer', t('c360.transfer'), transfer);
        if (mayManage) act(c.locked ? 'unlock' : 'lock', c.locked ? t('c360.unlock') : t('c360.lock'),
          () => simple(c.locked ? '/unlock' : '/lock', c.locked ? t('c360.unlock') : t('c360.lock'), null, c.locked ? 'c360.unlocked' : 'c360.lockedMsg'));
        if (!c.locked && (isOwner || mayManage)) act('release', t('leads.release'), release, 'btn btn-danger');
      }
    }
    const totals = c.totals || {};
    const mergedFrom = c.merged_from || [];
    replace(body,
      pageHeader(c.name, [c.industry, c.region].filter(Boolean).join(' · ') || null, h('div', {class: 'btn-row'}, actions)),
      merged ? mergedBanner(c.merged_into) : null,
      mergedFrom.length ? h('p', {class: 'merged-from small', 'data-field': 'merged_from'}, t('merge.mergedFrom'), ' ',
        mergedFrom.map((x, i) => [i ? ', ' : '', customerLink(x)])) : null,
      h('div', {class: 'badges'},
        c.level ? h('span', {class: 'badge badge-purple'}, tEnum('level', c.level)) : null,
        c.in_pool ? flag(t('customers.inPool'), 'amber') : flag(t('c360.ownedBy', {name: staffName(c.owner_id)}), 'blue'),
        c.locked ? flag(t('customers.locked'), 'purple') : null,
        c.recycle_at ? h('span', {class: 'warn small'}, t('customers.recycleOn', {at: fmtDateTime(c.recycle_at)})) : null,
        c.as_of ? flag(t('c360.asOfPosition', {p: fmtNum(c.as_of.position)}), 'gray') : null),
      h('div', {class: 'tiles'},
        moneyTile('totals.contracted', t('c360.contracted'), totals.contracted),
        moneyTile('totals.paid', t('c360.paid'), totals.paid),
        moneyTile('totals.outstanding', t('c360.outstanding'), totals.outstanding),
        moneyTile('totals.overdue', t('c360.overdue'), totals.overdue, true),
        moneyTile('totals.invoiced', t('c360.invoiced'), totals.invoiced),
        moneyTile('totals.invoiced_unpaid', t('c360.invoicedUnpaid'), totals.invoiced_unpaid),
        moneyTile('totals.paid_uninvoiced', t('c360.paidUninvoiced'), totals.paid_uninvoiced)),
      h('div', {class: 'grid-2'},
        section(t('c360.profile'), facts([
          [t('common.name'), c.name], [t('customers.industry'), c.industry], [t('common.region'), c.region],
          [t('customers.level'), c.level ? tEnum('level', c.level) : null], [t('common.phone'), c.phone], [t('customers.address'), c.address],
          [t('common.owner'), c.owner_id ? staffName(c.owner_id) : t('customers.inPool'), 'owner_id'],
          [t('leads.ownedSince'), c.owned_since ? fmtDateTime(c.owned_since) : null],
          [t('leads.lastFollowUp'), c.last_follow_up_at ? fmtDateTime(c.last_follow_up_at) : null],
          c.source_lead_ids && c.source_lead_ids.length ? [t('c360.sourceLeads'), c.source_lead_ids.map((l) => h('a', {href: `#/leads/${encodeURIComponent(l)}`, class: 'id-link'}, l))] : null,
          [t('common.createdAt'), fmtDateTime(c.created_at)], [t('common.version'), String(c.version)],
        ])),
        sectionWithActions(t('c360.contacts'), ro || c.in_pool ? null : h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'add-contact', onclick: addContact}, t('contacts.add')),
          table([
            {label: t('common.name'), cell: (x) => [x.name, x.decision_maker ? [' ', h('span', {class: 'badge badge-green'}, t('contacts.decisionMaker'))] : null]},
            {label: t('contacts.title'), cell: (x) => x.title || '—'},
            {label: t('common.phone'), cell: (x) => x.phone || '—'},
            {label: t('common.email'), cell: (x) => x.email || '—'},
            ro || c.in_pool ? null : {label: '', class: 'actions sticky-end', cell: (x) => h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'edit-contact',
              'aria-label': t('contacts.editNamed', {name: x.name}), onclick: () => editContact(x)}, t('common.edit'))},
          ].filter(Boolean), c.contacts || [], {rowAttrs: (x) => ({'data-id': x.id}), empty: t('contacts.none')}))),
      sectionWithActions(t('c360.opportunities'), ro || c.in_pool ? null : h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'add-opportunity', onclick: addOpportunity}, t('opps.add')),
        table([
          {label: t('opps.name'), cell: (o) => o.name},
          {label: t('opps.stage'), cell: (o) => badge('stage', o.stage)},
          {label: t('opps.amount'), cell: (o) => fmtMoney(o.amount, o.currency), class: 'num'},
          {label: t('opps.probability'), cell: (o) => `${o.probability}%`, class: 'num'},
          {label: t('opps.expectedClose'), cell: (o) => fmtDate(o.expected_close_date)},
          {label: '', class: 'actions', cell: (o) => (ro || c.in_pool || !STAGES_OPEN.includes(o.stage) ? (o.close_reason ? h('span', {class: 'muted small'}, o.close_reason) : null) : oppActions(o))},
        ], c.opportunities || [], {rowAttrs: (o) => ({'data-id': o.id}), empty: t('opps.none')})),
      sectionWithActions(t('c360.contracts'), ro || c.in_pool ? null : h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'add-contract', onclick: addContract}, t('contracts.add')),
        (c.contracts || []).length ? h('div', {class: 'contracts'}, (c.contracts || []).map(contractCard)) : h('p', {class: 'muted'}, t('contracts.none'))),
      h('div', {class: 'grid-2'},
        section(t('c360.followUps'), h('ol', {class: 'timeline'}, (c.follow_ups || []).length ? (c.follow_ups || []).map((f) => h('li', {class: 'tl-item', 'data-id': f.id},
          h('div', {class: 'tl-head'}, h('span', {class: 'badge badge-blue'}, tEnum('channel', f.channel)), ' ', h('span', {class: 'muted small'}, `${fmtDateTime(f.at)} · ${staffName(f.by)}`)),
          h('div', {class: 'tl-note'}, f.note),
          f.next_at ? h('div', {class: 'muted small'}, t('followUp.nextAt', {at: fmtDateTime(f.next_at)})) : null)) : h('li', {class: 'muted'}, t('followUp.none')))),
        section(t('c360.ownerHistory'), table([
          {label: t('common.owner'), cell: (o) => staffName(o.owner_id)},
          {label: t('c360.from'), cell: (o) => fmtDateTime(o.from)},
          {label: t('c360.to'), cell: (o) => (o.to ? fmtDateTime(o.to) : t('c360.now'))},
          {label: t('common.reason'), cell: (o) => tEnum('ownerReason', o.reason)},
        ], (c.owner_history || []).slice().reverse(), {empty: t('common.empty')}))));
  }

  function customerLink(cid) {
    return h('a', {href: `#/customers/${encodeURIComponent(cid)}`, class: 'id-link', 'data-id': cid}, cid);
  }

  // "Merged into X": the survivor's name when the caller may read it, else its id.
  function mergedBanner(into) {
    const link = h('a', {href: `#/customers/${encodeURIComponent(into)}`, class: 'strong', 'data-action': 'open-survivor', 'data-id': into}, into);
    get(`/customers/${encodeURIComponent(into)}`).then((s) => { if (s && s.name) link.textContent = s.name; }).catch(() => {});
    return h('div', {class: 'merged-banner', role: 'status', 'data-merged-into': into},
      h('strong', t('merge.mergedInto')), ' ', link, h('div', {class: 'small'}, t('merge.mergedIntoHint')));
  }

  // 合并客户: pick the other customer (searched by name), then confirm; the other one's
  // contacts, deals, follow-ups and history move here and it leaves every list.
  function mergeFrom() {
    const q = input('q', {type: 'search', placeholder: t('customers.searchHint'), 'aria-label': t('merge.search')});
    const results = h('ul', {class: 'merge-results', 'data-results': ''});
    const searchBtn = h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'merge-search', onclick: () => search()}, t('common.search'));
    let found = [];
    async function search() {
      replace(results, h('li', {class: 'muted'}, t('common.loading')));
      try {
        const page = await get('/customers', {q: q.value.trim(), limit: 20});
        found = (page.items || []).filter((x) => x.id !== id);
        replace(results, found.length ? found.map((x) => h('li', {'data-id': x.id},
          h('label', {class: 'check'}, h('input', {type: 'radio', name: 'from', value: x.id}), ' ', h('span', {class: 'strong'}, x.name),
            h('span', {class: 'muted small'}, ` · ${[x.region, x.in_pool ? t('customers.inPool') : staffName(x.owner_id)].filter(Boolean).join(' · ')}`))))
          : h('li', {class: 'muted'}, t('customers.empty')));
      } catch (e) {
        replace(results, h('li', {class: 'muted'}, e.message || String(e)));
      }
    }
    q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); search(); } });
    formDialog(t('merge.title', {name: c.name}), [
      h('div', {class: 'field-wide merge-pick'}, field(t('merge.search'), q), h('div', searchBtn), results),
    ], (v) => {
      const other = found.find((x) => x.id === v.from);
      if (!other) throw new FormInvalid([['q', t('merge.pickOne')]]);
      return other;
    }, {intro: t('merge.pickIntro', {name: c.name}), submitLabel: t('merge.next'), wide: true, onDone: (other) => confirmMerge(other)});
    search();
  }

  function confirmMerge(other) {
    formDialog(t('merge.confirmTitle'), [
      h('div', {class: 'field-wide'}, h('p', {class: 'confirm-text'}, t('merge.confirmText', {from: other.name, into: c.name})),
        h('p', {class: 'muted small'}, t('merge.irreversible'))),
    ], (v, key) => cmd('/merge', {from: other.id}, key, false), {danger: true, submitLabel: t('merge.confirm'), onDone: done('merge.done')});
  }

  function moneyTile(path, label, map, danger) {
    return h('div', {class: ['tile', 'tile-money', danger && Object.values(map || {}).some((x) => x > 0) && 'tile-danger'], 'data-tile': path},
      h('div', {class: 'tile-label'}, label), h('div', {class: 'tile-value', 'data-value': JSON.stringify(map || {})}, fmtMoneyMap(map)));
  }

  function contractCard(k) {
    const pct = k.amount ? Math.min(100, (k.paid / k.amount) * 100) : 0;
    const fill = h('span', {class: 'bar-fill'});
    fill.style.width = `${pct}%`;
    return h('article', {class: 'contract', 'data-id': k.id},
      h('div', {class: 'contract-head'},
        h('div', h('div', {class: 'strong'}, `${k.number} · ${k.title}`),
          h('div', {class: 'muted small'}, t('contracts.signedLine', {on: fmtDate(k.signed_on), by: staffName(k.signed_by)}))),
        h('div', {class: 'contract-money'}, badge('contractStatus', k.status), ' ', h('span', {class: 'strong'}, fmtMoney(k.amount, k.currency)))),
      h('div', {class: 'progress'}, h('span', {class: 'bar'}, fill),
        h('span', {class: 'small'}, t('contracts.paidOf', {paid: fmtMoney(k.paid, k.currency), out: fmtMoney(k.outstanding, k.currency)}))),
      h('div', {class: 'grid-2 tight'},
        h('div', h('h3', t('contracts.plan')), table([
          {label: '#', cell: (i) => String(i.n), class: 'num'},
          {label: t('contracts.dueOn'), cell: (i) => fmtDate(i.due_on)},
          {label: t('opps.amount'), cell: (i) => fmtMoney(i.amount, k.currency), class: 'num'},
          {label: t('contracts.paid'), cell: (i) => fmtMoney(i.paid, k.currency), class: 'num'},
          {label: t('common.state'), cell: (i) => [badge('installment', i.status), i.days_overdue ? h('span', {class: 'warn small'}, ` ${t('contracts.daysOverdue', {n: i.days_overdue})}`) : null]},
        ], (k.installments || []).map((i, n) => ({...i, n: n + 1})))),
        h('div', {class: 'payments'}, h('h3', t('contracts.payments')), paymentsTable(k, {readOnly: !!asOfIso, onChanged: (msg) => load(msg)}))),
      invoicesArea(k, {readOnly: !!asOfIso, onChanged: (msg) => load(msg)}),
      isRole('finance', 'admin') && k.status === 'active' && !asOfIso
        ? h('div', {class: 'btn-row'}, h('button', {type: 'button', class: 'btn btn-sm btn-primary', 'data-action': 'record-payment', onclick: () => recordPayment(k)}, t('payments.record')))
        : null);
  }

  function oppActions(o) {
    const sel = select('stage', STAGES_OPEN.map((s) => [s, tEnum('stage', s)]), {value: o.stage, 'aria-label': t('opps.stage')});
    const form = h('form', {class: 'inline-form', 'data-form': 'stage'},
      h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'edit-opportunity', 'aria-label': t('opps.editNamed', {name: o.name}),
        onclick: () => editOpportunity(o)}, t('common.edit')),
      sel,
      h('button', {type: 'submit', class: 'btn btn-sm'}, t('opps.advance')),
      h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'win', onclick: () => closeOpp(o, 'win')}, t('opps.win')),
      h('button', {type: 'button', class: 'btn btn-sm btn-danger', 'data-action': 'lose', onclick: () => closeOpp(o, 'lose')}, t('opps.lose')));
    const fbox = alertBox();
    wireForm(form, fbox, (v, key) => {
      if (v.stage === o.stage) throw new FormInvalid([['stage', t('opps.sameStage')]]);
      return post(`/opportunities/${encodeURIComponent(o.id)}/stage`, {stage: v.stage}, {key, version: o.version});
    }, {onDone: done('opps.stageChanged'), onError: (e) => { showError(box, e); onConflict(e); return true; }});
    return h('div', form, fbox);
  }

  function closeOpp(o, how) {
    formDialog(how === 'win' ? t('opps.win') : t('opps.lose'), [field(t('common.reasonOptional'), textarea('reason', {maxlength: 1000}), {wide: true})],
      (v, key) => post(`/opportunities/${encodeURIComponent(o.id)}/${how}`, v.reason ? {reason: v.reason} : {}, {key, version: o.version}),
      {danger: how === 'lose', submitLabel: how === 'win' ? t('opps.win') : t('opps.lose'), onDone: done('opps.closed'), onError: onConflict});
  }

  // Edits of the customer's records: If-Match with the version the dialog opened at; a
  // 412 reads the record again (editDialog) and the page with it.
  const reloaded = () => { lastJson = ''; load(); };

  function editOpportunity(o) {
    editDialog(t('opps.edit'), {
      name: 'edit-opportunity',
      record: o,
      version: o.version,
      fields: [
        field(t('opps.name'), input('name', {maxlength: 200}), {required: true, wide: true}),
        field(t('opps.amountYuan'), input('amount', {inputmode: 'decimal'}), {required: true}),
        field(t('opps.currency'), input('currency', {maxlength: 3, pattern: '[A-Za-z]{3}'}), {required: true}),
        field(t('opps.expectedClose'), input('expected_close_date', {type: 'date'}), {required: true}),
      ],
      values: (x) => ({name: x.name || '', amount: amountToInput(x.amount, x.currency), currency: x.currency || '',
        expected_close_date: x.expected_close_date || ''}),
      changes: (v, x) => {
        const currency = (v.currency || '').toUpperCase();
        const amount = parseAmount(v.amount, currency);
        if (amount === null) throw new FormInvalid([['amount', t('form.invalidAmount')]]);
        const body = diffFields({...v, currency}, x, ['name', 'currency', 'expected_close_date']);
        if (amount !== x.amount) body.amount = amount;
        return body;
      },
      send: (body, ver, key) => patch(`/opportunities/${encodeURIComponent(o.id)}`, body, {key, version: ver}),
      reload: () => getRecord(`/opportunities/${encodeURIComponent(o.id)}`),
      onReloaded: reloaded,
      conflictTitle: t('opps.editConflict'),
      onDone: done('opps.saved'),
    });
  }

  function editContact(x) {
    editDialog(t('contacts.edit'), {
      name: 'edit-contact',
      record: x,
      version: x.version,
      fields: [
        field(t('common.name'), input('name', {maxlength: 200}), {required: true}),
        field(t('contacts.title'), input('title', {maxlength: 100})),
        field(t('common.phone'), input('phone', {type: 'tel', maxlength: 50})),
        field(t('common.email'), input('email', {type: 'email', maxlength: 254})),
        h('div', {class: 'field field-check'},
          h('label', {class: 'check'}, h('input', {type: 'checkbox', name: 'decision_maker'}), ' ', t('contacts.decisionMaker'))),
      ],
      values: (r) => ({name: r.name || '', title: r.title || '', phone: r.phone || '', email: r.email || '', decision_maker: !!r.decision_maker}),
      changes: (v, r) => {
        const body = diffFields(v, r, ['name', 'title', 'phone', 'email']);
        if (!!v.decision_maker !== !!r.decision_maker) body.decision_maker = !!v.decision_maker;
        return body;
      },
      send: (body, ver, key) => patch(`/contacts/${encodeURIComponent(x.id)}`, body, {key, version: ver}),
      // Contacts have no GET of their own: the customer's list has each with its version.
      reload: async () => {
        const found = (await getAll(`/customers/${encodeURIComponent(id)}/contacts`)).find((r) => r.id === x.id);
        if (!found) throw new ApiError({status: 404, code: 'not_found'});
        return {data: found, version: found.version};
      },
      onReloaded: reloaded,
      conflictTitle: t('contacts.editConflict'),
      onDone: done('contacts.saved'),
    });
  }

  function simple(path, title, message, okKey, withVersion = true) {
    formDialog(title, message ? [h('p', message)] : [h('p', t('common.sure'))], (v, key) => cmd(path, path === '/claim' || path === '/unlock' ? undefined : {}, key, withVersion),
      {submitLabel: title, onDone: done(okKey), onError: onConflict});
  }

  function release() {
    formDialog(t('leads.release'), [field(t('common.reason'), textarea('reason', {maxlength: 1000}), {required: true, wide: true})],
      (v, key) => cmd('/release', {reason: v.reason}, key), {danger: true, submitLabel: t('leads.release'), onDone: done('c360.released'), onError: onConflict});
  }

  async function transfer() {
    const staff = await staffList().catch(() => []);
    formDialog(t('c360.transfer'), [field(t('c360.transferTo'), select('to', assignableOptions(staff).filter(([sid]) => sid !== c.owner_id)), {required: true, wide: true})],
      (v, key) => cmd('/transfer', {to: v.to}, key), {submitLabel: t('c360.transfer'), onDone: done('c360.transferred'), onError: onConflict});
  }

  function editProfile() {
    formDialog(t('c360.edit'), profileFields(c), (v, key) => {
      const changes = {};
      for (const k of ['name', 'industry', 'region', 'level', 'phone', 'address']) {
        const now = v[k] === undefined ? null : v[k];
        const was = c[k] === undefined ? null : c[k];
        if (now !== was) changes[k] = now;
      }
      if (changes.name === null) throw new FormInvalid([['name', t('form.required')]]);
      if (!Object.keys(changes).length) throw new FormInvalid([['name', t('c360.noChanges')]]);
      return patch(`/customers/${encodeURIComponent(id)}`, changes, {key, version});
    }, {onDone: done('c360.saved'), onError: (err, ebox) => {
      if (err instanceof ApiError && err.code === 'duplicate_customer' && err.existingId) { showError(ebox, err, duplicateExtra(err)); return true; }
      return onConflict(err);
    }});
  }

  function addFollowUp() {
    formDialog(t('followUp.add'), [
      field(t('followUp.channel'), select('channel', CHANNELS.map((x) => [x, tEnum('channel', x)]))),
      field(t('followUp.nextAtLabel'), input('next_at', {type: 'datetime-local'})),
      field(t('followUp.note'), textarea('note', {maxlength: 5000}), {required: true, wide: true}),
    ], (v, key) => cmd('/follow-ups', {channel: v.channel, note: v.note, next_at: localToIso(v.next_at)}, key, false),
    {submitLabel: t('followUp.add'), onDone: done('followUp.added')});
  }

  function addContact() {
    formDialog(t('contacts.add'), [
      field(t('common.name'), input('name', {maxlength: 200}), {required: true}),
      field(t('contacts.title'), input('title', {maxlength: 100})),
      field(t('common.phone'), input('phone', {type: 'tel', maxlength: 50})),
      field(t('common.email'), input('email', {type: 'email', maxlength: 254})),
      h('label', {class: 'check'}, h('input', {type: 'checkbox', name: 'decision_maker'}), ' ', t('contacts.decisionMaker')),
    ], (v, key) => cmd('/contacts', v, key, false), {submitLabel: t('contacts.add'), onDone: done('contacts.added')});
  }

  function addOpportunity() {
    formDialog(t('opps.add'), [
      field(t('opps.name'), input('name', {maxlength: 200}), {required: true, wide: true}),
      field(t('opps.amountYuan'), input('amount', {inputmode: 'decimal'}), {required: true}),
      field(t('opps.currency'), input('currency', {value: 'CNY', maxlength: 3, pattern: '[A-Za-z]{3}'}), {required: true}),
      field(t('opps.expectedClose'), input('expected_close_date', {type: 'date'}), {required: true}),
      field(t('opps.stage'), select('stage', STAGES_OPEN.map((s) => [s, tEnum('stage', s)]))),
    ], (v, key) => {
      const currency = v.currency.toUpperCase();
      const amount = parseAmount(v.amount, currency);
      if (amount === null) throw new FormInvalid([['amount', t('form.invalidAmount')]]);
      return post('/opportunities', {customer_id: id, name: v.name, amount, currency, expected_close_date: v.expected_close_date, stage: v.stage}, {key});
    }, {submitLabel: t('common.create'), onDone: done('opps.added')});
  }

  function addContract() {
    const rows = h('div', {class: 'installments'});
    let n = 0;
    const addRow = (due = '', amount = '') => {
      const i = n++;
      const row = h('div', {class: 'installment-row', 'data-index': String(i)},
        field(t('contracts.dueOn'), input(`installments[${i}].due_on`, {type: 'date', value: due}), {required: true}),
        field(t('opps.amountYuan'), input(`installments[${i}].amount`, {inputmode: 'decimal', value: amount}), {required: true}),
        h('button', {type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': t('contracts.removeInstallment'), onclick: () => { if (rows.children.length > 1) row.remove(); }}, '×'));
      rows.append(row);
    };
    addRow();
    const open = (c.opportunities || []).filter((o) => STAGES_OPEN.includes(o.stage));
    formDialog(t('contracts.add'), [
      field(t('contracts.number'), input('number', {maxlength: 64}), {required: true}),
      field(t('contracts.title'), input('title', {maxlength: 200}), {required: true}),
      field(t('opps.amountYuan'), input('amount', {inputmode: 'decimal'}), {required: true}),
      field(t('opps.currency'), input('currency', {value: 'CNY', maxlength: 3, pattern: '[A-Za-z]{3}'}), {required: true}),
      field(t('contracts.signedOn'), input('signed_on', {type: 'date', value: todayYmd()}), {required: true}),
      field(t('contracts.opportunity'), select('opportunity_id', [['', t('common.none')], ...open.map((o) => [o.id, o.name])])),
      h('div', {class: 'field-wide'}, h('h3', {class: 'form-section'}, t('contracts.plan')), rows,
        h('button', {type: 'button', class: 'btn btn-sm', onclick: () => addRow()}, t('contracts.addInstallment'))),
    ], (v, key) => {
      const currency = v.currency.toUpperCase();
      const bad = [];
      const amount = parseAmount(v.amount, currency);
      if (amount === null) bad.push(['amount', t('form.invalidAmount')]);
      const installments = [];
      for (const row of rows.children) {
        const i = row.dataset.index;
        const a = parseAmount(v[`installments[${i}].amount`], currency);
        if (a === null) bad.push([`installments[${i}].amount`, t('form.invalidAmount')]);
        installments.push({due_on: v[`installments[${i}].due_on`], amount: a});
      }
      if (!bad.length && installments.reduce((s, x) => s + x.amount, 0) !== amount) {
        bad.push(['amount', t('contracts.planMismatch')]);
      }
      if (bad.length) throw new FormInvalid(bad);
      const body = {customer_id: id, number: v.number, title: v.title, amount, currency, signed_on: v.signed_on, installments};
      if (v.opportunity_id) body.opportunity_id = v.opportunity_id;
      return post('/contracts', body, {key});
    }, {wide: true, submitLabel: t('common.create'), onDone: done('contracts.added')});
  }

  function recordPayment(k) {
    paymentDialog(k, () => load(t('payments.recorded')));
  }

  // The currency of one of this customer's opportunities or contracts, for amounts in
  // its edit and reversal events; the number of one of its invoices.
  function currencyOf(stream) {
    const rec = c && [...(c.opportunities || []), ...(c.contracts || [])].find((r) => r.id === stream);
    return rec ? rec.currency : undefined;
  }

  function invoiceNumberOf(stream) {
    const inv = c && (c.contracts || []).flatMap((k) => k.invoices || []).find((x) => x.id === stream);
    return inv ? inv.number : undefined;
  }

  async function loadTimeline(cursor) {
    try {
      const page = await get(`/customers/${encodeURIComponent(id)}/timeline`, {limit: 50, cursor});
      let items = page.items || [];
      if (c && c.as_of) items = items.filter((e) => e.position <= c.as_of.position);
      const list = h('ol', {class: 'timeline events'}, items.map((e) => h('li', {class: 'tl-item', 'data-position': String(e.position)},
        h('div', {class: 'tl-head'}, h('span', {class: 'badge badge-gray'}, tEnum('event', e.type)), ' ',
          h('span', {class: 'muted small'}, `${fmtDateTime(e.at)} · ${staffName(e.actor)} · #${e.position}`)),
        h('div', {class: 'muted small mono'}, e.stream),
        eventChanges(e, {currency: currencyOf(e.stream), invoiceNumber: invoiceNumberOf(e.stream)}))));
      if (!items.length) list.append(h('li', {class: 'muted'}, t('common.empty')));
      const moreBtn = page.next_cursor ? h('button', {type: 'button', class: 'btn btn-sm', onclick: () => loadTimeline(page.next_cursor)}, t('common.more')) : null;
      replace(timelineBox, section(t('c360.timeline'), list, moreBtn ? h('div', {class: 'more-row'}, cursor ? h('span', {class: 'muted small'}, t('c360.olderPage')) : null, moreBtn) : null));
    } catch (e) {
      clear(timelineBox);
    }
  }

  subscribe();
  await load();
  return () => { gen += 1; if (unsubscribe) unsubscribe(); };
}

// The payment form: used here and on the finance page.
export function paymentDialog(k, onDone, contracts) {
  const fields = [];
  if (!k) {
    fields.push(field(t('payments.contract'), select('contract_id', (contracts || []).map((x) => [x.id, `${x.number} · ${x.title} · ${t('contracts.outstandingShort', {out: fmtMoney(x.outstanding, x.currency)})}`])), {required: true, wide: true}));
  } else {
    fields.push(h('p', {class: 'field-wide muted'}, t('payments.forContract', {number: k.number, out: fmtMoney(k.outstanding, k.currency)})));
  }
  fields.push(
    field(t('payments.amountYuan'), input('amount', {inputmode: 'decimal', value: ''}), {required: true}),
    field(t('payments.receivedOn'), input('received_on', {type: 'date', value: todayYmd()}), {required: true}),
    field(t('payments.method'), input('method', {maxlength: 50, list: 'payment-methods'})),
    field(t('payments.reference'), input('reference', {maxlength: 200})),
    h('datalist', {id: 'payment-methods'}, ['bank', 'cash', 'cheque', 'alipay', 'wechat'].map((m) => h('option', {value: t(`payments.methods.${m}`)}))));
  return formDialog(t('payments.record'), fields, (v, key) => {
    const contract = k || (contracts || []).find((x) => x.id === v.contract_id);
    if (!contract) throw new FormInvalid([['contract_id', t('form.required')]]);
    const amount = parseAmount(v.amount, contract.currency);
    if (amount === null) throw new FormInvalid([['amount', t('form.invalidAmount')]]);
    const body = {amount, received_on: v.received_on};
    if (v.method) body.method = v.method;
    if (v.reference) body.reference = v.reference;
    return post(`/contracts/${encodeURIComponent(contract.id)}/payments`, body, {key});
  }, {submitLabel: t('payments.record'), onDone});
}
