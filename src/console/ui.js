// Shared pieces of the pages: alerts, forms, fields, dialogs, edit forms, tables, badges,
// edit events.
import {h, clear, append, uid, replace} from './dom.js';
import {t, tEnum, has, minorDigits, lang, fmtMoney, fmtNum, fmtDate} from './i18n.js';
import {ApiError, newKey, staffList, departments, me, get, download} from './api.js';

// --- alerts ------------------------------------------------------------------------

export function alertBox() {
  return h('div', {class: 'alert', role: 'alert', hidden: true});
}

export function clearAlert(box) {
  clear(box);
  box.hidden = true;
  box.classList.remove('alert-ok', 'alert-warn');
}

// Shows a problem: its title (translated by code when we know it) and its detail.
export function showError(box, err, extra) {
  clear(box);
  box.hidden = false;
  box.classList.remove('alert-ok', 'alert-warn');
  if (!(err instanceof ApiError)) {
    append(box, h('strong', t('error.unexpected')), ' ', h('span', {class: 'alert-detail'}, String(err && err.message || err)));
    return;
  }
  let title;
  if (err.code === 'network') title = t('error.network');
  else if (err.code === 'too_many_attempts') title = t('error.too_many_attempts', {n: err.retryAfter ?? '?'});
  else if (has(`error.${err.code}`)) title = t(`error.${err.code}`);
  else title = err.title || err.code;
  append(box, h('strong', {class: 'alert-title'}, title));
  if (err.detail) append(box, ' ', h('span', {class: 'alert-detail'}, err.detail));
  if (err.title && err.title !== title) {
    append(box, h('span', {class: 'alert-code'}, `${err.title} · ${err.code}`));
  }
  if (err.code === 'validation_failed' && err.errors.length) {
    // Fields of the form show their own message; list the others here.
    const form = box.closest('form');
    const rest = err.errors.filter((e) => !(form && findControl(form, e.field)));
    if (rest.length) append(box, h('ul', {class: 'alert-list'}, rest.map((e) => h('li', `${e.field}: ${e.message}`))));
  }
  if (extra) append(box, extra);
}

export function showOk(box, ...content) {
  clear(box);
  box.hidden = false;
  box.classList.remove('alert-warn');
  box.classList.add('alert-ok');
  box.setAttribute('role', 'status');
  append(box, ...content);
}

// Something the user must look at before going on (not a failure): a stale form, a
// possible duplicate.
export function showWarning(box, ...content) {
  clear(box);
  box.hidden = false;
  box.classList.remove('alert-ok');
  box.classList.add('alert-warn');
  box.setAttribute('role', 'alert');
  append(box, ...content);
}

// --- fields ------------------------------------------------------------------------

// A labelled control. `control` is an input/select/textarea with a name.
export function field(label, control, opts = {}) {
  const id = control.id || uid('fld');
  control.id = id;
  const wrap = h('div', {class: ['field', opts.wide && 'field-wide', opts.class]},
    h('label', {for: id}, label, opts.required ? h('span', {class: 'req', 'aria-hidden': 'true'}, ' *') : null),
    control,
    opts.hint ? h('div', {class: 'hint'}, opts.hint) : null);
  if (opts.required) control.required = true;
  return wrap;
}

export function input(name, attrs = {}) {
  return h('input', {name, type: 'text', autocomplete: 'off', ...attrs});
}

export function select(name, options, attrs = {}) {
  // options: [[value, label], ...]
  return h('select', {name, ...attrs}, options.map(([v, l]) => h('option', {value: v, selected: attrs.value === v}, l)));
}

export function textarea(name, attrs = {}) {
  return h('textarea', {name, rows: 3, ...attrs});
}

function findControl(form, fieldName) {
  const esc = (s) => (window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, '\\$&'));
  let el = form.querySelector(`[name="${esc(fieldName)}"]`);
  if (!el && fieldName.includes('.')) {
    const last = fieldName.split('.').pop();
    el = form.querySelector(`[name="${esc(last)}"]`);
  }
  return el;
}

export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  for (const el of form.querySelectorAll('.field-error')) el.remove();
}

export function markField(form, fieldName, message) {
  const el = findControl(form, fieldName);
  if (!el) return false;
  el.setAttribute('aria-invalid', 'true');
  const id = uid('err');
  const msg = h('div', {class: 'field-error', id}, message);
  const wrap = el.closest('.field') || el.parentElement;
  wrap.appendChild(msg);
  el.setAttribute('aria-describedby', id);
  return true;
}

