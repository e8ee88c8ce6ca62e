// Audit: the live event feed (newest first) with stream and type filters, each event
// expandable to its JSON and hash; and the hash-chain verification.
import {h, clear, replace, pageHeader, section, input, field, alertBox, showError, clearAlert, staffName,
  loadStaff, loadDepartments, loading, eventChanges} from './_shared.js';
import {t, tEnum, fmtDateTime, fmtNum} from '../i18n.js';
import {get, request, ApiError} from '../api.js';
import * as live from '../live.js';

const PAGE = 100;
const MAX_SHOWN = 1000;

export async function render(root) {
  const box = alertBox();
  const feed = h('div', {id: 'event-feed', class: 'event-feed', 'aria-live': 'off'});
  const more = h('button', {type: 'button', class: 'btn', hidden: true}, t('audit.older'));
  const stream = input('stream', {placeholder: t('audit.streamHint')});
  const type = input('type', {placeholder: t('audit.typeHint'), list: 'event-types'});
  const counter = h('span', {class: 'muted small', 'aria-live': 'polite'});
  const filters = h('form', {class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); start(); }},
    field(t('audit.stream'), stream), field(t('audit.type'), type),
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'submit', class: 'btn'}, t('common.filter'))),
    h('div', {class: 'toolbar-btn'}, h('button', {type: 'button', class: 'btn btn-ghost', onclick: () => { stream.value = ''; type.value = ''; start(); }}, t('common.clear'))));
  const types = h('datalist', {id: 'event-types'});

  const verifyBtn = h('button', {type: 'button', class: 'btn btn-primary', id: 'verify'}, t('audit.verify'));
  const verifyResult = h('div', {id: 'verify-result', class: 'verify-result', role: 'status', 'aria-live': 'polite'});
  verifyBtn.addEventListener('click', async () => {
    verifyBtn.disabled = true;
    replace(verifyResult, t('audit.verifying'));
    verifyResult.dataset.ok = '';
    try {
      const r = await get('/audit/verify');
      verifyResult.dataset.ok = String(!!r.ok);
      if (r.ok) {
        replace(verifyResult, h('strong', {class: 'ok'}, t('audit.verifyOk')),
          h('dl', {class: 'facts'},
            h('div', {class: 'fact'}, h('dt', t('audit.events')), h('dd', {'data-field': 'events'}, String(r.events))),
            h('div', {class: 'fact'}, h('dt', t('audit.headPosition')), h('dd', {'data-field': 'head_position'}, String(r.head_position))),
            h('div', {class: 'fact'}, h('dt', t('audit.headHash')), h('dd', {'data-field': 'head_hash', class: 'mono hash'}, r.head_hash))));
      } else {
        replace(verifyResult, h('strong', {class: 'bad'}, t('audit.verifyBad')),
          h('dl', {class: 'facts'},
            h('div', {class: 'fact'}, h('dt', t('audit.firstBad')), h('dd', {'data-field': 'first_bad_position'}, String(r.first_bad_position))),
            r.detail ? h('div', {class: 'fact'}, h('dt', t('audit.detail')), h('dd', r.detail)) : null));
      }
    } catch (e) {
      clear(verifyResult);
      showError(box, e);
    } finally { verifyBtn.disabled = false; }
  });

  root.append(pageHeader(t('nav.audit'), t('audit.subtitle')), box,
    section(t('audit.verifyTitle'), h('p', {class: 'muted small'}, t('audit.verifyHint')), verifyBtn, verifyResult),
    h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', t('audit.feed')), counter), filters, types, feed, h('div', {class: 'more-row'}, more)));
  await Promise.all([loadStaff().catch(() => {}), loadDepartments().catch(() => {})]);

  const seenTypes = new Set();
  let unsubscribe = null;
  let gen = 0;
  let oldest = null;  // the oldest position shown (unfiltered paging)
  let filteredCursor = null;

  function matches(e) {
    return (!stream.value.trim() || e.stream === stream.value.trim()) && (!type.value.trim() || e.type === type.value.trim());
  }

  // The currency of each opportunity and contract seen, for the amounts of its edits and
  // reversals; the number of each invoice seen, for its voiding (whose event has none).
  const currencies = new Map();
  const invoiceNumbers = new Map();
  function changesOf(e) {
    const data = e.data && typeof e.data === 'object' ? e.data : {};
    if (typeof data.currency === 'string') currencies.set(e.stream, data.currency);
    if (e.type === 'InvoiceIssued' && data.number) invoiceNumbers.set(e.stream, data.number);
    const node = eventChanges(e, {currency: currencies.get(e.stream), invoiceNumber: invoiceNumbers.get(e.stream)});
    const cur = Array.isArray(data.changes) ? data.changes.find((c) => c.field === 'currency') : null;
    if (cur && cur.new) currencies.set(e.stream, cur.new);
    return node;
  }

  function eventNode(e) {
    if (!seenTypes.has(e.type)) { seenTypes.add(e.type); types.append(h('option', {value: e.type})); }
    return h('details', {class: 'event', 'data-position': String(e.position), 'data-type': e.type, 'data-stream': e.stream},
      h('summary', {class: 'event-sum'},
        h('span', {class: 'event-pos mono'}, `#${e.position}`),
        h('span', {class: 'event-type'}, h('span', {class: 'strong'}, tEnum('event', e.type)), h('span', {class: 'muted small mono'}, ` ${e.type}`)),
        h('span', {class: 'event-stream mono small'}, e.stream),
        h('span', {class: 'event-actor small'}, staffName(e.actor)),
        h('time', {class: 'event-at small muted', datetime: e.at}, fmtDateTime(e.at)),
        changesOf(e)),
      h('div', {class: 'event-body'},
        h('div', {class: 'small'}, h('span', {class: 'muted'}, `${t('audit.hash')}: `), h('code', {class: 'mono hash'}, e.hash)),
        h('pre', {class: 'json'}, JSON.stringify(e, null, 2))));
  }

  function countLabel() {
    counter.textContent = t('audit.shown', {n: fmtNum(feed.children.length)});
  }

  function prepend(e) {
    if (feed.querySelector(`[data-position="${e.position}"]`)) return;
    // Newest first: live events arrive in log order, so they go on top.
    feed.insertBefore(eventNode(e), feed.firstChild);
    while (feed.children.length > MAX_SHOWN) feed.lastChild.remove();
    countLabel();
  }

  async function start() {
    const mine = ++gen;
    clearAlert(box);
    if (unsubscribe) { unsubscribe(); unsubscribe = null; }
    replace(feed, loading());
    more.hidden = true;
    const filtered = !!(stream.value.trim() || type.value.trim());
    let head = 0;
    try {
      if (filtered) {
        const page = await get('/events', {after: 0, limit: 500, stream: stream.value.trim(), type: type.value.trim()});
        if (mine !== gen) return;
        clear(feed);
        const items = page.items || [];
        for (const e of items) prepend(e);
        filteredCursor = page.next_cursor;
        head = items.length ? items[items.length - 1].position : 0;
        if (filteredCursor) {
          // Page forward to the newest matching events (older ones stay behind "older").
          let cursor = filteredCursor;
          while (cursor && mine === gen) {
            const p = await get('/events', {limit: 500, stream: stream.value.trim(), type: type.value.trim(), cursor});
            for (const e of p.items || []) prepend(e);
            cursor = p.next_cursor;
          }
        }
      } else {
        // The head: what the read side reflects (X-Position of a query).
        const r = await request('GET', '/events', {params: {after: 0, limit: 1}});
        head = parseInt(r.headers.get('X-Position') || '0', 10) || 0;
        const after = Math.max(0, head - PAGE);
        const page = await get('/events', {after, limit: PAGE});
        if (mine !== gen) return;
        clear(feed);
        for (const e of page.items || []) prepend(e);
        const items = page.items || [];
        if (items.length) head = Math.max(head, items[items.length - 1].position);
        oldest = items.length ? items[0].position : null;
        more.hidden = !(oldest && oldest > 1);
      }
      if (!feed.children.length) feed.append(h('p', {class: 'muted empty-feed'}, t('audit.none')));
      countLabel();
    } catch (e) {
      if (mine === gen) { clear(feed); showError(box, e); }
      return;
    }
    if (mine !== gen) return;
    unsubscribe = live.subscribe({topic: 'events', after: head}, (msg) => {
      if (mine !== gen) return;
      if (msg.type === 'error') { showError(box, new ApiError({code: msg.code, detail: msg.detail})); return; }
      if (msg.type !== 'event' || !msg.event) return;
      const empty = feed.querySelector('.empty-feed');
      if (!matches(msg.event)) return;
      if (empty) empty.remove();
      prepend(msg.event);
    });
  }

  more.addEventListener('click', async () => {
    if (!oldest || oldest <= 1) return;
    more.disabled = true;
    try {
      const after = Math.max(0, oldest - 1 - PAGE);
      const page = await get('/events', {after, limit: oldest - 1 - after});
      const items = (page.items || []).filter((e) => e.position < oldest);
      for (let i = items.length - 1; i >= 0; i--) feed.append(eventNode(items[i]));
      if (items.length) oldest = items[0].position;
      more.hidden = oldest <= 1;
      countLabel();
    } catch (e) { showError(box, e); } finally { more.disabled = false; }
  });

  await start();
  return () => { gen += 1; if (unsubscribe) unsubscribe(); };
}
