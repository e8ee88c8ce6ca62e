// 14. Payment reversal (冲销): finance reverses a payment on the finance page; the
//     contract is active again with less paid; the owner sees the reversal read-only.
// 15. Invoices (发票): finance records an invoice on the Customer 360, is told why a
//     too-large one is refused (overinvoiced) and why a reused number is, voids one;
//     the totals show what is invoiced.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fixture, T, openRoute, nextResponse, screenshot, waitUntil, businessToday, businessDay, uniq} from './harness.js';

const ctx = fixture();

const TOP = 'dialog[open]:last-of-type';

// A customer of rep1 with a one-installment contract of `amount` fen. → {customer, contract}.
async function contractFor(name, amount) {
  const rep1 = await ctx.api('rep1');
  const c = await rep1.post('/customers', {name, industry: '软件', region: '上海', level: 'B'}, {expect: 201});
  const k = await rep1.post('/contracts', {customer_id: c.id, number: uniq('HT-'), title: '技术服务合同', amount, currency: 'CNY',
    signed_on: businessToday(), installments: [{due_on: businessDay(20), amount}]}, {expect: 201});
  return {customer: c.id, contract: k.id};
}

// Waits until the read side shows `pred` of the contract.
async function contractWhen(api, id, pred, message) {
  let k = null;
  await waitUntil(async () => { k = await api.get(`/contracts/${id}`); return pred(k); }, {message});
  return k;
}

async function fill(page, selector, text) {
  await page.$eval(selector, (el) => { el.value = ''; });
  await page.type(selector, text);
}

test('finance reverses a payment on the finance page: the contract is active again with less paid', {timeout: T.test}, async () => {
  const fin = await ctx.api('finance');
  const {customer, contract} = await contractFor('上海冲销测试有限公司', 5000000);
  const pay = await fin.post(`/contracts/${contract}/payments`, {amount: 5000000, received_on: businessToday(), method: '银行转账', reference: 'BANK-R1'}, {expect: 201});
  await contractWhen(fin, contract, (k) => k.status === 'paid', 'the contract to be paid');

  const page = await ctx.signedIn('finance');
  await openRoute(page, '#/finance', 'finance', {ready: `#finance-contracts tr[data-id="${contract}"]`});
  await page.click(`#finance-contracts tr[data-id="${contract}"] [data-action="open-contract"]`);
  const row = `dialog[open] .ledger tr[data-id="${pay.id}"]`;
  await page.waitForSelector(`${row} [data-action="reverse-payment"]`, {visible: true});
  await page.click(`${row} [data-action="reverse-payment"]`);
  const form = `${TOP} form`;
  await page.waitForSelector(`${form} textarea[name="reason"]`, {visible: true});
  const confirmText = await page.$eval(`${form} .confirm-text`, (e) => e.textContent);
  assert.ok(confirmText.includes('50,000.00'), `the confirmation names the amount: ${confirmText}`);
  await page.type(`${form} textarea[name="reason"]`, '银行退票，款项未到账');
  const answer = nextResponse(page, (r) => r.url().includes(`/payments/${pay.id}/reverse`) && r.request().method() === 'POST', 'POST …/reverse');
  await page.click(`${form} button[type="submit"]`);
  const res = await answer;
  assert.equal(res.status(), 200, `the reversal answered ${res.status()}`);
  assert.deepEqual(JSON.parse(res.request().postData()), {reason: '银行退票，款项未到账'});

  // The dialog shows the payment struck through, with the reversal's date and reason.
  await page.waitForSelector(`${row}[data-reversed="true"] .reversal`, {visible: true});
  const note = await page.$eval(`${row} .reversal`, (e) => e.textContent);
  assert.ok(note.includes('银行退票，款项未到账'), `the reason is shown: ${note}`);
  assert.equal(await page.$(`${row} [data-action="reverse-payment"]`), null, 'a reversed payment cannot be reversed again');
  assert.ok(await page.$(`${row} .struck`), 'the amount is struck through');
  await page.waitForFunction(() => document.querySelector('dialog[open] .ledger [data-field="status"]')?.textContent.trim() === '执行中');
  await screenshot(page, 'payment-reversed');

  const k = await contractWhen(fin, contract, (x) => x.status === 'active', 'the contract to be active again');
  assert.equal(k.paid, 0, 'nothing is paid any more');
  assert.equal(k.outstanding, 5000000);
  const p = k.payments.find((x) => x.id === pay.id);
  assert.equal(p.reversed, true);
  assert.equal(p.reversal.reason, '银行退票，款项未到账');

  // The owner sees it read-only on the Customer 360, and the history reads it.
  const owner = await ctx.signedIn('rep1');
  await openRoute(owner, `#/customers/${customer}`, 'customer', {ready: `article.contract[data-id="${contract}"] tr[data-id="${pay.id}"][data-reversed="true"]`});
  assert.equal(await owner.$('[data-action="reverse-payment"], [data-action="record-invoice"], [data-action="void-invoice"]'), null, 'no money actions for sales');
  await owner.waitForSelector('.timeline.events [data-event="PaymentReversed"]');
  const line = await owner.$eval('.timeline.events [data-event="PaymentReversed"]', (e) => e.textContent);
  assert.ok(line.includes('银行退票') && line.includes('50,000.00'), `the history reads the reversal: ${line}`);

  // The audit feed reads it too.
  const auditor = await ctx.signedIn('admin');
  await openRoute(auditor, '#/audit', 'audit', {ready: '#event-feed [data-type="PaymentReversed"] [data-event="PaymentReversed"]'});
  const feedLine = await auditor.$eval('#event-feed [data-type="PaymentReversed"] [data-event="PaymentReversed"]', (e) => e.textContent);
  assert.ok(feedLine.includes('银行退票') && feedLine.includes('50,000.00'), `the audit feed reads the reversal: ${feedLine}`);
});

