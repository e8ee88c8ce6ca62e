// A contract's money beyond the plan, shared by the Customer 360 and the finance page:
// its payments (reversed ones struck through, with the reversal's date and reason, and
// 冲销 for finance and admins) and its invoices (发票: record, void).
import {h, table, field, input, select, textarea, formDialog, FormInvalid, parseAmount, todayYmd, isRole, staffName,
  showError, markField} from './_shared.js';
import {t, tEnum, fmtDate, fmtDateTime, fmtMoney} from '../i18n.js';
import {post, ApiError} from '../api.js';

const KINDS = ['vat_special', 'vat_normal'];

export const mayHandleMoney = () => isRole('finance', 'admin');

// The payments table. opts: {readOnly, onChanged}: without readOnly, finance and admins
// get a Reverse button on each payment not reversed yet.
export function paymentsTable(k, {readOnly, onChanged} = {}) {
  const act = !readOnly && mayHandleMoney();
  return table([
    {label: t('payments.receivedOn'), cell: (p) => fmtDate(p.received_on)},
    {label: t('opps.amount'), cell: (p) => h('span', {class: p.reversed ? 'struck' : null}, fmtMoney(p.amount, k.currency)), class: 'num'},
    {label: t('payments.method'), cell: (p) => p.method || '—'},
    {label: t('payments.reference'), cell: (p) => [p.reference || '—', p.reversed && p.reversal ? h('div', {class: 'reversal small', 'data-reversal': 'true'},
      h('span', {class: 'badge badge-red'}, t('payments.reversed')), ' ',
      t('payments.reversedLine', {on: fmtDate(p.reversal.on), by: staffName(p.reversal.by), reason: p.reversal.reason || '—'})) : null]},
    act ? {label: '', class: 'actions', cell: (p) => (p.reversed ? null : h('button', {type: 'button', class: 'btn btn-sm btn-danger', 'data-action': 'reverse-payment',
      'aria-label': t('payments.reverseNamed', {amount: fmtMoney(p.amount, k.currency), on: fmtDate(p.received_on)}),
      onclick: () => reversePayment(k, p, onChanged)}, t('payments.reverse')))} : null,
  ].filter(Boolean), k.payments || [], {rowAttrs: (p) => ({'data-id': p.id, 'data-reversed': p.reversed ? 'true' : 'false', class: p.reversed ? 'row-reversed' : null}),
    empty: t('payments.none')});
}

// 冲销: a reason, then a confirmation naming the amount.
export function reversePayment(k, p, onDone) {
  return formDialog(t('payments.reverse'), [
    h('p', {class: 'field-wide confirm-text'}, t('payments.reverseConfirm', {amount: fmtMoney(p.amount, k.currency), on: fmtDate(p.received_on), number: k.number})),
    field(t('common.reason'), textarea('reason', {maxlength: 1000}), {required: true, wide: true}),
  ], (v, key) => post(`/contracts/${encodeURIComponent(k.id)}/payments/${encodeURIComponent(p.id)}/reverse`, {reason: v.reason}, {key}),
  {danger: true, submitLabel: t('payments.reverse'), onDone: () => onDone && onDone(t('payments.reversedMsg'))});
}

// The invoices of a contract: a table (a line of text while there are none), and for
// finance and admins Record / Void.
export function invoicesArea(k, {readOnly, onChanged} = {}) {
  const act = !readOnly && mayHandleMoney();
  const list = k.invoices || [];
  return h('div', {class: 'invoices', 'data-contract': k.id},
    h('div', {class: 'card-head tight'}, h('h3', t('invoices.title')),
      h('span', {class: 'muted small', 'data-field': 'invoiced'}, t('invoices.invoicedOf', {inv: fmtMoney(k.invoiced || 0, k.currency), total: fmtMoney(k.amount, k.currency)})),
      act ? h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'record-invoice', onclick: () => invoiceDialog(k, onChanged)}, t('invoices.record')) : null),
    !list.length ? h('p', {class: 'muted small', 'data-empty': 'invoices'}, t('invoices.none')) : table([
      {label: t('invoices.number'), cell: (x) => h('span', {class: ['mono', x.status === 'voided' && 'struck']}, x.number)},
      {label: t('invoices.issuedOn'), cell: (x) => fmtDate(x.issued_on)},
      {label: t('invoices.kind'), cell: (x) => tEnum('invoiceKind', x.kind)},
      {label: t('opps.amount'), cell: (x) => h('span', {class: x.status === 'voided' ? 'struck' : null}, fmtMoney(x.amount, x.currency)), class: 'num'},
      {label: t('invoices.taxRate'), cell: (x) => (x.tax_rate_pct === null || x.tax_rate_pct === undefined ? '—' : `${x.tax_rate_pct}%`), class: 'num'},
      {label: t('common.state'), cell: (x) => [badge(x.status), x.status === 'voided' ? h('div', {class: 'muted small'},
        t('invoices.voidedLine', {at: x.voided_at ? fmtDateTime(x.voided_at) : '—', reason: x.void_reason || '—'})) : null]},
      act ? {label: '', class: 'actions', cell: (x) => (x.status === 'issued' ? h('button', {type: 'button', class: 'btn btn-sm btn-danger', 'data-action': 'void-invoice',
        'aria-label': t('invoices.voidNamed', {number: x.number}), onclick: () => voidInvoice(x, onChanged)}, t('invoices.void')) : null)} : null,
    ].filter(Boolean), list, {rowAttrs: (x) => ({'data-id': x.id, 'data-status': x.status})}));
}