// A client-side check failed before anything was sent.
export class FormInvalid extends Error {
  constructor(errors) { super('invalid'); this.errors = errors; }
}

// Wires a form: one Idempotency-Key from render until success (so a double click or a
// retry does nothing twice), buttons disabled while in flight, errors shown in the
// form's alert and on its fields. submit(values, key) → Promise; onDone(result).
export function wireForm(form, box, submit, {onDone, onError} = {}) {
  let key = newKey();
  let busy = false;
  form.noValidate = true;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearFieldErrors(form);
    clearAlert(box);
    // Native constraint checks, shown our way.
    const bad = [...form.elements].filter((el) => el.willValidate && !el.checkValidity());
    if (bad.length) {
      for (const el of bad) markField(form, el.name, el.validity.valueMissing ? t('form.required') : t('form.invalid'));
      bad[0].focus();
      return;
    }
    busy = true;
    const buttons = [...form.querySelectorAll('button, input[type=submit]')];
    for (const b of buttons) b.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const result = await submit(formValues(form), key);
      key = newKey();
      if (onDone) await onDone(result);
    } catch (err) {
      if (err instanceof FormInvalid) {
        for (const [f, m] of err.errors) markField(form, f, m);
        const first = form.querySelector('[aria-invalid="true"]');
        if (first) first.focus();
      } else {
        if (err instanceof ApiError && err.code === 'validation_failed') {
          for (const fe of err.errors) markField(form, fe.field, fe.message);
        }
        if (!(onError && onError(err, box) === true)) showError(box, err);
      }
    } finally {
      busy = false;
      for (const b of buttons) b.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  return {resetKey() { key = newKey(); }};
}

// Non-empty values of the named controls, trimmed (but passwords); checkboxes as booleans.
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') { out[el.name] = el.checked; continue; }
    if (el.type === 'radio') { if (el.checked) out[el.name] = el.value; continue; }
    // A password is kept exactly as typed, as the server keeps it: trimmed here, one set
    // through the API with a space at either end could never be typed at sign-in.
    const v = typeof el.value === 'string' && el.type !== 'password' ? el.value.trim() : el.value;
    if (v !== '') out[el.name] = v;
  }
  return out;
}

