// Leads (线索): the list with search, state filter and paging, a create form; and one
// lead's page with its follow-ups and every command the lead's state allows.
import {h, clear, replace, pageHeader, section, sectionWithActions, input, select, textarea, field, table,
  appendRows, alertBox, showError, clearAlert, showOk, badge, staffName, loadStaff, loading, facts, wireForm,
  formDialog, FormInvalid, parseAmount, localToIso, isRole, assignableOptions, flag, pagedList, showWarning, editDialog,
  diffFields, exportButtons} from './_shared.js';
import {t, tEnum, fmtDateTime, fmtRelative, fmtNum} from '../i18n.js';
import {get, getRecord, post, patch, me, staffList, ApiError} from '../api.js';

const STATES = ['unassigned', 'pending', 'following', 'invalid', 'converted', 'voided'];
const CHANNELS = ['call', 'visit', 'email', 'message', 'other'];
const STAGES_OPEN = ['qualification', 'needs_analysis', 'proposal', 'negotiation'];
const LEAD_FIELDS = ['name', 'company', 'phone', 'email', 'source', 'region'];

export async function render(root, {params}) {
  if (params && params.length && params[0]) return renderLead(root, params[0]);
  return renderList(root);
}

function leadLink(l) {
  return h('a', {href: `#/leads/${encodeURIComponent(l.id)}`, class: 'strong'}, l.name);
}

// The lead's own fields, as the create and edit forms show them.
function leadFields() {
  return [
    field(t('common.name'), input('name', {maxlength: 200}), {required: true}),
    field(t('common.company'), input('company', {maxlength: 200}), {required: true}),
    field(t('common.phone'), input('phone', {type: 'tel', maxlength: 50})),
    field(t('common.email'), input('email', {type: 'email', maxlength: 254})),
    field(t('leads.source'), input('source', {maxlength: 100})),
    field(t('common.region'), input('region', {maxlength: 100})),
  ];
}

// 撞单: a create or edit refused with 409 duplicate_lead says which live lead has the same
// phone or company and name, and whose it is; "Save anyway" sends the form again with
// allow_duplicate. Changing the form after the warning takes the "anyway" back.
function duplicateGuard() {
  let allow = false;
  let watched = null;
  return {
    body(b) {
      const out = allow ? {...b, allow_duplicate: true} : b;
      allow = false;
      return out;
    },
    onError(err, box) {
      if (!(err instanceof ApiError && err.code === 'duplicate_lead')) return false;
      const form = box.closest('form');
      if (form && watched !== form) {
        watched = form;
        form.addEventListener('input', () => { allow = false; });
      }
      const existing = err.existingId;
      const owner = err.body ? err.body.owner_id : null;
      // A rep cannot open another rep's lead; the id is still worth telling.
      const visible = !owner || owner === me().id || !isRole('sales');
      const ref = !existing ? '—' : visible
        ? h('a', {class: 'id-link duplicate-link', href: `#/leads/${encodeURIComponent(existing)}`,
          onclick: () => { const d = box.closest('dialog'); if (d) d.close(); }}, existing)
        : h('code', {class: 'mono'}, existing);
      showWarning(box, h('strong', {class: 'alert-title'}, t('error.duplicate_lead')),
        h('div', {class: 'duplicate-notice', 'data-existing-id': existing || '', 'data-owner-id': owner || ''},
          h('p', t('leads.duplicateText')),
          h('p', h('span', {'data-field': 'existing_id'}, t('leads.existingLead'), ' ', ref), ' · ',
            h('span', {'data-field': 'owner'}, owner ? t('leads.duplicateOwner', {name: staffName(owner)}) : t('leads.duplicateInPool'))),
          h('p', {class: 'small'}, t('leads.duplicateHint')),
          h('div', {class: 'btn-row'}, h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'save-anyway', onclick: () => {
            allow = true;
            if (form) form.requestSubmit();
          }}, t('leads.saveAnyway')))));
      return true;
    },
  };
}

