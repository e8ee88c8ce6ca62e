// The one WebSocket to /api/v1/live: authenticates with its first message, keeps the
// current subscriptions and sends them again after every reconnect, reconnects with
// backoff (0.5 s doubling to 10 s, with jitter), and reports its state.
import {getSession, expireSession} from './api.js';

const MIN_DELAY = 500;
const MAX_DELAY = 10000;

let ws = null;
let state = 'offline';
let delay = MIN_DELAY;
let timer = null;
let wanted = false;  // whether a connection should be kept open
const subs = new Map();  // name → {msg, handler, lastPosition}
const stateListeners = new Set();

function setState(s) {
  if (s === state) return;
  state = s;
  for (const fn of stateListeners) fn(s);
}

export function status() { return state; }
export function onStatus(fn) { stateListeners.add(fn); fn(state); return () => stateListeners.delete(fn); }

function nameOf(msg) {
  return msg.topic === 'customer' ? `customer:${msg.id}` : msg.topic;
}

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function subscribeMessage(sub) {
  if (sub.msg.topic === 'events' && sub.lastPosition !== null) {
    return {...sub.msg, after: sub.lastPosition};
  }
  return sub.msg;
}

function dispatch(msg) {
  if (msg.type === 'authenticated') {
    delay = MIN_DELAY;
    setState('live');
    return;
  }
  const topic = msg.topic;
  if (!topic) {
    if (msg.type === 'error') console.warn('live:', msg.code, msg.detail);
    return;
  }
  const name = topic === 'customer' ? `customer:${msg.id}` : topic;
  let sub = subs.get(name);
  if (!sub && msg.type === 'error' && topic === 'customer') {
    // An error about a customer subscription does not name the id.
    sub = [...subs.entries()].find(([n]) => n.startsWith('customer:'))?.[1];
  }
  if (!sub) return;
  if (msg.type === 'event' && typeof msg.position === 'number') {
    if (sub.lastPosition !== null && msg.position <= sub.lastPosition) return;  // seen
    sub.lastPosition = msg.position;
  }
  if (msg.type === 'error') subs.delete(name);
  try { sub.handler(msg); } catch (e) { console.error(e); }
}

function connect() {
  clearTimeout(timer);
  timer = null;
  const s = getSession();
  if (!wanted || !s || !s.token) { setState('offline'); return; }
  setState('connecting');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let sock;
  try {
    sock = new WebSocket(`${proto}//${location.host}/api/v1/live`);
  } catch {
    scheduleReconnect();
    return;
  }
  ws = sock;
  sock.addEventListener('open', () => {
    if (ws !== sock) return;
    sock.send(JSON.stringify({op: 'auth', token: s.token}));
    for (const sub of subs.values()) sock.send(JSON.stringify(subscribeMessage(sub)));
  });
  sock.addEventListener('message', (e) => {
    if (ws !== sock) return;
    let msg;
    try { msg = JSON.parse(e.data); } catch { return; }
    dispatch(msg);
  });
  sock.addEventListener('close', (e) => {
    if (ws !== sock) return;
    ws = null;
    if (e.code === 1008) {
      // Authentication refused: the token is no longer good.
      wanted = false;
      setState('offline');
      expireSession();
      return;
    }
    // 1013 (too slow for the events feed) and every other close: reconnect; the
    // events subscription resumes after the last position seen.
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (!wanted) { setState('offline'); return; }
  const jitter = delay * (0.8 + Math.random() * 0.4);
  clearTimeout(timer);
  timer = setTimeout(connect, jitter);
  delay = Math.min(delay * 2, MAX_DELAY);
  // While waiting, we are offline as far as the user can tell.
  setState('offline');
}

export function start() {
  wanted = true;
  if (!ws && !timer) { delay = MIN_DELAY; connect(); }
}

export function stop() {
  wanted = false;
  clearTimeout(timer);
  timer = null;
  subs.clear();
  if (ws) { const s = ws; ws = null; try { s.close(1000); } catch { /* ignore */ } }
  setState('offline');
}

// subscribe({topic: 'dashboard', period, department_id}, handler) → unsubscribe().
// A new subscription under the same name (one dashboard, one pool, one customer id,
// one events feed) replaces the previous one.
export function subscribe(msg, handler) {
  const name = nameOf(msg);
  const sub = {msg: {op: 'subscribe', ...msg}, handler, lastPosition: msg.topic === 'events' && typeof msg.after === 'number' ? msg.after : null};
  subs.set(name, sub);
  send(subscribeMessage(sub));
  start();
  return () => {
    if (subs.get(name) !== sub) return;
    subs.delete(name);
    const un = {op: 'unsubscribe', topic: msg.topic};
    if (msg.topic === 'customer') un.id = msg.id;
    send(un);
  };
}

// Whether a subscription of that name (e.g. 'tasks') is held.
export function isSubscribed(name) { return subs.has(name); }

// Reconnect now (a button, or the network coming back).
export function retry() {
  if (!wanted) return;
  delay = MIN_DELAY;
  if (!ws) connect();
}
window.addEventListener('online', retry);
