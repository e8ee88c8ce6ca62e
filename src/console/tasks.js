// The caller's to-do list (GET /tasks/me), kept live over the `tasks` topic: one
// subscription for the whole console, shared by the navigation badge and the Tasks page.
import {get, sawPosition} from './api.js';
import * as live from './live.js';

let data = null;  // the last {staff_id, count, items} seen, or null
let unavailable = false;  // the server refused the topic for this session
const listeners = new Set();

function publish(d) {
  data = d;
  for (const fn of listeners) { try { fn(data); } catch (e) { console.error(e); } }
}

// Subscribes unless already subscribed (live.stop() drops every subscription; the
// console calls this on every render, so it comes back after a sign-out and sign-in).
export function ensure() {
  if (unavailable || live.isSubscribed('tasks')) return;
  live.subscribe({topic: 'tasks'}, (msg) => {
    if (msg.type === 'error') { unavailable = true; publish(null); return; }
    if (msg.type !== 'snapshot' && msg.type !== 'update') return;
    sawPosition(msg.position);
    if (msg.data && Array.isArray(msg.data.items)) publish(msg.data);
  });
}

// A new session: forget what the previous one saw.
export function reset() {
  unavailable = false;
  publish(null);
}

// Fetches now (after the user's own change, or when the page opens before the first
// snapshot); read-your-writes through api.js's min_position.
export async function refresh() {
  const d = await get('/tasks/me');
  publish(d);
  return d;
}

export function current() { return data; }

// onTasks(fn): fn(data|null) now and on every change → unsubscribe().
export function onTasks(fn) {
  listeners.add(fn);
  fn(data);
  return () => listeners.delete(fn);
}

// Where an item's record is shown: lead → lead page, customer → Customer 360; a
// contract has no page of its own (the page resolves it to its customer on click).
export function recordHref(id) {
  if (!id) return null;
  if (id.startsWith('lead_')) return `#/leads/${encodeURIComponent(id)}`;
  if (id.startsWith('cus_')) return `#/customers/${encodeURIComponent(id)}`;
  return null;
}