async function renderList(root) {
  const box = alertBox();
  const listBox = h('div', loading());
  const more = h('button', {type: 'button', class: 'btn', hidden: true}, t('common.more'));
  const q = input('q', {type: 'search', placeholder: t('leads.searchHint')});
  const stateSel = select('state', [['', t('common.allStates')], ...STATES.map((s) => [s, tEnum('leadState', s)])]);
  const ownerSel = select('owner_id', [['', t('common.anyOwner')]]);
  const canPickOwner = isRole('manager', 'admin', 'auditor');
  const filters = h('form', {class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); reload(); }},
    field(t('common.search'), q), field(t('common.state'), stateSel), canPickOwner ? field(t('common.owner'), ownerSel) : null,
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'submit', class: 'btn'}, t('common.filter'))));
  stateSel.addEventListener('change', () => reload());
  ownerSel.addEventListener('change', () => reload());

  const columns = [
    {label: t('common.name'), cell: (l) => h('div', {class: 'cell-main'}, leadLink(l), h('div', {class: 'muted small'}, l.company))},
    {label: t('common.state'), cell: (l) => [badge('leadState', l.state), l.duplicate_of ? [' ', flag(t('leads.duplicateFlag'), 'amber')] : null]},
    {label: t('common.owner'), cell: (l) => (l.owner_id ? staffName(l.owner_id) : h('span', {class: 'muted'}, t('leads.inPool')))},
    {label: t('common.phone'), cell: (l) => l.phone || '—'},
    {label: t('common.region'), cell: (l) => l.region || '—'},
    {label: t('leads.lastFollowUp'), cell: (l) => (l.last_follow_up_at ? fmtRelative(l.last_follow_up_at) : '—')},
    {label: t('leads.recycleAt'), cell: (l) => (l.recycle_at ? h('span', {class: 'warn'}, fmtDateTime(l.recycle_at)) : '—')},
    {label: t('common.createdAt'), cell: (l) => fmtDateTime(l.created_at)},
  ];
  const filterParams = () => ({q: q.value.trim(), state: stateSel.value, owner_id: canPickOwner ? ownerSel.value : ''});
  const {reload, stop} = pagedList({path: '/leads', params: filterParams, columns, rowAttrs: (l) => ({'data-id': l.id}),
    empty: t('leads.empty'), caption: t('nav.leads'), box, listBox, more});

  const canCreate = isRole('sales', 'manager', 'admin');
  const newBtn = canCreate ? h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'new-lead', onclick: () => createLead()}, t('leads.new')) : null;
  const importBtn = canCreate ? h('a', {href: '#/leads/import', class: 'btn', 'data-action': 'import-leads'}, t('leads.import')) : null;
  root.append(pageHeader(t('nav.leads'), isRole('sales') ? t('leads.subtitleOwn') : t('leads.subtitleVisible'),
    h('div', {class: 'btn-row'}, exportButtons('/leads/export', filterParams, box), importBtn, newBtn)), box,
    h('section', {class: 'card'}, filters, listBox, h('div', {class: 'more-row'}, more)));

  const staff = await staffList().catch(() => []);
  await loadStaff().catch(() => {});
  for (const [v, l] of assignableOptions(staff)) ownerSel.append(h('option', {value: v}, l));
  await reload();

  function createLead() {
    const fields = leadFields();
    if (isRole('manager', 'admin')) {
      fields.push(field(t('common.owner'), select('owner_id', assignableOptions(staff, {includeEmpty: true, emptyLabel: t('leads.toPool')}))));
    }
    const dup = duplicateGuard();
    let dlg = null;
    dlg = formDialog(t('leads.new'), fields, (v, key) => post('/leads', dup.body(v), {key}), {
      submitLabel: t('common.create'),
      onError: (err, ebox) => {
        if (!dup.onError(err, ebox)) return false;
        dlg.resetKey();
        return true;
      },
      onDone: (r) => { location.hash = `#/leads/${encodeURIComponent(r.data.id)}`; },
    });
  }
  return stop;
}

// --- one lead ----------------------------------------------------------------------