// "1,234.56" (yuan) → 123456 (fen). null when not a valid positive amount.
export function parseAmount(text, currency = 'CNY') {
  if (text === undefined || text === null) return null;
  const s = String(text).replace(/[,\s，]/g, '');
  const digits = minorDigits(currency);
  const re = digits > 0 ? new RegExp(`^(\\d+)(?:\\.(\\d{1,${digits}}))?$`) : /^(\d+)$/;
  const m = re.exec(s);
  if (!m) return null;
  const frac = (m[2] || '').padEnd(digits, '0');
  const n = Number(m[1]) * 10 ** digits + Number(frac || 0);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export function amountToInput(amount, currency = 'CNY') {
  const d = minorDigits(currency);
  return (amount / 10 ** d).toFixed(d);
}

// datetime-local value → RFC 3339 UTC.
export function localToIso(v) {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function todayYmd() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function thisMonth() {
  return todayYmd().slice(0, 7);
}

// --- dialogs -----------------------------------------------------------------------

// A modal <dialog>: focus goes to its first field; Esc and the close button close it.
export function openDialog(title, body, {onClose, wide} = {}) {
  const titleId = uid('dlg');
  const dlg = h('dialog', {class: ['dialog', wide && 'dialog-wide'], 'aria-labelledby': titleId},
    h('div', {class: 'dialog-head'},
      h('h2', {id: titleId}, title),
      h('button', {type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': t('common.close'), onclick: () => close()}, '×')),
    h('div', {class: 'dialog-body'}, body));
  const close = () => { if (dlg.open) dlg.close(); };
  dlg.addEventListener('close', () => { dlg.remove(); if (onClose) onClose(); });
  document.body.appendChild(dlg);
  dlg.showModal();
  const first = dlg.querySelector('.dialog-body input:not([type=hidden]):not([disabled]), .dialog-body select, .dialog-body textarea, .dialog-body button');
  if (first) first.focus();
  return {el: dlg, close};
}

// A form in a dialog. fields: array of nodes; submit(values, key) → result; `name`
// becomes the form's data-form. → {el, close, form, resetKey}.
export function formDialog(title, fields, submit, {submitLabel, onDone, onError, danger, intro, wide, name} = {}) {
  const box = alertBox();
  const form = h('form', {class: 'form', 'data-form': name},
    intro ? h('p', {class: 'muted'}, intro) : null,
    h('div', {class: 'form-grid'}, fields),
    box,
    h('div', {class: 'form-actions'},
      h('button', {type: 'button', class: 'btn', onclick: () => dlg.close()}, t('common.cancel')),
      h('button', {type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary']}, submitLabel || t('common.save'))));
  const dlg = openDialog(title, form, {wide});
  const wire = wireForm(form, box, submit, {onError, onDone: async (r) => { dlg.close(); if (onDone) await onDone(r); }});
  return {...dlg, form, resetKey: wire.resetKey};
}

export function confirmDialog(title, message, action, {confirmLabel, danger} = {}) {
  return formDialog(title, [h('p', {class: 'confirm-text'}, message)], () => action(), {submitLabel: confirmLabel || t('common.confirm'), danger});
}

// --- edits -----------------------------------------------------------------------

// Reads a record (reload() → {data, version}) until the read side shows a version other
// than `version` — it may not have applied a change yet — trying a few times with a
// growing pause; → the last answer, changed or not.
export async function readPast(reload, version, tries = 5) {
  for (let i = 0; ; i++) {
    const fresh = await reload();
    if (String(fresh.version) !== String(version) || i >= tries) return fresh;
    await new Promise((r) => setTimeout(r, 100 * (i + 1)));
  }
}

// What a control shows: checkboxes as booleans, the rest as trimmed text.
function controlValue(el) {
  return el.type === 'checkbox' ? el.checked : String(el.value).trim();
}

function setControl(el, v) {
  if (el.type === 'checkbox') el.checked = !!v; else el.value = v === null || v === undefined ? '' : String(v);
}

function controlLabel(el) {
  const l = (el.id && el.form && el.form.querySelector(`label[for="${el.id}"]`)) || el.closest('label');
  return l ? l.textContent.replace(/\s*\*\s*$/, '').trim() : el.name;
}

function shownValue(v) {
  if (v === true) return t('common.yes');
  if (v === false) return t('common.no');
  return v === '' || v === null || v === undefined ? t('edit.emptyValue') : String(v);
}

// The fields of `keys` whose form value differs from the record's: a PATCH body, where
// an emptied field is null.
export function diffFields(values, record, keys) {
  const out = {};
  for (const k of keys) {
    const now = values[k] === undefined || values[k] === '' ? null : values[k];
    const was = record[k] === undefined || record[k] === '' ? null : record[k];
    if (now !== was) out[k] = now;
  }
  return out;
}

// An edit form in a dialog, sent with If-Match: the version the record was loaded at.
//   fields: the labelled controls, named as `values` names them;
//   values(record) → {control name: text | boolean}, what the form shows for a record;
//   changes(formValues, record) → the PATCH body, only what differs (may throw FormInvalid);
//   send(body, version, key) → Promise; reload() → Promise<{data, version}>.
// When someone else changed the record meanwhile (412), it is read again: the fields the
// user did not touch take the saved values, the ones they changed keep what they typed
// with the saved value shown beneath, and the next save goes against the new version.
// onReloaded(data, version) lets the page show the fresh record too; onError(err, box)
// may handle other refusals (true: handled).
export function editDialog(title, {record, version, fields, values, changes, send, reload, onReloaded, onDone, onError,
  conflictTitle, wide, name}) {
  let base = record;
  let current = version;
  const box = alertBox();
  const form = h('form', {class: 'form', 'data-form': name || 'edit', 'data-version': String(current)},
    h('div', {class: 'form-grid'}, fields),
    box,
    h('div', {class: 'form-actions'},
      h('button', {type: 'button', class: 'btn', onclick: () => dlg.close()}, t('common.cancel')),
      h('button', {type: 'submit', class: 'btn btn-primary'}, t('common.save'))));
  const controls = () => Object.keys(values(base)).map((n) => [n, form.elements.namedItem(n)]).filter(([, el]) => el);
  for (const [n, el] of controls()) setControl(el, values(base)[n]);
  const dlg = openDialog(title, form, {wide});

  async function conflict(err) {
    let fresh;
    try {
      // The read side may not have applied the other change yet.
      fresh = await readPast(reload, current);
    } catch (e) {
      showError(box, e);
      return;
    }
    const was = values(base);
    const now = values(fresh.data);
    const theirs = [];
    for (const note of form.querySelectorAll('.field-fresh')) note.remove();
    for (const [n, el] of controls()) {
      if (now[n] === was[n]) continue;
      theirs.push(controlLabel(el));
      const mine = controlValue(el) !== was[n];
      let note = null;
      if (!mine) {
        setControl(el, now[n]);
        note = t('edit.changedMeanwhile', {v: shownValue(was[n])});
      } else if (controlValue(el) !== now[n]) {
        note = t('edit.keptYours', {v: shownValue(now[n])});
      }
      if (note) (el.closest('.field') || el.parentElement).append(h('div', {class: 'field-fresh', 'data-fresh': n}, note));
    }
    base = fresh.data;
    current = fresh.version;
    form.dataset.version = String(current);
    const list = theirs.length ? new Intl.ListFormat(lang(), {type: 'conjunction'}).format(theirs) : null;
    showWarning(box, h('strong', {class: 'alert-title'}, conflictTitle || t('edit.conflict')),
      h('span', t('edit.conflictHelp')),
      list ? h('span', {class: 'alert-detail', 'data-changed': 'true'}, t('edit.theyChanged', {fields: list})) : null,
      h('span', {class: 'alert-code'}, `${err.title || t('error.version_conflict')} · ${err.code}`));
    box.dataset.conflict = 'true';
    if (onReloaded) onReloaded(fresh.data, fresh.version);
  }

  const wire = wireForm(form, box, (v, key) => {
    delete box.dataset.conflict;
    const body = changes(v, base);
    if (!Object.keys(body).length) {
      const first = controls()[0];
      throw new FormInvalid([[first ? first[0] : '', t('edit.noChanges')]]);
    }
    return send(body, current, key);
  }, {
    onDone: async (r) => { dlg.close(); if (onDone) await onDone(r); },
    onError: (err, ebox) => {
      // Nothing was written: the next attempt is a new request.
      if (err instanceof ApiError && err.code === 'version_conflict') {
        wire.resetKey();
        conflict(err);
        return true;
      }
      if (onError && onError(err, ebox) === true) {
        wire.resetKey();
        return true;
      }
      return false;
    },
  });
  return {...dlg, form};
}

// --- display -----------------------------------------------------------------------

const BADGE_TONES = {
  unassigned: 'gray', pending: 'blue', following: 'teal', invalid: 'amber', converted: 'green', voided: 'gray',
  active: 'blue', paid: 'green', partial: 'amber', overdue: 'red',
  qualification: 'gray', needs_analysis: 'blue', proposal: 'teal', negotiation: 'amber', won: 'green', lost: 'red',
  admin: 'purple', manager: 'blue', sales: 'teal', finance: 'amber', auditor: 'gray',
  created: 'gray', released: 'blue', recycled: 'amber', handover: 'purple',
};

export function badge(group, value) {
  return h('span', {class: ['badge', `badge-${BADGE_TONES[value] || 'gray'}`], 'data-value': value}, tEnum(group, value));
}

export function flag(text, tone = 'gray') {
  return h('span', {class: ['badge', `badge-${tone}`]}, text);
}

// columns: [{label, cell: (row) => node|string, class?}], rows → a table in a scroller.
export function table(columns, rows, {rowAttrs, empty, caption} = {}) {
  const tbody = h('tbody');
  const tbl = h('div', {class: 'table-wrap'},
    h('table', {class: 'table'},
      caption ? h('caption', {class: 'sr-only'}, caption) : null,
      h('thead', h('tr', columns.map((c) => h('th', {scope: 'col', class: c.class}, c.label)))),
      tbody));
  appendRows(tbody, columns, rows, rowAttrs);
  if (!rows.length) {
    tbody.appendChild(h('tr', {class: 'empty-row'}, h('td', {colspan: columns.length}, empty || t('common.empty'))));
  }
  tbl.tbody = tbody;
  return tbl;
}

export function appendRows(tbody, columns, rows, rowAttrs) {
  const empty = tbody.querySelector('.empty-row');
  if (empty && rows.length) empty.remove();
  for (const r of rows) {
    tbody.appendChild(h('tr', rowAttrs ? rowAttrs(r) : {},
      columns.map((c) => h('td', {class: c.class, 'data-label': c.label}, c.cell(r)))));
  }
}

// A list of `path`'s pages in `listBox`: reload() shows the first page for params(), the
// `more` button appends the next; an answer that a newer reload overtook, or that comes
// after stop() (the page was left), is dropped.
export function pagedList({path, params, columns, rowAttrs, empty, caption, limit = 50, box, listBox, more}) {
  let cursor = null;
  let tbl = null;
  let gen = 0;
  const showMore = (page) => { cursor = page.next_cursor; more.hidden = !cursor; };
  async function reload() {
    const mine = ++gen;
    clearAlert(box);
    try {
      const page = await get(path, {...params(), limit});
      if (mine !== gen) return;
      tbl = table(columns, page.items || [], {rowAttrs, empty, caption});
      replace(listBox, tbl);
      showMore(page);
    } catch (e) { if (mine === gen) { clear(listBox); showError(box, e); } }
  }
  more.addEventListener('click', async () => {
    const mine = gen;
    more.disabled = true;
    try {
      const page = await get(path, {...params(), cursor, limit});
      if (mine !== gen) return;
      appendRows(tbl.tbody, columns, page.items || [], rowAttrs);
      showMore(page);
    } catch (e) { showError(box, e); } finally { more.disabled = false; }
  });
  return {reload, stop: () => { gen += 1; }};
}

// A definition list of [label, value, field?] pairs; `field` (the API field shown) becomes
// the value's data-field.
export function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(Boolean).map(([k, v, field]) => h('div', {class: 'fact'}, h('dt', k),
    h('dd', field ? {'data-field': field} : {}, v === null || v === undefined || v === '' ? '—' : v))));
}

export function section(title, ...content) {
  return h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', title)), ...content);
}

export function sectionWithActions(title, actions, ...content) {
  return h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', title), h('div', {class: 'card-actions'}, actions)), ...content);
}

export function pageHeader(title, subtitle, actions) {
  return h('div', {class: 'page-head'},
    h('div', {class: 'page-titles'}, h('h1', title), subtitle ? h('p', {class: 'muted'}, subtitle) : null),
    actions ? h('div', {class: 'page-actions'}, actions) : null);
}

export function loading() {
  return h('div', {class: 'loading', role: 'status'}, t('common.loading'));
}

// --- export ------------------------------------------------------------------------

// "Export CSV" and "Export Excel" for a list: GET `path` (…/export) with the format and
// params() (the filters applied now, nothing else: the server refuses unknown ones), then
// save the answer under the server's file name. The token travels as a header, so a
// plain link cannot do it.
export function exportButtons(path, params, box) {
  const run = async (btn, format) => {
    btn.disabled = true;
    clearAlert(box);
    try {
      const {blob, filename} = await download(path, {...params(), format});
      const url = URL.createObjectURL(blob);
      const a = h('a', {href: url, download: filename, hidden: true});
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      showError(box, e);
    } finally {
      btn.disabled = false;
    }
  };
  const button = (format, label) => {
    const b = h('button', {type: 'button', class: 'btn', 'data-action': `export-${format}`, onclick: () => run(b, format)}, label);
    return b;
  };
  return [button('csv', t('export.csv')), button('xlsx', t('export.xlsx'))];
}

// --- people ------------------------------------------------------------------------

let staffMap = new Map();
export async function loadStaff(force) {
  const list = await staffList(force);
  staffMap = new Map(list.map((s) => [s.id, s]));
  return list;
}

export function staffName(id) {
  if (!id) return '—';
  if (id === 'system') return t('common.system');
  const s = staffMap.get(id);
  return s ? s.name : id;
}

let deptMap = new Map();
export async function loadDepartments(force) {
  const tree = await departments(force);
  const m = new Map();
  const walk = (list) => { for (const d of list) { m.set(d.id, d); walk(d.children || []); } };
  walk(tree);
  deptMap = m;
  return tree;
}

export function departmentName(id) {
  const d = deptMap.get(id);
  return d ? d.name : id;
}

// The people things may be assigned to: active sales and managers.
export function assignableOptions(list, {includeEmpty, emptyLabel} = {}) {
  const opts = list.filter((s) => !s.departed && (s.role === 'sales' || s.role === 'manager'))
    .map((s) => [s.id, `${s.name} · ${tEnum('role', s.role)}`]);
  return includeEmpty ? [['', emptyLabel || t('common.none')], ...opts] : opts;
}

export function isRole(...roles) {
  const m = me();
  return !!m && roles.includes(m.role);
}

// --- edit events -------------------------------------------------------------------

const CHANGE_LABELS = {
  name: 'common.name', company: 'common.company', phone: 'common.phone', email: 'common.email', source: 'leads.source',
  region: 'common.region', amount: 'opps.amount', currency: 'opps.currency', expected_close_date: 'opps.expectedClose',
  title: 'contacts.title', decision_maker: 'contacts.decisionMaker', role: 'account.role', department_id: 'dash.department',
  parent_id: 'changes.parent',
};

function changeValue(fieldName, v, currency) {
  if (v === null || v === undefined || v === '') return fieldName === 'parent_id' ? t('changes.topLevel') : t('edit.emptyValue');
  if (typeof v === 'object') return JSON.stringify(v);
  switch (fieldName) {
    case 'decision_maker': return v === true || v === 'true' ? t('common.yes') : t('common.no');
    case 'role': return tEnum('role', v);
    case 'department_id': case 'parent_id': return departmentName(String(v));
    case 'amount': return currency ? fmtMoney(Number(v), currency) : fmtNum(Number(v));
    case 'expected_close_date': return fmtDate(String(v));
    default: return String(v);
  }
}

// What an edit event changed, one "field: old → new" line per field (and, for a lead,
// the lead it was recorded as a duplicate of); a reversal, an invoice or a merge event
// (a record moved to the surviving customer, a customer merged or absorbed) reads as one
// line of what it did; null when the event has none of these.
// `currency`: the record's currency, for amounts when the event does not change it (or,
// for a reversal, name it); `invoiceNumber`: the voided invoice's number, when known.
export function eventChanges(e, {currency, invoiceNumber} = {}) {
  const data = e && e.data && typeof e.data === 'object' ? e.data : {};
  const changes = Array.isArray(data.changes) ? data.changes : [];
  const items = [];
  const cur = changes.find((c) => c.field === 'currency');
  const curOld = cur ? cur.old : currency;
  const curNew = cur ? cur.new : currency;
  for (const c of changes) {
    const label = c.field === 'amount' && !(curOld && curNew) ? t('changes.amountMinor')
      : c.field === 'name' && e.type === 'OpportunityEdited' ? t('opps.name')
        : CHANGE_LABELS[c.field] ? t(CHANGE_LABELS[c.field]) : c.field;
    items.push(h('li', {class: 'change', 'data-field': c.field},
      h('span', {class: 'change-field'}, label), t('changes.sep'),
      h('span', {class: 'change-old'}, changeValue(c.field, c.old, curOld)),
      h('span', {class: 'change-arrow'}, ' → '),
      h('span', {class: 'change-new'}, changeValue(c.field, c.new, curNew))));
  }
  if (data.duplicate_of && /^Lead(Created|Edited)$/.test(e.type)) {
    items.push(h('li', {class: 'change change-dup'}, t('changes.duplicateOf', {id: data.duplicate_of})));
  }
  const money = (amount) => (data.currency || currency ? fmtMoney(Number(amount), data.currency || currency) : `${fmtNum(Number(amount))} (${t('changes.amountMinor')})`);
  if (e.type === 'PaymentReversed') {
    items.push(h('li', {class: 'change change-money', 'data-event': e.type}, t('changes.reversed', {amount: money(data.amount),
      on: data.reversed_on ? fmtDate(String(data.reversed_on)) : '—', reason: data.reason || '—'})));
  } else if (e.type === 'InvoiceIssued') {
    const kind = data.kind ? tEnum('invoiceKind', data.kind) : '—';
    items.push(h('li', {class: 'change change-money', 'data-event': e.type}, t('changes.invoiceIssued', {number: data.number || '—', amount: money(data.amount),
      kind: data.tax_rate_pct === null || data.tax_rate_pct === undefined ? kind : `${kind} ${data.tax_rate_pct}%`,
      on: data.issued_on ? fmtDate(String(data.issued_on)) : '—'})));
  } else if (e.type === 'RecordMoved') {
    items.push(h('li', {class: 'change change-merge', 'data-event': e.type}, t(data.owner_id ? 'changes.recordMovedOwner' : 'changes.recordMoved',
      {from: data.from_customer_id || '—', to: data.customer_id || '—', owner: staffName(data.owner_id)})));
  } else if (e.type === 'CustomerMerged') {
    items.push(h('li', {class: 'change change-merge', 'data-event': e.type}, t('changes.customerMerged', {id: data.into_id || '—'})));
  } else if (e.type === 'CustomerAbsorbed') {
    items.push(h('li', {class: 'change change-merge', 'data-event': e.type}, t('changes.customerAbsorbed', {id: data.from_id || '—'})));
  } else if (e.type === 'InvoiceVoided') {
    items.push(h('li', {class: 'change change-money', 'data-event': e.type}, t('changes.invoiceVoided', {number: data.number || invoiceNumber || e.stream, reason: data.reason || '—'})));
  }
  return items.length ? h('ul', {class: 'changes'}, items) : null;
}