function badge(status) {
  return h('span', {class: ['badge', status === 'issued' ? 'badge-green' : 'badge-gray'], 'data-value': status}, tEnum('invoiceStatus', status));
}

// Record an invoice: the amount in yuan (as the other money inputs), issued today unless
// said otherwise; duplicate numbers and over-invoicing are explained in the form.
export function invoiceDialog(k, onDone) {
  const left = Math.max(0, k.amount - (k.invoiced || 0));
  return formDialog(t('invoices.record'), [
    h('p', {class: 'field-wide muted'}, t('invoices.forContract', {number: k.number, left: fmtMoney(left, k.currency)})),
    field(t('invoices.number'), input('number', {maxlength: 64}), {required: true}),
    field(t('invoices.amountYuan'), input('amount', {inputmode: 'decimal'}), {required: true, hint: k.currency}),
    field(t('invoices.issuedOn'), input('issued_on', {type: 'date', value: todayYmd()}), {required: true}),
    field(t('invoices.kind'), select('kind', KINDS.map((x) => [x, tEnum('invoiceKind', x)]))),
    field(t('invoices.taxRatePct'), input('tax_rate_pct', {type: 'number', min: 0, max: 100, step: 1, inputmode: 'numeric'})),
  ], (v, key) => {
    const amount = parseAmount(v.amount, k.currency);
    const bad = [];
    if (amount === null) bad.push(['amount', t('form.invalidAmount')]);
    let rate;
    if (v.tax_rate_pct !== undefined) {
      rate = Number(v.tax_rate_pct);
      if (!Number.isInteger(rate) || rate < 0 || rate > 100) bad.push(['tax_rate_pct', t('invoices.badRate')]);
    }
    if (bad.length) throw new FormInvalid(bad);
    const body = {number: v.number, amount, currency: k.currency, issued_on: v.issued_on, kind: v.kind};
    if (rate !== undefined) body.tax_rate_pct = rate;
    return post(`/contracts/${encodeURIComponent(k.id)}/invoices`, body, {key});
  }, {
    submitLabel: t('invoices.record'),
    onDone: () => onDone && onDone(t('invoices.recorded')),
    onError: (err, box) => {
      if (!(err instanceof ApiError)) return false;
      const form = box.closest('form');
      if (err.code === 'duplicate_invoice_number') {
        markField(form, 'number', t('error.duplicate_invoice_number'));
        showError(box, err, h('div', {class: 'alert-extra', 'data-error': err.code}, t('invoices.duplicateHelp', {number: form.elements.namedItem('number').value})));
        return true;
      }
      if (err.code === 'overinvoiced') {
        // The server's detail counts in minor units (fen); say it in money instead.
        markField(form, 'amount', t('invoices.overField', {left: fmtMoney(left, k.currency)}));
        showError(box, Object.assign(Object.create(ApiError.prototype), err, {detail: null}), h('div', {class: 'alert-extra', 'data-error': err.code}, t('invoices.overHelp', {left: fmtMoney(left, k.currency)})));
        return true;
      }
      return false;
    },
  });
}

export function voidInvoice(x, onDone) {
  return formDialog(t('invoices.void'), [
    h('p', {class: 'field-wide confirm-text'}, t('invoices.voidConfirm', {number: x.number, amount: fmtMoney(x.amount, x.currency)})),
    field(t('common.reason'), textarea('reason', {maxlength: 1000}), {required: true, wide: true}),
  ], (v, key) => post(`/invoices/${encodeURIComponent(x.id)}/void`, {reason: v.reason}, {key}),
  {danger: true, submitLabel: t('invoices.void'), onDone: () => onDone && onDone(t('invoices.voided'))});
}
