// Finance (回款): receivables, overdue or all, and recording a payment against a contract.
import {h, clear, replace, pageHeader, select, field, table, appendRows, alertBox, showError, clearAlert, showOk,
  badge, staffName, loadStaff, loading, isRole, assignableOptions, pagedList} from './_shared.js';
import {t, fmtDate, fmtMoney, fmtNum} from '../i18n.js';
import {get, getAll, staffList} from '../api.js';
import {paymentDialog} from './customers.js';

export async function render(root) {
  const box = alertBox();
  const listBox = h('div', loading());
  const more = h('button', {type: 'button', class: 'btn', hidden: true}, t('common.more'));
  const overdue = h('input', {type: 'checkbox', name: 'overdue'});
  const ownerSel = select('owner_id', [['', t('common.anyOwner')]]);
  const filters = h('form', {class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); reload(); }},
    h('div', {class: 'field field-check'}, h('label', {class: 'check'}, overdue, ' ', t('finance.overdueOnly'))),
    field(t('common.owner'), ownerSel));
  overdue.addEventListener('change', () => reload());
  ownerSel.addEventListener('change', () => reload());
  const mayRecord = isRole('finance', 'admin');
  const columns = [
    {label: t('finance.contract'), cell: (r) => h('div', {class: 'cell-main'}, h('span', {class: 'strong'}, r.contract_number),
      h('div', h('a', {href: `#/customers/${encodeURIComponent(r.customer_id)}`, class: 'small'}, r.customer_name || r.customer_id)))},
    {label: t('finance.installment'), cell: (r) => String(r.installment + 1), class: 'num'},
    {label: t('contracts.dueOn'), cell: (r) => fmtDate(r.due_on)},
    {label: t('opps.amount'), cell: (r) => fmtMoney(r.amount, r.currency), class: 'num'},
    {label: t('contracts.paid'), cell: (r) => fmtMoney(r.paid, r.currency), class: 'num'},
    {label: t('finance.outstanding'), cell: (r) => h('span', {class: 'strong'}, fmtMoney(r.outstanding, r.currency)), class: 'num'},
    {label: t('common.state'), cell: (r) => [badge('installment', r.status), r.days_overdue ? h('span', {class: 'warn small'}, ` ${t('contracts.daysOverdue', {n: fmtNum(r.days_overdue)})}`) : null]},
    {label: t('common.owner'), cell: (r) => staffName(r.owner_id)},
    {label: '', class: 'actions', cell: (r) => (mayRecord ? h('button', {type: 'button', class: 'btn btn-sm btn-primary', 'data-action': 'record-payment',
      onclick: () => paymentFor(r)}, t('payments.record')) : null)},
  ];
  const rowAttrs = (r) => ({'data-id': r.contract_id, 'data-installment': String(r.installment), class: r.status === 'overdue' ? 'row-danger' : null});
  const fp = () => ({overdue: overdue.checked ? 'true' : undefined, owner_id: ownerSel.value});
  const {reload, stop} = pagedList({path: '/receivables', params: fp, columns, rowAttrs, limit: 100,
    empty: t('finance.empty'), caption: t('finance.receivables'), box, listBox, more});

  async function paymentFor(r) {
    try {
      const k = await get(`/contracts/${encodeURIComponent(r.contract_id)}`);
      paymentDialog(k, (res) => afterPayment(res));
    } catch (e) { showError(box, e); }
  }
  async function paymentAny() {
    try {
      const contracts = await getAll('/contracts', {status: 'active'});
      paymentDialog(null, (res) => afterPayment(res), contracts);
    } catch (e) { showError(box, e); }
  }
  async function afterPayment() {
    await reload();
    showOk(box, t('payments.recorded'));
  }

  root.append(pageHeader(t('nav.finance'), t('finance.subtitle'),
    mayRecord ? h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'new-payment', onclick: paymentAny}, t('payments.record')) : null),
  box, h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', t('finance.receivables'))), filters, listBox, h('div', {class: 'more-row'}, more)));
  const staff = await staffList().catch(() => []);
  await loadStaff().catch(() => {});
  for (const [v, l] of assignableOptions(staff)) ownerSel.append(h('option', {value: v}, l));
  await reload();
  return stop;
}
