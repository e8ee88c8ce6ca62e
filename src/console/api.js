// The HTTP client: bearer token, JSON in and out, Idempotency-Key and If-Match on
// commands, and problem+json answers turned into ApiError.
const SESSION_KEY = 'evcrm.session';
const BASE = '/api/v1';

export class ApiError extends Error {
  constructor({status = 0, code = 'network', title = '', detail = '', errors = [], headers = null, body = null}) {
    super(detail || title || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(errors) ? errors : [];
    this.headers = headers;
    this.body = body;
  }
  get existingId() { return this.body && this.body.existing_id; }
  get retryAfter() {
    const v = this.headers && this.headers.get('Retry-After');
    const n = v === null || v === undefined ? NaN : parseInt(v, 10);
    return Number.isFinite(n) ? n : null;
  }
}

// --- session -----------------------------------------------------------------------

let session = null;
try { session = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null'); } catch { session = null; }
const sessionListeners = new Set();

export function getSession() { return session; }
export function me() { return session && session.staff; }
export function role() { return session && session.staff ? session.staff.role : null; }

export function setSession(s) {
  session = s;
  try {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s)); else localStorage.removeItem(SESSION_KEY);
  } catch { /* storage unavailable: the session lives in memory only */ }
  for (const fn of sessionListeners) fn(s);
}

export function onSessionChange(fn) { sessionListeners.add(fn); return () => sessionListeners.delete(fn); }

// Another tab signed out or in.
window.addEventListener('storage', (e) => {
  if (e.key !== SESSION_KEY) return;
  try { session = JSON.parse(e.newValue || 'null'); } catch { session = null; }
  for (const fn of sessionListeners) fn(session);
});

export function expireSession() {
  if (!session) return;
  setSession(null);
  if (location.hash !== '#/signin') location.hash = '#/signin';
}

// --- keys --------------------------------------------------------------------------

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// --- requests ----------------------------------------------------------------------

function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Read-your-writes: every query waits until the read side has applied the last
// command this console made (min_position), so a page never shows a state older than
// what its user just did.
let lastWrite = 0;
export function lastWritePosition() { return lastWrite; }
export function sawPosition(p) { if (typeof p === 'number' && p > lastWrite) lastWrite = p; }

// request('POST', '/leads', {body, key, version, params, auth})
// → {data, status, headers, etag}; throws ApiError.
export async function request(method, path, opts = {}) {
  const headers = {Accept: 'application/json'};
  const auth = opts.auth !== false;
  if (auth && session && session.token) headers.Authorization = `Bearer ${session.token}`;
  let body;
  if (opts.raw !== undefined) {
    // A file sent as it is (an ArrayBuffer), with its own content type.
    headers['Content-Type'] = opts.contentType || 'application/octet-stream';
    body = opts.raw;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (method !== 'GET') headers['Idempotency-Key'] = opts.key || newKey();
  if (opts.version !== undefined && opts.version !== null) headers['If-Match'] = `"${opts.version}"`;
  let params = opts.params;
  if (method === 'GET' && lastWrite > 0 && !(params && params.min_position)) params = {...params, min_position: lastWrite};
  let res;
  try {
    res = await fetch(BASE + path + query(params), {method, headers, body, signal: opts.signal,
      credentials: 'same-origin', cache: 'no-store'});
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError({code: 'network', detail: String(e && e.message || e)});
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    const err = new ApiError({status: res.status, code: p.code || `http_${res.status}`, title: p.title || res.statusText,
      detail: p.detail || '', errors: p.errors, headers: res.headers, body: p});
    if (res.status === 401 && auth && !opts.noExpire) expireSession();
    throw err;
  }
  if (method !== 'GET' && data && typeof data.position === 'number') sawPosition(data.position);
  const etag = res.headers.get('ETag');
  return {data, status: res.status, headers: res.headers, etag: etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null};
}

export async function get(path, params, opts = {}) {
  return (await request('GET', path, {...opts, params})).data;
}

// One record with its version (from the ETag, else the body's version).
export async function getRecord(path, params) {
  const r = await request('GET', path, {params});
  const version = r.etag !== null ? r.etag : (r.data && r.data.version);
  return {data: r.data, version};
}

// A file's bytes, sent as they are: POST `path` with `bytes` (an ArrayBuffer) as the body.
export function upload(path, bytes, contentType, opts = {}) {
  return request('POST', path, {...opts, raw: bytes, contentType});
}

// A file the server makes (an export): GET with the token → {blob, filename}, the name
// from Content-Disposition. A refusal is an ApiError like any other answer.
export async function download(path, params) {
  if (lastWrite > 0) params = {...params, min_position: lastWrite};
  const headers = {Accept: '*/*'};
  if (session && session.token) headers.Authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await fetch(BASE + path + query(params), {headers, credentials: 'same-origin', cache: 'no-store'});
  } catch (e) {
    throw new ApiError({code: 'network', detail: String(e && e.message || e)});
  }
  if (!res.ok) {
    let p = {};
    try { p = JSON.parse(await res.text()) || {}; } catch { p = {}; }
    if (res.status === 401) expireSession();
    throw new ApiError({status: res.status, code: p.code || `http_${res.status}`, title: p.title || res.statusText,
      detail: p.detail || '', errors: p.errors, headers: res.headers, body: p});
  }
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename\*=UTF-8''([^;]+)/i.exec(cd) || /filename="?([^";]+)"?/i.exec(cd);
  let filename = 'export';
  if (m) { try { filename = decodeURIComponent(m[1]); } catch { filename = m[1]; } }
  return {blob: await res.blob(), filename};
}

export function post(path, body, opts = {}) { return request('POST', path, {...opts, body}); }
export function put(path, body, opts = {}) { return request('PUT', path, {...opts, body}); }
export function patch(path, body, opts = {}) { return request('PATCH', path, {...opts, body}); }
export function del(path, opts = {}) { return request('DELETE', path, opts); }

// Every page of a list (for small lists such as staff).
export async function getAll(path, params = {}, max = 5000) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(path, {...params, limit: 500, cursor});
    items.push(...(page.items || []));
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

// --- sign-in -----------------------------------------------------------------------

export async function signIn(email, password, key) {
  const r = await request('POST', '/sessions', {body: {email, password}, auth: false, key});
  setSession({token: r.data.token, staff: r.data.staff, expires_at: r.data.expires_at});
  return r.data;
}

export async function signOut() {
  try {
    if (session) await request('DELETE', '/sessions/current', {noExpire: true});
  } catch { /* the token may already be gone; sign out locally anyway */ }
  setSession(null);
}

// --- cached look-ups ---------------------------------------------------------------

let staffCache = null;
export async function staffList(force = false) {
  if (!staffCache || force) {
    staffCache = getAll('/staff').catch((e) => { staffCache = null; throw e; });
  }
  return staffCache;
}
export function dropCaches() { staffCache = null; deptCache = null; }
onSessionChange(() => { lastWrite = 0; });
onSessionChange(() => dropCaches());

let deptCache = null;
export async function departments(force = false) {
  if (!deptCache || force) {
    deptCache = get('/departments').then((d) => d.items || []).catch((e) => { deptCache = null; throw e; });
  }
  return deptCache;
}

// The ids of department `id` and every department below it, in the tree `departments()`
// answers; empty when unknown.
export function departmentSubtree(nodes, id) {
  const out = new Set();
  const walk = (list, inside) => {
    for (const n of list) {
      const here = inside || n.id === id;
      if (here) out.add(n.id);
      walk(n.children || [], here);
    }
  };
  walk(nodes, false);
  return out;
}