test('finance records an invoice, is told why a too-large one and a reused number are refused, voids one', {timeout: T.test}, async () => {
  const fin = await ctx.api('finance');
  const {customer, contract} = await contractFor('杭州开票测试有限公司', 10000000);
  await fin.post(`/contracts/${contract}/payments`, {amount: 3000000, received_on: businessToday()}, {expect: 201});
  const number = uniq('FP');

  const page = await ctx.signedIn('finance');
  const card = `article.contract[data-id="${contract}"]`;
  await openRoute(page, `#/customers/${customer}`, 'customer', {ready: `${card} [data-action="record-invoice"]`});

  async function record(num, yuan, {kind, rate} = {}) {
    await page.click(`${card} [data-action="record-invoice"]`);
    const form = `${TOP} form`;
    await page.waitForSelector(`${form} input[name="number"]`, {visible: true});
    assert.equal(await page.$eval(`${form} input[name="issued_on"]`, (e) => e.value), businessToday(), 'issued today by default');
    await fill(page, `${form} input[name="number"]`, num);
    await fill(page, `${form} input[name="amount"]`, yuan);
    if (kind) await page.select(`${form} select[name="kind"]`, kind);
    if (rate !== undefined) await fill(page, `${form} input[name="tax_rate_pct"]`, String(rate));
    const answer = nextResponse(page, (r) => r.url().endsWith(`/contracts/${contract}/invoices`) && r.request().method() === 'POST', 'POST …/invoices');
    await page.click(`${form} button[type="submit"]`);
    return {form, res: await answer};
  }

  const first = await record(number, '40,000', {kind: 'vat_special', rate: 6});
  assert.equal(first.res.status(), 201);
  assert.deepEqual(JSON.parse(first.res.request().postData()),
    {number, amount: 4000000, currency: 'CNY', issued_on: businessToday(), kind: 'vat_special', tax_rate_pct: 6});
  const invId = (await first.res.json()).id;
  await page.waitForSelector(`${card} .invoices tr[data-id="${invId}"][data-status="issued"]`);
  const kindText = await page.$eval(`${card} .invoices tr[data-id="${invId}"]`, (e) => e.textContent);
  assert.ok(kindText.includes('增值税专用发票'), kindText);

  // 70,000 more would pass the contract's 100,000.
  const over = await record(uniq('FP'), '70000');
  assert.equal(over.res.status(), 422);
  await page.waitForSelector(`${over.form} .alert [data-error="overinvoiced"]`, {visible: true});
  const overText = await page.$eval(`${over.form} .alert`, (e) => e.textContent);
  assert.ok(overText.includes('60,000.00'), `the form says how much may still be invoiced: ${overText}`);
  await screenshot(page, 'invoice-overinvoiced');
  await page.click(`${over.form} .form-actions button[type="button"]`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));

  // The same number again.
  const dup = await record(number, '100');
  assert.equal(dup.res.status(), 409);
  await page.waitForSelector(`${dup.form} .alert [data-error="duplicate_invoice_number"]`, {visible: true});
  const dupText = await page.$eval(`${dup.form} .alert`, (e) => e.textContent);
  assert.ok(dupText.includes(number), `the form names the number: ${dupText}`);
  await screenshot(page, 'invoice-duplicate-number');
  await page.click(`${dup.form} .form-actions button[type="button"]`);
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));

  // Totals: 40,000 invoiced, 10,000 of it unpaid; nothing paid un-invoiced.
  await page.waitForFunction(() => document.querySelector('[data-tile="totals.invoiced"] .tile-value')?.dataset.value === '{"CNY":4000000}');
  assert.equal(await page.$eval('[data-tile="totals.invoiced_unpaid"] .tile-value', (e) => e.dataset.value), '{"CNY":1000000}');

  // Void it.
  await page.click(`${card} .invoices tr[data-id="${invId}"] [data-action="void-invoice"]`);
  const vform = `${TOP} form`;
  await page.waitForSelector(`${vform} textarea[name="reason"]`, {visible: true});
  await page.type(`${vform} textarea[name="reason"]`, '抬头错误，重开');
  const answer = nextResponse(page, (r) => r.url().endsWith(`/invoices/${invId}/void`) && r.request().method() === 'POST', 'POST …/void');
  await page.click(`${vform} button[type="submit"]`);
  assert.equal((await answer).status(), 200);
  await page.waitForSelector(`${card} .invoices tr[data-id="${invId}"][data-status="voided"]`);
  assert.equal(await page.$(`${card} .invoices tr[data-id="${invId}"] [data-action="void-invoice"]`), null, 'a voided invoice has no Void');

  const inv = await fin.get(`/invoices/${invId}`);
  assert.equal(inv.status, 'voided');
  assert.equal(inv.void_reason, '抬头错误，重开');
  const list = await fin.get(`/invoices?contract_id=${contract}`);
  assert.deepEqual(list.items.map((x) => [x.id, x.status]), [[invId, 'voided']], 'only the one invoice was recorded');
  const k = await contractWhen(fin, contract, (x) => x.invoiced === 0, 'nothing invoiced after the void');
  assert.equal(k.invoices.length, 1);

  // The history reads the invoice events.
  await page.waitForSelector('.timeline.events [data-event="InvoiceVoided"]');
  const issued = await page.$eval('.timeline.events [data-event="InvoiceIssued"]', (e) => e.textContent);
  assert.ok(issued.includes(number) && issued.includes('40,000.00'), `the history reads the invoice: ${issued}`);
  const voided = await page.$eval('.timeline.events [data-event="InvoiceVoided"]', (e) => e.textContent);
  assert.ok(voided.includes(number) && voided.includes('抬头错误'), `the history reads the void: ${voided}`);
});
