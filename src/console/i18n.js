// Messages and formatting. Every string the console shows comes from one table per
// language (i18n/zh-CN.js, i18n/en.js; identical keys); record data is shown as it is.
import zh from './i18n/zh-CN.js';
import en from './i18n/en.js';

const TABLES = {'zh-CN': zh, en};
const STORE_KEY = 'evcrm.lang';
let current = 'zh-CN';
try {
  const saved = localStorage.getItem(STORE_KEY);
  if (saved && TABLES[saved]) current = saved;
} catch { /* storage unavailable: default language */ }

const listeners = new Set();

export function lang() { return current; }
export function languages() { return Object.keys(TABLES); }

export function setLang(code) {
  if (!TABLES[code] || code === current) return;
  current = code;
  try { localStorage.setItem(STORE_KEY, code); } catch { /* ignore */ }
  document.documentElement.lang = code;
  for (const fn of listeners) fn(code);
}

export function onLangChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }

// t('pool.claimsToday', {n: 3}) — '{n}' placeholders are replaced by params.
export function t(key, params) {
  let s = TABLES[current][key];
  if (s === undefined) s = zh[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined ? m : String(params[k])));
  return s;
}

// A translated name for an enum value, falling back to the raw value.
export function tEnum(group, value) {
  if (value === null || value === undefined || value === '') return '—';
  const key = `${group}.${value}`;
  const table = TABLES[current];
  return table[key] !== undefined ? table[key] : String(value);
}

export function has(key) { return TABLES[current][key] !== undefined; }

const numberFormats = new Map();
function nf(opts) {
  const k = current + JSON.stringify(opts);
  if (!numberFormats.has(k)) numberFormats.set(k, new Intl.NumberFormat(current, opts));
  return numberFormats.get(k);
}

export function minorDigits(currency) {
  try {
    return new Intl.NumberFormat('en', {style: 'currency', currency}).resolvedOptions().maximumFractionDigits;
  } catch { return 2; }
}

// amount: integer in the currency's smallest unit (fen for CNY).
export function fmtMoney(amount, currency = 'CNY') {
  if (amount === null || amount === undefined) return '—';
  const digits = minorDigits(currency);
  const value = Number(amount) / 10 ** digits;
  try {
    return nf({style: 'currency', currency, currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: digits, maximumFractionDigits: digits}).format(value);
  } catch {
    return `${currency} ${nf({minimumFractionDigits: digits, maximumFractionDigits: digits}).format(value)}`;
  }
}

// {"CNY": 1200000, "USD": 5} → "¥12,000.00 · $0.05"; {} → "¥0.00".
export function fmtMoneyMap(map, fallbackCurrency = 'CNY') {
  const entries = Object.entries(map || {});
  if (entries.length === 0) return fmtMoney(0, fallbackCurrency);
  return entries.map(([c, a]) => fmtMoney(a, c)).join(' · ');
}

export function fmtNum(n) {
  if (n === null || n === undefined) return '—';
  return nf({}).format(n);
}

export function fmtPct(x, digits = 1) {
  if (x === null || x === undefined) return '—';
  return nf({style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits}).format(x);
}

export function fmtDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current, {year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false}).format(d);
}

// A business date (YYYY-MM-DD) is shown as it is written, in the language's order.
export function fmtDate(ymd) {
  if (!ymd) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return fmtDateTime(ymd);
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return new Intl.DateTimeFormat(current, {year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC'}).format(d);
}

export function fmtPeriod(ym) {
  const m = /^(\d{4})-(\d{2})$/.exec(ym || '');
  if (!m) return ym || '';
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, 1));
  return new Intl.DateTimeFormat(current, {year: 'numeric', month: 'long', timeZone: 'UTC'}).format(d);
}

// "P15D" → "15 天" / "15 days" (days, hours, minutes only; anything else as written).
export function fmtDuration(iso) {
  if (!iso) return t('common.off');
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m) return iso;
  const parts = [];
  const days = (+(m[1] || 0)) * 7 + (+(m[2] || 0));
  if (days) parts.push(t('unit.days', {n: days}));
  if (m[3]) parts.push(t('unit.hours', {n: +m[3]}));
  if (m[4]) parts.push(t('unit.minutes', {n: +m[4]}));
  if (m[5]) parts.push(t('unit.seconds', {n: +m[5]}));
  return parts.join(' ') || iso;
}

export function fmtRelative(iso) {
  if (!iso) return '—';
  const diff = new Date(iso).getTime() - Date.now();
  const rtf = new Intl.RelativeTimeFormat(current, {numeric: 'auto'});
  const abs = Math.abs(diff);
  if (abs < 3600e3) return rtf.format(Math.round(diff / 60e3), 'minute');
  if (abs < 86400e3) return rtf.format(Math.round(diff / 3600e3), 'hour');
  return rtf.format(Math.round(diff / 86400e3), 'day');
}
