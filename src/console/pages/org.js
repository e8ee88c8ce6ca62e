// Organisation (组织架构): the department tree with each department's people, and the
// staff list, filtered here (the API lists everyone). Admins create and edit departments
// and people (edits carry If-Match; a stale form is read again by editDialog), set
// people's sign-in passwords (a new person's first one in the create form) and issue API
// tokens, which the server shows once; everyone else who may open the page reads it.
import {h, replace, pageHeader, input, select, field, table, alertBox, showError, showOk, showWarning, badge, flag,
  loading, formDialog, editDialog, openDialog, diffFields, markField, readPast, isRole, loadStaff, loadDepartments,
  departmentName, uid} from './_shared.js';
import {newPasswordFields, checkNewPassword} from './_password.js';
import {t, tEnum, fmtDate, fmtNum} from '../i18n.js';
import {post, put, patch, getRecord, me, departments, departmentSubtree, ApiError} from '../api.js';

const ROLES = ['admin', 'manager', 'sales', 'finance', 'auditor'];
const STAFF_FIELDS = ['name', 'email', 'role', 'department_id', 'region'];
const DEPT_FIELDS = ['name', 'parent_id'];

const enc = encodeURIComponent;

// The tree as a list in display order: [{d, path}], `path` the names from the top down.
function flatten(nodes, out = [], above = []) {
  for (const d of nodes) {
    const path = [...above, d.name];
    out.push({d, path});
    flatten(d.children || [], out, path);
  }
  return out;
}

function findDepartment(nodes, id) {
  return flatten(nodes).map((x) => x.d).find((d) => d.id === id) || null;
}

// People in a department and every department below it.
function totalPeople(d) {
  return (d.staff_count || 0) + (d.children || []).reduce((n, c) => n + totalPeople(c), 0);
}

// Options of a department <select>, in tree order, each named with the departments above
// it ("华东区 / 上海一组"): an option cannot be indented.
function departmentOptions(tree, {exclude, empty} = {}) {
  const opts = flatten(tree).filter(({d}) => d.id !== exclude).map(({d, path}) => [d.id, path.join(' / ')]);
  return empty ? [['', empty], ...opts] : opts;
}