async function renderLead(root, id) {
  const box = alertBox();
  const body = h('div', {class: 'page-body'}, loading());
  root.append(h('p', {class: 'crumbs'}, h('a', {href: '#/leads'}, `← ${t('nav.leads')}`)), box, body);
  await loadStaff().catch(() => {});
  let lead = null;
  let version = null;

  async function load(note) {
    try {
      const r = await getRecord(`/leads/${encodeURIComponent(id)}`);
      lead = r.data;
      version = r.version;
      draw();
      if (note) showOk(box, note);
    } catch (e) {
      clear(body);
      showError(box, e);
    }
  }

  // A command on this lead: If-Match with its version; a conflict reloads it.
  const command = (path, payload, key, withVersion = true) =>
    post(`/leads/${encodeURIComponent(id)}/${path}`, payload, {key, version: withVersion ? version : undefined});
  const onConflict = (err) => {
    if (err instanceof ApiError && err.code === 'version_conflict') {
      load().then(() => showError(box, err, h('div', {class: 'alert-extra'}, t('error.conflictReloaded'))));
      return false;
    }
    return false;
  };
  const done = (msgKey) => async () => { await load(t(msgKey)); };

  function draw() {
    const l = lead;
    const m = me();
    const open = ['pending', 'following', 'invalid'].includes(l.state);
    const mayManage = isRole('manager', 'admin');
    const isOwner = l.owner_id === m.id;
    const actions = [];
    const act = (key, label, fn, cls = 'btn') => actions.push(h('button', {type: 'button', class: cls, 'data-action': key, onclick: fn}, label));
    if (!isRole('auditor', 'finance')) {
      if (l.in_pool || l.state === 'unassigned') act('claim', t('pool.claim'), claim, 'btn btn-primary');
      if (l.state !== 'converted' && l.state !== 'voided' && (isOwner || mayManage)) act('edit', t('common.edit'), edit);
      if (['pending', 'following'].includes(l.state)) act('convert', t('leads.convert'), convert, 'btn btn-primary');
      if (mayManage && (open || l.state === 'unassigned')) act('assign', t('leads.assign'), assign);
      if (open && (isOwner || mayManage)) act('release', t('leads.release'), () => reasonCommand('release', t('leads.release'), 'leads.released'));
      if (['pending', 'following'].includes(l.state)) act('invalidate', t('leads.invalidate'), () => reasonCommand('invalidate', t('leads.invalidate'), 'leads.invalidated'));
      if (isOwner && open) actions.push(h('a', {href: `#/tasks?record=${encodeURIComponent(l.id)}`, class: 'btn', 'data-action': 'add-task'}, t('tasks.addFor')));
      if (l.state !== 'converted' && l.state !== 'voided') act('void', t('leads.void'), () => reasonCommand('void', t('leads.void'), 'leads.voided', true), 'btn btn-danger');
    }
    const links = [];
    if (l.customer_id) links.push(h('a', {href: `#/customers/${encodeURIComponent(l.customer_id)}`}, t('leads.openCustomer')));
    const dupLink = l.duplicate_of ? h('a', {href: `#/leads/${encodeURIComponent(l.duplicate_of)}`, class: 'id-link'}, l.duplicate_of) : null;

    const fu = (l.follow_ups || []).slice().sort((a, b) => String(b.at).localeCompare(String(a.at)));
    const fuList = h('ol', {class: 'timeline'}, fu.length ? fu.map((f) => h('li', {class: 'tl-item', 'data-id': f.id},
      h('div', {class: 'tl-head'}, h('span', {class: 'badge badge-blue'}, tEnum('channel', f.channel)), ' ',
        h('span', {class: 'muted small'}, `${fmtDateTime(f.at)} · ${staffName(f.by)}`)),
      h('div', {class: 'tl-note'}, f.note),
      f.next_at ? h('div', {class: 'muted small'}, t('followUp.nextAt', {at: fmtDateTime(f.next_at)})) : null)) : h('li', {class: 'muted'}, t('followUp.none')));

    let fuForm = null;
    if (open && isOwner) {
      const fbox = alertBox();
      fuForm = h('form', {class: 'form form-inline-grid', 'data-form': 'follow-up'},
        field(t('followUp.channel'), select('channel', CHANNELS.map((c) => [c, tEnum('channel', c)]))),
        field(t('followUp.nextAtLabel'), input('next_at', {type: 'datetime-local'})),
        field(t('followUp.note'), textarea('note', {maxlength: 5000}), {required: true, wide: true}),
        fbox,
        h('div', {class: 'form-actions'}, h('button', {type: 'submit', class: 'btn btn-primary'}, t('followUp.add'))));
      wireForm(fuForm, fbox, (v, key) => command('follow-ups', {channel: v.channel, note: v.note, next_at: localToIso(v.next_at)}, key, false),
        {onDone: done('followUp.added')});
    }

    replace(body,
      pageHeader(l.name, `${l.company}`, h('div', {class: 'btn-row'}, actions)),
      h('div', {class: 'badges'}, badge('leadState', l.state), l.in_pool ? flag(t('leads.inPool'), 'amber') : null,
        l.duplicate_of ? flag(t('leads.duplicateFlag'), 'amber') : null,
        l.state_reason ? h('span', {class: 'muted small'}, t('leads.stateReason', {r: l.state_reason})) : null, ...links),
      h('div', {class: 'grid-2'},
        section(t('leads.details'), facts([
          [t('common.name'), l.name], [t('common.company'), l.company], [t('common.phone'), l.phone], [t('common.email'), l.email],
          [t('leads.source'), l.source], [t('common.region'), l.region], [t('common.owner'), l.owner_id ? staffName(l.owner_id) : t('leads.inPool')],
          l.duplicate_of ? [t('leads.duplicateOf'), dupLink, 'duplicate_of'] : null,
          [t('leads.ownedSince'), l.owned_since ? fmtDateTime(l.owned_since) : null],
          [t('leads.recycleAt'), l.recycle_at ? fmtDateTime(l.recycle_at) : null],
          l.in_pool ? [t('pool.reason'), tEnum('poolReason', l.pool_reason)] : null,
          l.previous_owner_id ? [t('pool.previousOwner'), staffName(l.previous_owner_id)] : null,
          [t('common.createdAt'), fmtDateTime(l.created_at)], [t('common.createdBy'), staffName(l.created_by)],
          [t('common.version'), String(version)],
        ])),
        section(t('followUp.title', {n: fmtNum(l.follow_up_count ?? fu.length)}), fuForm, fuList)));
  }

  function edit() {
    const dup = duplicateGuard();
    editDialog(t('leads.edit'), {
      name: 'edit-lead',
      record: lead,
      version,
      fields: leadFields(),
      values: (l) => Object.fromEntries(LEAD_FIELDS.map((k) => [k, l[k] || ''])),
      changes: (v, l) => diffFields(v, l, LEAD_FIELDS),
      send: (body, ver, key) => patch(`/leads/${encodeURIComponent(id)}`, dup.body(body), {key, version: ver}),
      reload: () => getRecord(`/leads/${encodeURIComponent(id)}`),
      onReloaded: (data, ver) => { lead = data; version = ver; draw(); },
      onError: dup.onError,
      conflictTitle: t('leads.editConflict'),
      onDone: done('leads.saved'),
    });
  }

  async function claim() {
    formDialog(t('pool.claim'), [h('p', t('leads.claimConfirm', {name: lead.name}))], (v, key) => command('claim', undefined, key, false),
      {submitLabel: t('pool.claim'), onDone: done('leads.claimedMsg')});
  }

  function reasonCommand(path, title, okKey, danger) {
    formDialog(title, [field(t('common.reason'), textarea('reason', {maxlength: 1000}), {required: true, wide: true})],
      (v, key) => command(path, {reason: v.reason}, key), {submitLabel: title, danger, onDone: done(okKey), onError: onConflict});
  }

  async function assign() {
    const staff = await staffList().catch(() => []);
    formDialog(t('leads.assign'), [field(t('leads.assignTo'), select('owner_id', assignableOptions(staff)), {required: true, wide: true})],
      (v, key) => command('assign', {owner_id: v.owner_id}, key), {submitLabel: t('leads.assign'), onDone: done('leads.assigned'), onError: onConflict});
  }

  function convert() {
    const l = lead;
    const fields = [
      h('h3', {class: 'form-section'}, t('convert.customer')),
      field(t('convert.customerName'), input('customer.name', {value: l.company, maxlength: 200}), {hint: t('convert.customerNameHint')}),
      field(t('customers.industry'), input('customer.industry', {maxlength: 100})),
      field(t('common.region'), input('customer.region', {value: l.region || '', maxlength: 100})),
      field(t('customers.level'), select('customer.level', [['', '—'], ...['A', 'B', 'C', 'D'].map((x) => [x, tEnum('level', x)])])),
      h('h3', {class: 'form-section'}, t('convert.contact')),
      field(t('common.name'), input('contact.name', {value: l.name, maxlength: 200})),
      field(t('contacts.title'), input('contact.title', {maxlength: 100})),
      field(t('common.phone'), input('contact.phone', {value: l.phone || '', maxlength: 50})),
      field(t('common.email'), input('contact.email', {type: 'email', value: l.email || '', maxlength: 254})),
      h('h3', {class: 'form-section'}, t('convert.opportunity')),
      field(t('opps.name'), input('opportunity.name', {maxlength: 200}), {hint: t('convert.oppHint')}),
      field(t('opps.amountYuan'), input('opportunity.amount', {inputmode: 'decimal'})),
      field(t('opps.currency'), input('opportunity.currency', {value: 'CNY', maxlength: 3})),
      field(t('opps.expectedClose'), input('opportunity.expected_close_date', {type: 'date'})),
      field(t('opps.stage'), select('opportunity.stage', STAGES_OPEN.map((s) => [s, tEnum('stage', s)]))),
    ];
    let dlg = null;
    dlg = formDialog(t('leads.convert'), fields, async (v, key) => {
      const body = {};
      const customer = {};
      for (const k of ['name', 'industry', 'region', 'level']) if (v[`customer.${k}`]) customer[k] = v[`customer.${k}`];
      if (Object.keys(customer).length) body.customer = customer;
      if (v['contact.name']) {
        body.contact = {name: v['contact.name']};
        for (const k of ['title', 'phone', 'email']) if (v[`contact.${k}`]) body.contact[k] = v[`contact.${k}`];
      }
      if (v['opportunity.name']) {
        const currency = (v['opportunity.currency'] || 'CNY').toUpperCase();
        const amount = parseAmount(v['opportunity.amount'], currency);
        const bad = [];
        if (amount === null) bad.push(['opportunity.amount', t('form.invalidAmount')]);
        if (!v['opportunity.expected_close_date']) bad.push(['opportunity.expected_close_date', t('form.required')]);
        if (bad.length) throw new FormInvalid(bad);
        body.opportunity = {name: v['opportunity.name'], amount, currency, expected_close_date: v['opportunity.expected_close_date'], stage: v['opportunity.stage']};
      }
      return command('convert', body, key);
    }, {
      wide: true,
      submitLabel: t('leads.convert'),
      onError: (err, ebox) => {
        if (err instanceof ApiError && err.code === 'duplicate_customer' && err.existingId) {
          showError(ebox, err, h('div', {class: 'alert-extra'}, t('convert.duplicate'), ' ',
            h('a', {class: 'duplicate-link', href: `#/customers/${encodeURIComponent(err.existingId)}`, onclick: () => dlg && dlg.close()}, t('convert.openExisting'))));
          return true;
        }
        return onConflict(err);
      },
      onDone: async (r) => {
        const a = r.data;
        await load();
        showOk(box, a.customer_created ? t('convert.doneNew') : t('convert.doneExisting'), ' ',
          h('a', {href: `#/customers/${encodeURIComponent(a.customer_id)}`, 'data-id': a.customer_id}, t('leads.openCustomer')));
      },
    });
  }

  await load();
}
