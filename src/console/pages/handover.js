// Handover (离职交接): a person's portfolio moves to a successor or to the pool, in one
// atomic step, optionally marking them departed.
import {h, clear, replace, pageHeader, section, select, field, table, alertBox, showError, clearAlert, showOk,
  loadStaff, loading, facts, formDialog, wireForm, FormInvalid} from './_shared.js';
import {t, tEnum, fmtNum} from '../i18n.js';
import {get, post, me, staffList, departments, departmentSubtree} from '../api.js';

export async function render(root) {
  const box = alertBox();
  const result = h('div', {id: 'handover-result'});
  const portfolioBox = h('div', {class: 'portfolio'});
  root.append(pageHeader(t('nav.handover'), t('handover.subtitle')), box);
  const staff = await staffList(true).catch((e) => { showError(box, e); return []; });
  await loadStaff().catch(() => {});
  const self = me();
  // Whom the person may hand over (API.md): an admin anyone; a manager the sales staff of
  // their department subtree and the managers of departments strictly below it.
  let mayHandOver = () => true;
  if (self.role !== 'admin') {
    const tree = await departments().catch(() => []);
    const subtree = departmentSubtree(tree, self.department_id);
    mayHandOver = (s) => (s.role === 'sales' && subtree.has(s.department_id)) ||
      (s.role === 'manager' && s.department_id !== self.department_id && subtree.has(s.department_id));
  }
  const people = staff.filter((s) => s.id !== self.id && !s.departed && mayHandOver(s));
  const label = (s) => `${s.name} · ${tEnum('role', s.role)} · ${s.email}`;
  const who = select('staff_id', [['', t('handover.pickPerson')], ...people.map((s) => [s.id, label(s)])]);
  const successors = () => staff.filter((s) => !s.departed && ['sales', 'manager'].includes(s.role) && s.id !== who.value);
  const to = select('to', []);
  const fillTo = () => {
    clear(to);
    to.append(h('option', {value: 'pool'}, t('handover.toPool')));
    for (const s of successors()) to.append(h('option', {value: s.id}, label(s)));
  };
  fillTo();
  const depart = h('input', {type: 'checkbox', name: 'depart'});
  const fbox = alertBox();
  const form = h('form', {class: 'form', 'data-form': 'handover'},
    h('div', {class: 'form-grid'},
      field(t('handover.person'), who, {required: true}),
      field(t('handover.to'), to, {required: true}),
      h('label', {class: 'check field-wide'}, depart, ' ', t('handover.depart'))),
    portfolioBox,
    fbox,
    h('div', {class: 'form-actions'}, h('button', {type: 'submit', class: 'btn btn-primary'}, t('handover.submit'))));
  root.append(section(t('handover.title'), form), result);

  let portfolio = null;
  who.addEventListener('change', () => { clear(result); loadPortfolio(); });
  async function loadPortfolio() {
    fillTo();
    portfolio = null;
    clearAlert(fbox);
    if (!who.value) { clear(portfolioBox); return; }
    replace(portfolioBox, loading());
    try {
      portfolio = await get(`/staff/${encodeURIComponent(who.value)}/portfolio`);
      const c = portfolio.counts || {};
      replace(portfolioBox, h('h3', t('handover.portfolio')), h('div', {class: 'tiles tiles-sm'},
        ['leads', 'customers', 'opportunities', 'contracts'].map((k) => h('div', {class: 'tile', 'data-tile': `counts.${k}`},
          h('div', {class: 'tile-label'}, t(`handover.count.${k}`)), h('div', {class: 'tile-value'}, fmtNum(c[k] || 0))))));
    } catch (e) {
      clear(portfolioBox);
      showError(fbox, e);
    }
  }

  // The form only checks; the confirm dialog sends (with its own key until success).
  form.noValidate = true;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearAlert(fbox);
    if (!who.value) { showError(fbox, new Error(t('handover.pickPerson'))); who.focus(); return; }
    const person = staff.find((s) => s.id === who.value);
    const target = to.value === 'pool' ? t('handover.toPool') : (staff.find((s) => s.id === to.value) || {}).name;
    const c = (portfolio && portfolio.counts) || {};
    const msg = t('handover.confirmText', {name: person.name, to: target, leads: fmtNum(c.leads || 0), customers: fmtNum(c.customers || 0),
      opportunities: fmtNum(c.opportunities || 0), contracts: fmtNum(c.contracts || 0)});
    const body = {to: to.value, depart: depart.checked};
    formDialog(t('handover.confirmTitle'), [h('p', {class: 'confirm-text field-wide'}, msg),
      depart.checked ? h('p', {class: 'warn field-wide'}, t('handover.departWarn', {name: person.name})) : null],
    (v, key) => post(`/staff/${encodeURIComponent(person.id)}/handover`, body, {key}), {
      danger: true,
      submitLabel: t('handover.submit'),
      onDone: async (r) => {
        const moved = r.data.moved || {};
        replace(result, section(t('handover.done'),
          h('p', t('handover.doneText', {name: person.name, to: target})),
          h('div', {class: 'tiles tiles-sm', 'data-result': 'moved'},
            ['leads', 'customers', 'opportunities', 'contracts'].map((k) => h('div', {class: 'tile', 'data-tile': `moved.${k}`},
              h('div', {class: 'tile-label'}, t(`handover.count.${k}`)), h('div', {class: 'tile-value'}, fmtNum(moved[k] || 0)))))));
        showOk(box, t('handover.doneShort'));
        const fresh = await staffList(true).catch(() => staff);
        await loadStaff(true).catch(() => {});
        staff.splice(0, staff.length, ...fresh);
        if (body.depart) {
          for (const o of [...who.options]) if (o.value === person.id) o.remove();
          who.value = '';
          clear(portfolioBox);
        } else {
          loadPortfolio();
        }
        fillTo();
        result.scrollIntoView({block: 'nearest'});
      },
    });
  });
}
