// Lead import (导入线索): a CSV (as Excel saves it: UTF-8, UTF-16 or GB18030) or a JSON
// array of leads is sent as it is, first as a dry run whose answer is shown as a preview —
// how many rows, which are duplicates (of a lead, or of an earlier row) and which are
// invalid — and then, confirmed, for real: the same bytes, the valid new rows created in
// one command.
import {h, clear, replace, pageHeader, section, field, table, alertBox, showError, clearAlert, showOk, showWarning,
  loading} from './_shared.js';
import {t, fmtNum} from '../i18n.js';
import {upload, newKey} from '../api.js';

const MAX_BYTES = 1024 * 1024;  // the server's body limit

function contentTypeOf(file) {
  return /\.json$/i.test(file.name) || file.type === 'application/json' ? 'application/json' : 'text/csv';
}

function leadLink(id, text) {
  return h('a', {href: `#/leads/${encodeURIComponent(id)}`, class: 'id-link', 'data-id': id}, text || id);
}

export async function render(root) {
  const box = alertBox();
  const fileInput = h('input', {type: 'file', name: 'file', accept: '.csv,.json,text/csv,application/json'});
  const preview = h('div', {id: 'import-preview', hidden: true});
  const result = h('div', {id: 'import-result', hidden: true});
  let gen = 0;
  // The chosen file: its bytes, type and name, and the Idempotency-Key of its real run
  // (kept until it succeeds, so a retry after a lost answer creates nothing twice).
  let chosen = null;

  root.append(
    h('p', {class: 'crumbs'}, h('a', {href: '#/leads'}, `← ${t('nav.leads')}`)),
    pageHeader(t('import.title'), t('import.subtitle')),
    box,
    section(t('import.choose'),
      h('form', {class: 'form', 'data-form': 'import', onsubmit: (e) => e.preventDefault()},
        field(t('import.file'), fileInput, {wide: true, hint: t('import.fileHint')})),
      h('ul', {class: 'muted small import-help'}, h('li', t('import.helpHeaders')), h('li', t('import.helpEncodings')), h('li', t('import.helpDuplicates')))),
    preview, result);

  fileInput.addEventListener('change', () => choose(fileInput.files && fileInput.files[0]));

  async function choose(file) {
    const mine = ++gen;
    clearAlert(box);
    preview.hidden = true;
    result.hidden = true;
    clear(result);
    chosen = null;
    if (!file) return;
    if (file.size > MAX_BYTES) {
      showWarning(box, t('import.tooLarge', {size: fmtNum(Math.ceil(file.size / 1024))}));
      return;
    }
    replace(preview, loading());
    preview.hidden = false;
    try {
      const bytes = await file.arrayBuffer();
      const type = contentTypeOf(file);
      const r = await upload('/leads/import', bytes, type, {params: {dry_run: 'true'}});
      if (mine !== gen) return;
      chosen = {bytes, type, name: file.name, key: newKey()};
      drawPreview(r.data);
    } catch (e) {
      if (mine !== gen) return;
      preview.hidden = true;
      clear(preview);
      // Choosing the same file again, fixed, must be a change.
      fileInput.value = '';
      showError(box, e, h('div', {class: 'alert-extra'}, t('import.fileRefused', {name: file.name})));
    }
  }

  function counts(a, createdLabel) {
    const tile = (k, label, n, tone) => h('div', {class: ['tile', tone && n > 0 && `tile-${tone}`], 'data-count': k},
      h('div', {class: 'tile-label'}, label), h('div', {class: 'tile-value', 'data-value': String(n)}, fmtNum(n)));
    return h('div', {class: 'tiles tiles-sm'},
      tile('rows', t('import.rows'), a.rows || 0),
      tile('created', createdLabel, a.created || 0),
      tile('duplicates', t('import.duplicates'), (a.duplicates || []).length, 'warn'),
      tile('invalid', t('import.invalid'), (a.invalid || []).length, 'danger'));
  }

  function problems(a) {
    const dups = (a.duplicates || []).slice().sort((x, y) => x.row - y.row);
    const bad = (a.invalid || []).slice().sort((x, y) => x.row - y.row);
    return [
      h('div', {id: 'import-duplicates'}, h('h3', t('import.duplicateRows')), table([
        {label: t('import.row'), cell: (d) => String(d.row), class: 'num'},
        {label: t('import.duplicateOf'), cell: (d) => (d.existing_id ? [t('import.existingLead'), ' ', leadLink(d.existing_id)]
          : d.same_as_row ? t('import.sameAsRow', {n: d.same_as_row}) : '—')},
      ], dups, {rowAttrs: (d) => ({'data-row': String(d.row), 'data-existing-id': d.existing_id || ''}), empty: t('import.noDuplicates'),
        caption: t('import.duplicateRows')})),
      h('div', {id: 'import-invalid'}, h('h3', t('import.invalidRows')), table([
        {label: t('import.row'), cell: (d) => String(d.row), class: 'num'},
        {label: t('import.errors'), cell: (d) => h('ul', {class: 'changes'}, (d.errors || []).map((e) => h('li', {'data-field': e.field},
          h('span', {class: 'change-field'}, e.field), t('changes.sep'), e.message)))},
      ], bad, {rowAttrs: (d) => ({'data-row': String(d.row)}), empty: t('import.noInvalid'), caption: t('import.invalidRows')})),
    ];
  }

  function drawPreview(a) {
    const pbox = alertBox();
    const confirm = h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'confirm-import', disabled: !a.created,
      onclick: () => run(confirm, pbox)}, t('import.confirm', {n: fmtNum(a.created || 0)}));
    const cancel = h('button', {type: 'button', class: 'btn', 'data-action': 'cancel-import', onclick: () => {
      gen += 1;
      chosen = null;
      fileInput.value = '';
      preview.hidden = true;
      clear(preview);
    }}, t('common.cancel'));
    replace(preview, section(t('import.preview', {name: chosen.name}),
      h('p', {class: 'muted'}, a.created ? t('import.previewHint') : t('import.nothingToCreate')),
      counts(a, t('import.willCreate')),
      problems(a),
      pbox,
      h('div', {class: 'form-actions'}, cancel, confirm)));
    preview.dataset.rows = String(a.rows || 0);
    preview.hidden = false;
  }

  async function run(btn, pbox) {
    if (!chosen) return;
    const mine = gen;
    const file = chosen;
    btn.disabled = true;
    clearAlert(pbox);
    try {
      const r = await upload('/leads/import', file.bytes, file.type, {key: file.key, params: {dry_run: 'false'}});
      if (mine !== gen) return;
      chosen = null;
      fileInput.value = '';
      preview.hidden = true;
      clear(preview);
      drawResult(r.data, file.name);
    } catch (e) {
      if (mine !== gen) return;
      btn.disabled = false;
      showError(pbox, e);
    }
  }

  function drawResult(a, name) {
    const leads = (a.leads || []).slice().sort((x, y) => x.row - y.row);
    const rbox = alertBox();
    replace(result, section(t('import.result', {name}),
      rbox,
      counts(a, t('import.created')),
      h('div', {id: 'import-created'}, h('h3', t('import.createdLeads')), table([
        {label: t('import.row'), cell: (l) => String(l.row), class: 'num'},
        {label: t('import.lead'), cell: (l) => leadLink(l.id, t('import.openLead', {id: l.id}))},
      ], leads, {rowAttrs: (l) => ({'data-row': String(l.row), 'data-id': l.id}), empty: t('import.noneCreated'), caption: t('import.createdLeads')})),
      (a.duplicates || []).length || (a.invalid || []).length ? [h('p', {class: 'muted'}, t('import.skipped')), problems(a)] : null,
      h('div', {class: 'form-actions'}, h('a', {href: '#/leads', class: 'btn', 'data-action': 'to-leads'}, t('import.toLeads')))));
    if (a.created) showOk(rbox, t('import.done', {n: fmtNum(a.created)}));
    else showWarning(rbox, t('import.noneCreated'));
    result.dataset.created = String(a.created || 0);
    result.hidden = false;
  }

  return () => { gen += 1; };
}
