// One dictionary per language (static/i18n/*.json), shared with the
// server, which renders the first view in the chosen language; the switch
// then changes the language in place and remembers it in a cookie (for the
// server) and in localStorage (for the resident form's older code).
const COOKIE = 'papi_lang';
const STORE = 'papi.lang';
const root = document.documentElement;
const dicts = {};
const listeners = [];

/** The current language, 'vi' or 'en', as the server rendered the page. */
export let lang = root.lang === 'en' ? 'en' : 'vi';

function remember(l) {
  document.cookie = `${COOKIE}=${l}; path=/; max-age=31536000; samesite=lax`;
  try { localStorage.setItem(STORE, l); } catch { /* private mode */ }
}

async function load(l) {
  if (!dicts[l]) {
    const url = root.dataset[l === 'en' ? 'i18nEn' : 'i18nVi'];
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`dictionary ${l}: HTTP ${res.status}`);
    dicts[l] = await res.json();
  }
  return dicts[l];
}

/** Loads the page language's dictionary; call once before drawing. */
export async function loadDictionary() {
  await load(lang);
  // A choice made on the resident form (localStorage only) carries over.
  const q = new URLSearchParams(location.search).get('lang');
  let stored = null;
  try { stored = localStorage.getItem(STORE); } catch { /* private mode */ }
  if (!q && !document.cookie.includes(`${COOKIE}=`) && (stored === 'en' || stored === 'vi') && stored !== lang) {
    await setLang(stored);
  }
}

/** Text for key with {name} placeholders filled from vars. */
export function t(key, vars) {
  const s = dicts[lang]?.[key] ?? dicts.vi?.[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] != null ? vars[k] : m)) : s;
}

/** The current language's text of a bilingual {vi, en} value (or a plain string). */
export function text(x) {
  if (x == null) return '';
  if (typeof x === 'string') return x;
  return (lang === 'en' && x.en) ? x.en : (x.vi ?? x.en ?? '');
}

/** The current language's name of an API object: {name, name_en} or {name: {vi, en}}. */
export function pick(o, field = 'name') {
  if (!o) return '';
  const v = o[field];
  if (v && typeof v === 'object') return text(v);
  return (lang === 'en' && o[field + '_en']) ? o[field + '_en'] : (v || '');
}

/** Switches the language in place and tells the listeners to redraw. */
export async function setLang(l) {
  await load(l);
  lang = l;
  remember(l);
  applyStatic();
  listeners.forEach((fn) => fn(l));
}

/** Calls fn after every language switch. */
export function onLangChange(fn) { listeners.push(fn); }

/** Fills data-i18n texts and data-i18n-attr attributes ("attr:key;…") under root. */
export function applyStatic(el = document) {
  if (el === document) root.lang = lang;
  for (const n of el.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
  for (const n of el.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of n.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((x) => x.trim());
      if (attr && key) n.setAttribute(attr, t(key));
    }
  }
  const sw = document.getElementById('lang-toggle');
  if (sw) {
    const other = lang === 'vi' ? 'en' : 'vi';
    const url = new URL(location.href);
    url.searchParams.set('lang', other);
    sw.href = url.pathname + url.search + url.hash;
    sw.hreflang = other;
    for (const s of sw.querySelectorAll('[data-l]')) s.className = s.dataset.l === lang ? 'on' : 'off';
    const hint = document.getElementById('lang-toggle-hint');
    if (hint) hint.lang = other;
  }
}

/** Makes the language switch change the page in place instead of reloading. */
export function wireLangSwitch() {
  const sw = document.getElementById('lang-toggle');
  if (!sw) return;
  sw.addEventListener('click', (ev) => {
    ev.preventDefault();
    setLang(lang === 'vi' ? 'en' : 'vi').catch(() => { location.href = sw.href; });
  });
}
