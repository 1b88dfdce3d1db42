// The staff app's shared state and its routes. Views live at real paths
// (/staff/commune/26740?period=month) so that the server can title them and
// a link can be opened in a new tab; moving between views stays in the page.
import { $ } from '../dom.js';

/** What every view may read once the app has started. */
export const S = {
  me: null, // the signed-in account: {email, role, commune_code}
  communes: [], // [{code, name, type, former_province}]
  byCode: {},
  cat: null, // GET /api/v1/catalogue
  indById: {}, // indicator id → catalogue indicator, with .dim and .sub
  moduleOf: {}, // question id → module id
  rotating: 0, // how many rotating modules a visit picks one of
  lastCommune: '',
  redraw: null, // redraws the current view from its data (language switch)
  resize: null, // redraws size-dependent parts (charts)
  seq: 0, // counts route changes, to drop answers for a view already left
};

let router = () => {};
/** Registers the function that draws the view of the current address. */
export function setRouter(fn) { router = fn; }

// What the account may do comes from the server (/api/v1/me, survey.User.Capabilities):
// communes are '*' for every commune, a code for one, '' for none.
function allows(communes, code) { return communes === '*' || (!!communes && communes === code); }

/** Whether the account may compare all communes. */
export function canCity() { return !!S.me && !!S.me.capabilities && S.me.capabilities.city; }

/**
 * Whether the account may issue receipts for a commune's centres: never the commune's own
 * staff, whose results a receipt would vouch for.
 */
export function canIssueReceipts(code) { return !!S.me && !!S.me.capabilities && allows(S.me.capabilities.receipts, code); }

/**
 * Whether the account may close, reopen and renew a commune's centres and
 * enrol or revoke their kiosks.
 */
export function canRunCentres(code) { return !!S.me && !!S.me.capabilities && allows(S.me.capabilities.run_centres, code); }

/** The current view, commune code and query, from the address. */
export function currentRoute() {
  const parts = location.pathname.replace(/^\/staff\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const q = {};
  new URLSearchParams(location.search).forEach((v, k) => { if (k !== 'lang') q[k] = v; });
  return { view: parts[0] || '', code: parts[1] || '', q };
}

/** The address of a view: href('commune', '26740', {period: 'month'}). */
export function href(view, code, q) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(q || {})) if (v !== '' && v != null && v !== false) qs.set(k, v);
  const s = qs.toString();
  return '/staff' + (view ? '/' + view : '') + (code ? '/' + encodeURIComponent(code) : '') + (s ? '?' + s : '');
}

/** Moves to another view without reloading the page. */
export function go(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else if (url !== location.pathname + location.search) history.pushState(null, '', url);
  router();
}

/** Period parameters shared by every view, from the query. */
export function periodParams(q) {
  const o = {};
  if (q.from && q.to) { o.from = q.from; o.to = q.to; } else if (q.period) { o.period = q.period; }
  if (q.verified === '1') o.verified = '1';
  if (q.flagged === 'include') o.flagged = 'include';
  if (q.channel) o.channel = q.channel;
  return o;
}

/** Wraps fn so that it runs only if no other view started meanwhile. */
export function guard(fn) {
  const seq = S.seq;
  return (x) => (seq === S.seq ? fn(x) : undefined);
}

export function main() { return $('main'); }
export function setTitle(s) { document.title = s + ' · papi'; }

/** Reads the catalogue once: indicators by id, each question's module. */
export function indexCatalogue(cat) {
  S.cat = cat;
  for (const d of cat.dimensions || []) {
    for (const sd of d.subdimensions || []) {
      for (const ind of sd.indicators || []) { ind.dim = d; ind.sub = sd; S.indById[ind.id] = ind; }
    }
  }
  for (const q of cat.questions || []) S.moduleOf[q.id] = q.module;
  S.rotating = (cat.modules || []).filter((m) => m.rotating).length;
}
