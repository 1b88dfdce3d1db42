// The JSON API as the pages use it: same-origin session cookie, errors with
// their bilingual messages, and a trip to the login page when the session
// has ended.
import { t, lang } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** The message to show a person for an error of api(). */
export function errText(e) {
  if (!(e instanceof ApiError)) return t('netError');
  if (e.status === 403) return t('forbidden');
  const b = e.body || {};
  const pickMsg = (x) => (lang === 'en' ? (x.message_en || x.message) : (x.message_vi || x.message)) || '';
  if (b.error) return pickMsg(b.error) || t('errorGeneric');
  if (b.errors && b.errors.length) return b.errors.map(pickMsg).join(' ');
  return t('errorGeneric');
}

export function toLogin() {
  const next = location.pathname + location.search;
  location.href = '/login?next=' + encodeURIComponent(next);
}

/** Calls the API; resolves to the decoded JSON (null for 204), rejects with ApiError. */
export async function api(path, { method = 'GET', body, noRedirect = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !noRedirect) {
    toLogin();
    return new Promise(() => {}); // stay pending while the page leaves
  }
  if (res.status === 204) return null;
  const txt = await res.text();
  let data = null;
  try { data = txt ? JSON.parse(txt) : null; } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** "?a=1&b=2" from an object, skipping empty values. */
export function qstr(o) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(o || {})) if (v !== '' && v != null && v !== false) qs.set(k, v);
  const s = qs.toString();
  return s ? '?' + s : '';
}
