// The staff app: signs in state, draws the navigation and routes each
// address (/staff/<view>/<code>) to its view.
import { t, loadDictionary, wireLangSwitch, onLangChange, applyStatic } from '../i18n.js';
import { api } from '../api.js';
import { $, h, replace } from '../dom.js';
import { S, setRouter, currentRoute, href, go, canCity, main, indexCatalogue } from './app.js';
import { showLoading, showError, showMessage } from './widgets.js';
import { viewCommune } from './commune.js';
import { viewCity } from './city.js';
import { viewFollowup } from './followup.js';
import { viewCentres } from './centres.js';

function drawChrome() {
  const u = S.me;
  if (!u) return;
  $('user-email').textContent = u.email;
  $('user-role').textContent = t('role_' + u.role);
  const links = [];
  const cur = currentRoute().view;
  const code = canCity() ? S.lastCommune : u.commune_code;
  if (canCity()) {
    links.push(['city', href('city'), t('navCity')]);
    links.push(['followup', href('followup'), t('navFollowup')]);
  }
  if (code) {
    links.push(['commune', href('commune', code), t('navCommune')]);
    links.push(['centres', href('centres', code), t('navCentres')]);
  }
  replace($('nav-list'), links.map(([id, url, label]) => h('li', {}, h('a', { id: 'nav-' + id, href: url, 'aria-current': cur === id ? 'page' : null }, label))));
}

function route() {
  const r = currentRoute();
  S.seq++;
  S.redraw = null;
  S.resize = null;
  if (!r.view) {
    go(canCity() || !S.me.commune_code ? href('city') : href('commune', S.me.commune_code), { replace: true });
    return;
  }
  if ((r.view === 'commune' || r.view === 'centres') && r.code) S.lastCommune = r.code;
  drawChrome();
  window.scrollTo(0, 0);
  switch (r.view) {
    case 'commune': return r.code ? viewCommune(r.code, r.q) : showMessage('notFound');
    case 'centres': return r.code ? viewCentres(r.code) : showMessage('notFound');
    case 'city': return canCity() ? viewCity(r.q) : showMessage('forbidden');
    case 'followup': return canCity() ? viewFollowup(r.q) : showMessage('forbidden');
  }
  showMessage('notFound');
}

/** Older links (/staff#/commune/26740?period=month) move to their path. */
function legacyHash() {
  const m = location.hash.match(/^#\/([^?]*)(\?.*)?$/);
  if (m) history.replaceState(null, '', '/staff/' + m[1] + (m[2] || ''));
}

async function start() {
  legacyHash();
  wireLangSwitch();
  onLangChange(() => { drawChrome(); if (S.redraw) S.redraw(); });
  $('logout-btn').addEventListener('click', () => {
    const done = () => { location.href = '/login'; };
    api('/api/v1/auth/logout', { method: 'POST', noRedirect: true }).then(done, done);
  });
  // Links inside the app change the view in place; others (new tab,
  // downloads, other pages) behave as links do.
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[href^="/staff"]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey || a.target || a.hasAttribute('download')) return;
    ev.preventDefault();
    go(a.getAttribute('href'));
  });
  window.addEventListener('popstate', route);
  let rt = null;
  window.addEventListener('resize', () => { clearTimeout(rt); rt = setTimeout(() => S.resize && S.resize(), 150); });
  showLoading();
  try {
    const [me, communes, cat] = await Promise.all([api('/api/v1/me'), api('/api/v1/communes'), api('/api/v1/catalogue')]);
    S.me = me;
    S.communes = communes || [];
    for (const c of S.communes) S.byCode[c.code] = c;
    indexCatalogue(cat);
  } catch (e) {
    showError(e, () => location.reload());
    return;
  }
  setRouter(route);
  route();
}

loadDictionary().catch(() => {}).then(() => { applyStatic(); return start(); });
