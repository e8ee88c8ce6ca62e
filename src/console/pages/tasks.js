// The caller's to-do list (待办): follow-ups that have come due, installments due
// within 7 days or overdue, records about to be recycled, and personal tasks; grouped
// by due time, overdue first, live over the `tasks` topic. Personal tasks can be added
// and marked done here.
import {h, clear, replace, pageHeader, section, input, field, alertBox, showError, clearAlert, showOk, wireForm,
  localToIso, loading, FormInvalid} from './_shared.js';
import {t, tEnum, fmtDateTime, fmtRelative, fmtNum} from '../i18n.js';
import {get, post, newKey} from '../api.js';
import * as tasks from '../tasks.js';

const KIND_TONES = {follow_up: 'blue', installment: 'amber', recycle: 'purple', task: 'teal'};

// Start of today and of the day after tomorrow's week boundary, in the browser's zone.
function bucketOf(item, now = new Date()) {
  if (item.overdue) return 'overdue';
  const due = new Date(item.due_at);
  const endOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (due < endOfToday) return 'today';
  const endOfWeek = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 7);
  return due < endOfWeek ? 'week' : 'later';
}

// A datetime-local value one hour from now.
function inAnHour() {
  const d = new Date(Date.now() + 3600e3);
  d.setSeconds(0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function render(root, {params} = {}) {
  const box = alertBox();
  const listBox = h('div', {id: 'tasks-list'}, loading());
  const summary = h('p', {class: 'muted', id: 'tasks-summary'});
  const doneKeys = new Map();  // one Idempotency-Key per task until its done succeeds

  function recordLink(item) {
    const id = item.record_id;
    if (!id) return null;
    const href = tasks.recordHref(id);
    if (href) return h('a', {href, class: 'task-record', 'data-record': id}, id.startsWith('lead_') ? t('tasks.openLead') : t('tasks.openCustomer'));
    if (id.startsWith('con_')) {
      // A contract is shown on its customer's page: look the customer up on click.
      return h('a', {href: '#/tasks', class: 'task-record', 'data-record': id, onclick: async (e) => {
        e.preventDefault();
        try {
          const k = await get(`/contracts/${encodeURIComponent(id)}`);
          location.hash = `#/customers/${encodeURIComponent(k.customer_id)}`;
        } catch (err) { showError(box, err); }
      }}, t('tasks.openContract'));
    }
    return h('span', {class: 'muted small'}, id);
  }

  function doneButton(item) {
    if (item.kind !== 'task' || !item.task_id) return null;
    const b = h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'task-done', 'data-id': item.task_id}, t('tasks.done'));
    b.addEventListener('click', async () => {
      clearAlert(box);
      if (!doneKeys.has(item.task_id)) doneKeys.set(item.task_id, newKey());
      b.disabled = true;
      try {
        await post(`/tasks/${encodeURIComponent(item.task_id)}/done`, {}, {key: doneKeys.get(item.task_id)});
        doneKeys.delete(item.task_id);
        const row = b.closest('li');
        if (row) row.remove();
        showOk(box, t('tasks.doneOk', {title: item.title}));
        await tasks.refresh().catch(() => {});
      } catch (e) {
        b.disabled = false;
        showError(box, e);
      }
    });
    return b;
  }

  function itemRow(item) {
    return h('li', {class: ['task-item', item.overdue && 'task-overdue'], 'data-kind': item.kind,
      'data-record': item.record_id || null, 'data-task': item.task_id || null, 'data-overdue': String(!!item.overdue)},
    h('div', {class: 'task-when'},
      h('span', {class: item.overdue ? 'bad strong' : 'strong', title: fmtDateTime(item.due_at)}, fmtDateTime(item.due_at)),
      h('span', {class: 'muted small'}, fmtRelative(item.due_at))),
    h('div', {class: 'task-main'},
      h('div', {class: 'badges'},
        h('span', {class: ['badge', `badge-${KIND_TONES[item.kind] || 'gray'}`], 'data-value': item.kind}, tEnum('taskKind', item.kind)),
        item.overdue ? h('span', {class: 'badge badge-red task-overdue-flag'}, t('tasks.overdue')) : null),
      h('div', {class: 'task-title'}, item.title)),
    h('div', {class: 'task-actions btn-row'}, recordLink(item), doneButton(item)));
  }

  function paint(d) {
    if (!d) return;
    const items = (d.items || []).slice().sort((a, b) => String(a.due_at).localeCompare(String(b.due_at)));
    const overdue = items.filter((i) => i.overdue).length;
    summary.textContent = t('tasks.summary', {n: fmtNum(d.count ?? items.length), o: fmtNum(overdue)});
    if (!items.length) { replace(listBox, h('p', {class: 'muted empty'}, t('tasks.empty'))); return; }
    const groups = new Map([['overdue', []], ['today', []], ['week', []], ['later', []]]);
    const now = new Date();
    for (const i of items) groups.get(bucketOf(i, now)).push(i);
    clear(listBox);
    for (const [g, list] of groups) {
      if (!list.length) continue;
      listBox.append(h('div', {class: 'task-group', 'data-group': g},
        h('h3', {class: ['task-group-title', g === 'overdue' && 'bad']}, t(`tasks.group.${g}`), ' ', h('span', {class: 'muted'}, `(${fmtNum(list.length)})`)),
        h('ul', {class: 'task-list'}, list.map(itemRow))));
    }
  }

  // The add form: title, due date-time, optional record id (prefilled from ?record=).
  const fbox = alertBox();
  const prefill = params && params[0] ? params[0] : '';
  const form = h('form', {class: 'form form-inline-grid', id: 'task-form', 'data-form': 'task'},
    field(t('tasks.title'), input('title', {maxlength: 200}), {required: true}),
    field(t('tasks.dueAt'), input('due_at', {type: 'datetime-local', value: inAnHour()}), {required: true}),
    field(t('tasks.recordId'), input('record_id', {value: prefill, placeholder: 'lead_… / cus_… / con_…'}), {hint: t('tasks.recordHint')}),
    fbox,
    h('div', {class: 'form-actions'}, h('button', {type: 'submit', class: 'btn btn-primary'}, t('tasks.add'))));
  wireForm(form, fbox, async (v, key) => {
    const due = localToIso(v.due_at);
    if (!due) throw new FormInvalid([['due_at', t('form.invalid')]]);
    const body = {title: v.title, due_at: due};
    if (v.record_id) body.record_id = v.record_id;
    return (await post('/tasks', body, {key})).data;
  }, {onDone: async () => {
    form.querySelector('[name="title"]').value = '';
    showOk(fbox, t('tasks.added'));
    await tasks.refresh().catch(() => {});
  }});

  root.append(pageHeader(t('nav.tasks'), t('tasks.subtitle')), box,
    h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', t('tasks.listTitle'))), summary, listBox),
    section(t('tasks.addTitle'), form));

  const off = tasks.onTasks(paint);
  if (!tasks.current()) {
    try { await tasks.refresh(); } catch (e) { clear(listBox); showError(box, e); }
  }
  return () => off();
}
