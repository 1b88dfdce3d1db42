// Follow-up: weak indicators of each commune, grouped by the agency the
// plan (Kế hoạch 105) assigns them to, each agency folded until opened.
import { t, text, pick } from '../i18n.js';
import { api, qstr } from '../api.js';
import { h, replace } from '../dom.js';
import { nf, int, dmy, signed, isNum, valueText, idKey } from '../format.js';
import { S, guard, main, setTitle, periodParams, href } from './app.js';
import { showLoading, showError, periodForm, SortTable, scrollBox } from './widgets.js';
import { fold } from './picker.js';

export function viewFollowup(q) {
  setTitle(t('fuTitle'));
  showLoading();
  const params = periodParams(q);
  api('/api/v1/followup' + qstr(params)).then(guard((fu) => {
    const st = { open: {}, filter: '', sorts: {} };
    S.redraw = () => draw(q, params, fu, st);
    S.redraw();
  })).catch(guard((e) => showError(e, () => viewFollowup(q))));
}

/** The plan's task text as a list: it separates tasks with " - ". */
export function taskList(s) {
  const out = [];
  for (const p of String(s || '').replace(/^\s*[-–]\s+/, '').split(/\s[-–]\s/)) {
    const x = p.trim();
    const ch = x.charAt(0);
    // A lower-case start means the dash was inside a phrase ("chính trị - xã hội").
    if (out.length && ch && ch === ch.toLowerCase() && ch !== ch.toUpperCase()) out[out.length - 1] += ' - ' + x;
    else if (x) out.push(x);
  }
  return out;
}

function agencyTable(a, i, st, q) {
  const cols = [
    { key: 'commune', label: t('commune'), rowHeader: true, sort: (r) => r.commune_name,
      cell: (r) => h('a', { href: href('commune', r.commune, periodParams(q)) }, r.commune_name) },
    { key: 'indicator', label: t('colIndicator'), sort: (r) => idKey(r.indicator),
      cell: (r) => [h('span', { class: 'ind-name' }, S.indById[r.indicator] ? pick(S.indById[r.indicator]) : r.indicator_name), h('span', { class: 'ind-sub' }, r.indicator),
        r.estimate === 'borrowed' ? h('span', { class: 'tag tag-borrowed' }, t('borrowedShort')) : null] },
    { key: 'value', label: t('colValue'), cls: 'num', sort: (r) => r.value,
      cell: (r) => valueText(r.kind || (S.indById[r.indicator] || {}).kind || 'mean', r.value) },
    { key: 'score', label: t('fuScoreTarget'), cls: 'num', sort: (r) => r.score, cell: (r) => [h('strong', {}, nf(r.score, 2)), ' / ', nf(r.target_score, 2)] },
    { key: 'gap', label: t('fuGap'), cls: 'num', firstDir: 'descending', sort: (r) => r.distance ?? r.gap, cell: (r) => signed(-(r.distance ?? r.gap), 2) },
    { key: 'role', label: t('fuRole'), sort: (r) => ({ implementing: 1, lead: 2, coordinating: 3 }[r.role] || 9),
      cell: (r) => h('span', { class: 'role role-' + r.role }, t('role_' + r.role)) },
    { key: 'tasks', label: t('fuTasks'),
      cell: (r) => (r.tasks ? h('details', { class: 'tasks' }, h('summary', {}, t('fuShowTasks')), h('ul', {}, taskList(r.tasks).map((x) => h('li', {}, x)))) : h('span', { class: 'muted' }, '—')) },
  ];
  const s = st.sorts[a.agency] || { key: 'gap', dir: 'descending' };
  const tbl = new SortTable(`agency-${i}-table`, cols, a.items, { key: s.key, dir: s.dir, caption: a.agency, onSort: (x) => { st.sorts[a.agency] = { key: x.key, dir: x.dir }; } });
  return scrollBox(tbl.table, `agency-${i}-wrap`);
}

function draw(q, params, fu, st) {
  setTitle(t('fuTitle'));
  const m = main();
  m.removeAttribute('aria-busy');
  const agencies = (fu.agencies || []).slice().sort((a, b) => b.items.length - a.items.length || a.agency.localeCompare(b.agency, 'vi'));
  const filterBox = h('input', { type: 'search', id: 'agency-filter', value: st.filter, autocomplete: 'off' });
  const count = h('p', { class: 'small', id: 'agency-count', 'aria-live': 'polite' });
  const list = h('ul', { class: 'agencies', id: 'agency-list' }, agencies.map((a, i) => {
    const communes = new Set(a.items.map((it) => it.commune)).size;
    const body = h('div', { class: 'agency-body', id: `agency-${i}-body`, hidden: !st.open[a.agency] });
    const btn = h('button', { type: 'button', class: 'agency-toggle', 'aria-expanded': String(!!st.open[a.agency]), 'aria-controls': `agency-${i}-body`, id: `agency-${i}-btn` },
      h('span', { class: 'chev', 'aria-hidden': 'true' }, '▶'), h('span', { class: 'name' }, a.agency),
      h('span', { class: 'small' }, t('fuCommunes', { n: communes })), h('span', { class: 'count' }, t('fuItems', { n: int(a.items.length) })));
    const open = () => { if (!body.firstChild) body.append(...agencyTable(a, i, st, q)); };
    if (st.open[a.agency]) open();
    btn.addEventListener('click', () => {
      const now = btn.getAttribute('aria-expanded') !== 'true';
      btn.setAttribute('aria-expanded', String(now));
      st.open[a.agency] = now;
      if (now) open();
      body.hidden = !now;
    });
    return h('li', { class: 'agency', dataset: { agency: a.agency } }, h('h2', { class: 'agency-head' }, btn), body);
  }));
  const filter = () => {
    const f = fold(filterBox.value.trim());
    st.filter = filterBox.value;
    let n = 0;
    for (const li of list.children) {
      const show = !f || fold(li.dataset.agency).includes(f);
      li.hidden = !show;
      if (show) n++;
    }
    count.textContent = t('fuAgencies', { n });
  };
  filterBox.addEventListener('input', filter);
  replace(m,
    h('div', { class: 'page-head' },
      h('div', { class: 'grow' }, h('h1', {}, t('fuTitle')), h('p', { class: 'sub' }, fu.rule ? text(fu.rule) : t('fuSub')),
        h('p', { class: 'sub', id: 'period-line' }, t('periodLine', { from: dmy(fu.period.from), to: dmy(fu.period.to) }))),
      h('div', { class: 'downloads' }, h('a', { class: 'btn', id: 'dl-followup-xlsx', href: '/api/v1/followup' + qstr({ format: 'xlsx', ...params }), download: true }, t('dlFollowup')),
        h('a', { class: 'btn', id: 'dl-followup-csv', href: '/api/v1/followup' + qstr({ format: 'csv', locale: 'vi', ...params }), download: true }, t('dlFollowupCSV')))),
    periodForm(q, fu.period),
    fu.note ? h('div', { class: 'note', id: 'note' }, h('p', {}, text(fu.note))) : null,
    h('div', { class: 'card-head' }, h('div', { class: 'filters' }, h('div', { class: 'f' }, h('label', { for: 'agency-filter' }, t('fuFilter')), filterBox)), count),
    agencies.length ? list : h('p', { class: 'msg msg-info' }, t('fuNone')));
  if (agencies.length) filter();
}
