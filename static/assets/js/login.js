// The staff login page.
import { t, lang, loadDictionary, wireLangSwitch, onLangChange } from './i18n.js';
import { api, ApiError, errText } from './api.js';
import { $ } from './dom.js';

/**
 * next= as a path on this origin, or ''. Browsers drop tabs and newlines
 * inside URLs ("/\t/host" becomes "//host"), so control characters,
 * spaces and backslashes are refused, and what is left must resolve to
 * this origin (as the server's check on /login does).
 */
export function safeNext(n) {
  if (!n || n[0] !== '/' || n[1] === '/' || /[\u0000-\u0020\u007f\\]/.test(n)) return '';
  try {
    const u = new URL(n, location.origin);
    return u.origin === location.origin ? u.pathname + u.search + u.hash : '';
  } catch {
    return '';
  }
}

function init() {
  wireLangSwitch();
  const form = $('login-form');
  const email = $('login-email');
  const pw = $('login-password');
  const btn = $('login-submit');
  const box = $('login-error');
  let last = null; // the last error, redrawn after a language switch

  function fieldErr(input, msg) {
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    $(input.id + '-error').textContent = msg || '';
  }
  function show() {
    fieldErr(email, '');
    fieldErr(pw, '');
    box.hidden = true;
    box.textContent = '';
    if (!last) return;
    for (const [f, msg] of Object.entries(last.fields || {})) fieldErr(f === 'password' ? pw : email, msg());
    if (last.general) {
      box.textContent = last.general();
      box.hidden = false;
    }
  }
  onLangChange(() => { if (!btn.disabled) btn.textContent = t('loginBtn'); show(); });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    last = null;
    const fields = {};
    if (!email.value.trim()) fields.email = () => t('loginNeedEmail');
    if (!pw.value) fields.password = () => t('loginNeedPassword');
    if (Object.keys(fields).length) {
      last = { fields };
      show();
      (fields.email ? email : pw).focus();
      return;
    }
    show();
    btn.disabled = true;
    btn.textContent = t('loggingIn');
    try {
      const res = await api('/api/v1/auth/login', { method: 'POST', body: { email: email.value.trim(), password: pw.value }, noRedirect: true });
      const u = res && res.user;
      let next = safeNext(new URLSearchParams(location.search).get('next'));
      if (!next) next = u && u.role === 'commune' && u.commune_code ? '/staff/commune/' + u.commune_code : '/staff/city';
      location.assign(next);
    } catch (e) {
      btn.disabled = false;
      btn.textContent = t('loginBtn');
      if (e instanceof ApiError && e.body && e.body.errors) {
        const f = {};
        for (const x of e.body.errors) f[x.field === 'password' ? 'password' : 'email'] = () => (lang === 'en' ? x.message_en : x.message_vi) || x.message;
        last = { fields: f };
      } else {
        last = { general: () => errText(e) };
      }
      show();
      if (last.general) { pw.select(); box.focus(); } else { email.focus(); }
    }
  });
}

loadDictionary().then(init, init);
