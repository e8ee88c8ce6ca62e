// Finance (回款): receivables, overdue or all, and recording a payment against a contract.
import {h, clear, replace, pageHeader, select, field, table, appendRows, alertBox, showError, clearAlert, showOk,
  badge, staffName, loadStaff, loading, isRole, assignableOptions, pagedList, openDialog, facts, exportButtons} from './_shared.js';
import {t, fmtDate, fmtMoney, fmtNum} from '../i18n.js';
import {get, getAll, staffList} from '../api.js';
import {paymentDialog} from './customers.js';
import {paymentsTable, invoicesArea} from './_contract.js';

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
    await Promise.all([reload(), loadContracts()]);
    showOk(box, t('payments.recorded'));
  }

  // Contracts, paid ones included (a reversal or an invoice may concern them): each opens
  // its payments and invoices.
  const statusSel = select('status', [['', t('finance.anyStatus')], ['active', t('contractStatus.active')], ['paid', t('contractStatus.paid')]]);
  const contractsBox = h('div', loading());
  statusSel.addEventListener('change', () => loadContracts());
  async function loadContracts() {
    try {
      const list = await getAll('/contracts', {status: statusSel.value || undefined});
      replace(contractsBox, table([
        {label: t('finance.contract'), cell: (k) => h('div', {class: 'cell-main'}, h('span', {class: 'strong'}, k.number), h('div', {class: 'small muted'}, k.title))},
        {label: t('opps.amount'), cell: (k) => fmtMoney(k.amount, k.currency), class: 'num'},
        {label: t('contracts.paid'), cell: (k) => fmtMoney(k.paid, k.currency), class: 'num'},
        {label: t('invoices.invoiced'), cell: (k) => (k.invoiced === undefined ? '—' : fmtMoney(k.invoiced, k.currency)), class: 'num'},
        {label: t('common.state'), cell: (k) => badge('contractStatus', k.status)},
        {label: '', class: 'actions', cell: (k) => h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'open-contract',
          'aria-label': t('finance.openNamed', {number: k.number}), onclick: () => openContract(k.id)}, t('finance.paymentsInvoices'))},
      ], list, {rowAttrs: (k) => ({'data-id': k.id}), empty: t('contracts.none'), caption: t('finance.contracts')}));
    } catch (e) { clear(contractsBox); showError(box, e); }
  }

  // One contract's payments (冲销) and invoices (发票) in a dialog, drawn again after each
  // change; the lists behind it follow.
  async function openContract(contractId) {
    const body = h('div', {class: 'ledger', 'data-contract': contractId}, loading());
    const dbox = alertBox();
    const dlg = openDialog(t('finance.paymentsInvoices'), h('div', dbox, body), {wide: true});
    const draw = async (msg) => {
      try {
        const k = await get(`/contracts/${encodeURIComponent(contractId)}`);
        const changed = async (m) => { await draw(m); reload(); loadContracts(); };
        replace(body,
          h('div', {class: 'contract-summary'}, facts([
            [t('finance.contract'), `${k.number} · ${k.title}`],
            [t('common.state'), badge('contractStatus', k.status), 'status'],
            [t('opps.amount'), fmtMoney(k.amount, k.currency)],
            [t('contracts.paid'), fmtMoney(k.paid, k.currency), 'paid'],
            [t('finance.outstanding'), fmtMoney(k.outstanding, k.currency)],
            [t('invoices.invoiced'), fmtMoney(k.invoiced || 0, k.currency), 'invoiced'],
            [t('finance.customer'), h('a', {href: `#/customers/${encodeURIComponent(k.customer_id)}`, onclick: () => dlg.close()}, t('finance.openCustomer'))],
          ])),
          h('h3', t('contracts.payments')), paymentsTable(k, {onChanged: changed}),
          invoicesArea(k, {onChanged: changed}));
        if (msg) showOk(dbox, msg); else clearAlert(dbox);
      } catch (e) { showError(dbox, e); }
    };
    await draw();
  }

  root.append(pageHeader(t('nav.finance'), t('finance.subtitle'),
    mayRecord ? h('button', {type: 'button', class: 'btn btn-primary', 'data-action': 'new-payment', onclick: paymentAny}, t('payments.record')) : null),
  box, h('section', {class: 'card', id: 'finance-receivables'}, h('div', {class: 'card-head'}, h('h2', t('finance.receivables')),
    h('div', {class: 'card-actions'}, exportButtons('/receivables/export', fp, box))), filters, listBox, h('div', {class: 'more-row'}, more)),
  h('section', {class: 'card', id: 'finance-contracts'}, h('div', {class: 'card-head'}, h('h2', t('finance.contracts'))),
    h('form', {class: 'toolbar', onsubmit: (e) => e.preventDefault()}, field(t('common.state'), statusSel)), contractsBox));
  const staff = await staffList().catch(() => []);
  await loadStaff().catch(() => {});
  for (const [v, l] of assignableOptions(staff)) ownerSel.append(h('option', {value: v}, l));
  await Promise.all([reload(), loadContracts()]);
  return stop;
}