export async function render(root) {
  const admin = isRole('admin');
  const box = alertBox();
  const treeBox = h('div', {id: 'org-tree'}, loading());
  const listBox = h('div', {id: 'staff-list'}, loading());
  const summary = h('span', {class: 'muted small', id: 'staff-summary', 'aria-live': 'polite'});
  let tree = [];
  let staff = [];
  let gen = 0;

  const q = input('q', {type: 'search', placeholder: t('org.searchHint')});
  const depSel = select('department', [['', t('org.allDepartments')]]);
  const roleSel = select('role', [['', t('org.allRoles')], ...ROLES.map((r) => [r, tEnum('role', r)])]);
  const filters = h('form', {class: 'toolbar org-filters', role: 'search', onsubmit: (e) => { e.preventDefault(); drawStaff(); }},
    field(t('common.search'), q), field(t('org.department'), depSel), field(t('account.role'), roleSel));
  q.addEventListener('input', () => drawStaff());
  depSel.addEventListener('change', () => { drawTree(); drawStaff(); });
  roleSel.addEventListener('change', () => drawStaff());

  const actions = admin ? h('div', {class: 'btn-row'},
    h('button', {type: 'button', class: 'btn', 'data-action': 'new-department', onclick: () => createDepartment()}, t('org.newDepartment')),
    h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'new-staff', onclick: () => createStaff()}, t('org.newStaff'))) : null;
  root.append(pageHeader(t('nav.org'), admin ? t('org.subtitleAdmin') : t('org.subtitleView'), actions), box,
    h('div', {class: 'org-layout'},
      h('section', {class: 'card', 'aria-labelledby': 'org-departments-title'},
        h('div', {class: 'card-head'}, h('h2', {id: 'org-departments-title'}, t('org.departments'))), treeBox),
      h('section', {class: 'card', 'aria-labelledby': 'org-staff-title'},
        h('div', {class: 'card-head'}, h('div', {class: 'card-titles'}, h('h2', {id: 'org-staff-title'}, t('org.staff')), summary)),
        filters, listBox)));

  // Reads the tree and the people again (the shared caches too, so that other pages
  // show names and departments as they are now).
  async function load() {
    const mine = ++gen;
    try {
      const [tr, st] = await Promise.all([loadDepartments(true), loadStaff(true)]);
      if (mine !== gen) return;
      tree = tr;
      staff = st;
      fillDepartmentFilter();
      drawTree();
      drawStaff();
    } catch (e) {
      if (mine === gen) showError(box, e);
    }
  }

  function fillDepartmentFilter() {
    const was = depSel.value;
    replace(depSel, departmentOptions(tree, {empty: t('org.allDepartments')}).map(([v, l]) => h('option', {value: v}, l)));
    depSel.value = findDepartment(tree, was) ? was : '';
  }

  function drawTree() {
    const picked = depSel.value;
    const node = (d) => {
      const total = totalPeople(d);
      const on = picked === d.id;
      return h('li', {class: 'org-node', 'data-id': d.id},
        h('div', {class: ['org-row', on && 'selected']},
          h('button', {type: 'button', class: 'org-name', 'data-action': 'filter-department', 'aria-pressed': String(on),
            title: t('org.filterBy', {name: d.name}),
            onclick: () => { depSel.value = on ? '' : d.id; drawTree(); drawStaff(); }}, d.name),
          h('span', {class: 'org-count', 'data-field': 'staff_count', 'data-count': String(d.staff_count || 0)},
            t('org.people', {n: fmtNum(d.staff_count || 0)}),
            total !== (d.staff_count || 0) ? h('span', {class: 'org-total'}, ` · ${t('org.peopleTotal', {n: fmtNum(total)})}`) : null),
          admin ? h('button', {type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'edit-department',
            'aria-label': t('org.editDepartmentNamed', {name: d.name}), onclick: () => editDepartment(d)}, t('common.edit')) : null),
        d.children && d.children.length ? h('ul', {class: 'org-children'}, d.children.map(node)) : null);
    };
    replace(treeBox, tree.length ? h('ul', {class: 'org-tree', 'aria-label': t('org.departments')}, tree.map(node))
      : h('p', {class: 'muted', 'data-empty': 'departments'}, t('org.noDepartments')));
  }

  function drawStaff() {
    const text = q.value.trim().toLowerCase();
    const within = depSel.value ? departmentSubtree(tree, depSel.value) : null;
    const rows = staff.filter((s) => (!within || within.has(s.department_id)) && (!roleSel.value || s.role === roleSel.value) &&
      (!text || String(s.name).toLowerCase().includes(text) || String(s.email).toLowerCase().includes(text)))
      // The people at work first; the departed after them, as they were listed.
      .sort((a, b) => Number(!!a.departed) - Number(!!b.departed));
    const self = me();
    const columns = [
      {label: t('common.name'), cell: (s) => h('div', {class: 'cell-main'},
        h('div', {class: 'strong', 'data-field': 'name'}, s.name, s.id === self.id ? h('span', {class: 'muted small'}, ` ${t('org.you')}`) : null),
        h('div', {class: 'muted small', 'data-field': 'email'}, s.email))},
      {label: t('account.role'), cell: (s) => h('span', {'data-field': 'role'}, badge('role', s.role))},
      {label: t('org.department'), cell: (s) => h('span', {'data-field': 'department'}, s.department_id ? departmentName(s.department_id) : '—')},
      {label: t('common.region'), cell: (s) => h('span', {'data-field': 'region'}, s.region || '—')},
      {label: t('common.state'), cell: (s) => (s.departed
        ? h('span', {'data-field': 'departed'}, flag(t('org.departed'), 'gray'), s.departed_at ? h('span', {class: 'muted small'}, ` ${fmtDate(s.departed_at)}`) : null)
        : h('span', {'data-field': 'departed'}, flag(t('org.active'), 'green')))},
      admin ? {label: '', class: 'actions', cell: (s) => (s.departed ? null : h('div', {class: 'btn-row row-actions'},
        h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'edit-staff', 'aria-label': t('org.editStaffNamed', {name: s.name}),
          onclick: () => editStaff(s)}, t('common.edit')),
        // One's own password wants the current one too: the account page asks for it.
        s.id === self.id
          ? h('a', {href: '#/account', class: 'btn btn-sm', 'data-action': 'set-password', title: t('org.ownPassword')}, t('org.setPassword'))
          : h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'set-password', 'aria-label': t('org.setPasswordNamed', {name: s.name}),
            onclick: () => setPassword(s)}, t('org.setPassword')),
        h('button', {type: 'button', class: 'btn btn-sm btn-danger', 'data-action': 'new-token', 'aria-label': t('org.issueTokenNamed', {name: s.name}),
          onclick: () => issueToken(s)}, t('org.issueToken'))))} : null,
    ].filter(Boolean);
    replace(listBox, table(columns, rows, {rowAttrs: (s) => ({'data-id': s.id, 'data-departed': String(!!s.departed), class: s.departed ? 'row-departed' : null}),
      empty: t('org.noStaff'), caption: t('org.staff')}));
    summary.textContent = t('org.shown', {n: fmtNum(rows.length), total: fmtNum(staff.length)});
  }

  // --- departments -----------------------------------------------------------------

  function createDepartment() {
    let name = '';
    formDialog(t('org.newDepartment'), [
      field(t('org.departmentName'), input('name', {maxlength: 100}), {required: true}),
      field(t('org.parent'), select('parent_id', departmentOptions(tree, {empty: t('org.topLevel')}), {value: depSel.value})),
    ], (v, key) => { name = v.name; return post('/departments', {name: v.name, parent_id: v.parent_id}, {key}); }, {
      submitLabel: t('common.create'),
      onDone: async () => { await load(); showOk(box, t('org.departmentCreated', {name})); },
    });
  }

  function editDepartment(d) {
    let dlg = null;
    dlg = editDialog(t('org.editDepartment'), {
      name: 'edit-department',
      record: d,
      version: d.version,
      fields: [
        field(t('org.departmentName'), input('name', {maxlength: 100}), {required: true}),
        // Its own sub-departments are offered too: the tree here may be older than the
        // server's, which is what refuses a cycle (409), explained below.
        field(t('org.parent'), select('parent_id', departmentOptions(tree, {exclude: d.id, empty: t('org.topLevel')}))),
      ],
      values: (x) => ({name: x.name || '', parent_id: x.parent_id || ''}),
      changes: (v, x) => diffFields(v, x, DEPT_FIELDS),
      send: (body, ver, key) => patch(`/departments/${enc(d.id)}`, body, {key, version: ver}),
      // Departments have no GET of their own: the tree has each with its version.
      reload: async () => {
        const fresh = findDepartment(await departments(true), d.id);
        if (!fresh) throw new ApiError({status: 404, code: 'not_found'});
        return {data: fresh, version: fresh.version};
      },
      onReloaded: () => load(),
      onError: (err, ebox) => {
        if (!(err instanceof ApiError && err.code === 'invalid_transition')) return false;
        const form = dlg ? dlg.form : ebox.closest('form');
        const parentName = departmentName(form.elements.namedItem('parent_id').value);
        const name = form.elements.namedItem('name').value.trim() || d.name;
        markField(form, 'parent_id', t('org.cycleField'));
        // The server's detail names ids; say it with names, keep the code line.
        showError(ebox, Object.assign(Object.create(ApiError.prototype), err, {detail: t('org.cycleDetail', {name, parent: parentName})}),
          h('div', {class: 'alert-extra', 'data-error': 'cycle'}, t('org.cycleHint', {name})));
        return true;
      },
      conflictTitle: t('org.departmentConflict'),
      onDone: async () => { await load(); showOk(box, t('org.departmentSaved')); },
    });
  }

  // --- people ----------------------------------------------------------------------

  // The person's fields, as the create and edit forms show them. `record`: the person
  // edited (none when creating).
  function staffFields(record) {
    const self = record && record.id === me().id;
    const noDept = record && !record.department_id;
    return [
      field(t('common.name'), input('name', {maxlength: 100}), {required: true}),
      field(t('common.email'), input('email', {type: 'email', maxlength: 254, autocomplete: 'off'}), {required: true}),
      field(t('account.role'), select('role', ROLES.map((r) => [r, tEnum('role', r)]), {value: 'sales', disabled: !!self}),
        {hint: self ? t('org.ownRole') : null}),
      // A person is in a department (the API cannot take it away again); only someone
      // without one, like the first admin, may stay without.
      field(t('org.department'), select('department_id', departmentOptions(tree,
        {empty: noDept ? t('org.noDepartment') : t('org.pickDepartment')}), {value: depSel.value}), {required: !noDept}),
      field(t('common.region'), input('region', {maxlength: 100})),
    ];
  }

  // A new person, and their first password when one is typed: two requests. When the
  // second fails the person exists all the same: the form is done (sent again, its key
  // would replay the create, without the token), the token is shown, and the page says
  // what is missing, with the way to set it.
  function createStaff() {
    formDialog(t('org.newStaff'), [
      ...staffFields(null),
      h('div', {class: 'field-wide'}, h('h3', {class: 'form-section'}, t('org.initialPasswordSection')),
        h('p', {class: 'hint'}, t('org.initialPasswordHelp'))),
      ...newPasswordFields({label: t('org.initialPassword'), repeatLabel: t('org.initialPasswordRepeat'), required: false}),
    ], async (v, key) => {
      const password = checkNewPassword(v);
      const r = await post('/staff', {name: v.name, email: v.email, role: v.role, department_id: v.department_id, region: v.region}, {key});
      const done = {person: {id: r.data.id, name: v.name, email: v.email}, data: r.data, password: password !== undefined, failed: null};
      if (done.password) {
        try {
          await put(`/staff/${enc(done.person.id)}/password`, {password});
        } catch (e) {
          done.failed = e;
        }
      }
      return done;
    }, {
      name: 'new-staff',
      submitLabel: t('common.create'),
      onDone: async ({person, data, password, failed}) => {
        // The token first: it is shown this once, whatever happens to the reload.
        let note = null;
        if (failed) {
          note = h('div', {class: 'alert', role: 'alert', 'data-password': 'failed'}, passwordFailure(person, failed));
        } else if (password) {
          note = h('p', {class: 'small ok', 'data-password': 'set'}, t('org.tokenPasswordSet', {name: person.name, email: person.email}));
        }
        showToken(person, data, note);
        await load();
        if (!failed) {
          showOk(box, t(password ? 'org.staffCreatedWithPassword' : 'org.staffCreated', {name: person.name}));
          return;
        }
        showWarning(box, passwordFailure(person, failed),
          h('div', {class: 'btn-row alert-extra'}, h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'retry-password',
            onclick: () => setPassword(staff.find((x) => x.id === person.id) || person)}, t('org.retryPassword'))));
      },
    });
  }

  // What a new person's failed first password says, in the token dialog and on the page:
  // that the person exists, why the password did not take, and where to set it.
  function passwordFailure(person, err) {
    const why = h('div', {class: 'alert-extra', 'data-error': 'password'});
    showError(why, err);
    return [h('strong', {class: 'alert-title'}, t('org.passwordFailed', {name: person.name})), why, h('span', t('org.passwordFailedHelp'))];
  }

  // An admin sets someone else's password. The server ends every session that person is
  // signed in with (their API tokens keep working); the form says so.
  function setPassword(s) {
    formDialog(t('org.setPasswordNamed', {name: s.name}), [
      h('p', {class: 'confirm-text field-wide'}, t('org.passwordSignIn', {name: s.name, email: s.email})),
      h('p', {class: 'warn field-wide', 'data-notice': 'sessions'}, t('org.passwordSessions', {name: s.name})),
      ...newPasswordFields(),
    ], (v, key) => put(`/staff/${enc(s.id)}/password`, {password: checkNewPassword(v)}, {key}), {
      name: 'set-password',
      submitLabel: t('org.setPassword'),
      onDone: async () => {
        // The password is an event of the person (a new version) but its answer (204)
        // has no position to read after: read them until the version moves, so that an
        // edit opened next goes against the new one (a failed read shows in load()).
        if (s.version !== undefined) await readPast(() => getRecord(`/staff/${enc(s.id)}`), s.version).catch(() => {});
        await load();
        showOk(box, t('org.passwordSet', {name: s.name}));
      },
    });
  }

  function editStaff(s) {
    let dlg = null;
    let sent = null;
    dlg = editDialog(t('org.editStaff'), {
      name: 'edit-staff',
      record: s,
      version: s.version,
      fields: staffFields(s),
      values: (x) => ({name: x.name || '', email: x.email || '', role: x.role || '', department_id: x.department_id || '', region: x.region || ''}),
      changes: (v, x) => diffFields(v, x, STAFF_FIELDS),
      send: (body, ver, key) => { sent = body; return patch(`/staff/${enc(s.id)}`, body, {key, version: ver}); },
      reload: () => getRecord(`/staff/${enc(s.id)}`),
      onReloaded: () => load(),
      onError: (err, ebox) => {
        // A role change refused while the person still owns leads or customers (the other
        // refusals of the same code, a departed person or an admin's own role, keep the
        // server's words).
        if (!(err instanceof ApiError && err.code === 'invalid_transition' && sent && 'role' in sent &&
              /\d+ leads and \d+ customers/.test(err.detail || ''))) return false;
        markField(dlg.form, 'role', t('org.roleHoldings'));
        showError(ebox, err, h('div', {class: 'alert-extra', 'data-error': 'holdings'}, t('org.roleHoldingsHelp'), ' ',
          h('a', {href: '#/handover', onclick: () => dlg.close()}, t('org.openHandover'))));
        return true;
      },
      conflictTitle: t('org.staffConflict'),
      onDone: async () => { await load(); showOk(box, t('org.staffSaved')); },
    });
  }

  function issueToken(s) {
    const self = s.id === me().id;
    formDialog(t('org.issueTokenNamed', {name: s.name}), [
      h('p', {class: 'confirm-text field-wide'}, t('org.newTokenConfirm', {name: s.name})),
      self ? h('p', {class: 'warn field-wide'}, t('org.newTokenSelf')) : null,
    ], (v, key) => post(`/staff/${enc(s.id)}/tokens`, undefined, {key}), {
      name: 'new-token',
      danger: true,
      submitLabel: t('org.issueToken'),
      onDone: (r) => showToken(s, r.data),
    });
  }

  // The token the server just answered, shown this once: a warning, the token selected
  // for copying, and a copy button; `note`, what else the admin must know (a new person's
  // password).
  function showToken(person, data, note = null) {
    if (!data || !data.token) {
      // A create retried with the same key answers without the token (it is never stored).
      const d = openDialog(t('org.tokenTitle'), h('div', {class: 'form', 'data-token-for': person.id},
        h('div', {class: 'alert alert-warn', role: 'alert'}, t('org.tokenRedacted')),
        note,
        h('div', {class: 'form-actions'},
          h('button', {type: 'button', class: 'btn', onclick: () => d.close()}, t('common.close')),
          h('button', {type: 'button', class: 'btn btn-primary', onclick: () => { d.close(); issueToken(person); }}, t('org.issueToken')))));
      return;
    }
    const warnId = uid('warn');
    const tokenId = uid('tok');
    const value = h('input', {type: 'text', id: tokenId, name: 'token', class: 'token-value', readonly: true, value: data.token,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': warnId});
    const status = h('span', {class: 'small', role: 'status', 'data-copy-status': ''});
    const copy = async () => {
      let ok = false;
      try {
        await navigator.clipboard.writeText(data.token);
        ok = true;
      } catch {
        // No clipboard API (or no permission): copy the selected text the old way.
        value.focus();
        value.select();
        try { ok = document.execCommand('copy'); } catch { ok = false; }
      }
      status.textContent = ok ? t('org.copied') : t('org.copyFailed');
      status.dataset.copyStatus = ok ? 'copied' : 'failed';
      status.className = ok ? 'small ok' : 'small warn';
      value.select();
    };
    value.addEventListener('focus', () => value.select());
    const d = openDialog(t('org.tokenTitle'), h('div', {class: 'form token-box', 'data-token-for': person.id},
      h('div', {class: 'alert alert-warn', role: 'alert', id: warnId},
        h('strong', {class: 'alert-title'}, t('org.tokenOnce')), h('span', t('org.tokenOnceHelp', {name: person.name}))),
      h('div', {class: 'field'},
        h('label', {for: tokenId}, t('org.tokenFor', {name: person.name})),
        h('div', {class: 'token-row'}, value,
          h('button', {type: 'button', class: 'btn', 'data-action': 'copy-token', onclick: copy}, t('org.copy')))),
      status,
      note,
      h('p', {class: 'muted small'}, t('org.tokenUse')),
      h('div', {class: 'form-actions'},
        h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'token-done', onclick: () => d.close()}, t('org.tokenDone')))));
    value.select();
  }

  await load();
  return () => { gen += 1; };
}
