// The department's comparison of the communes: the average of communes as
// the headline, PAPI 2024's own figures apart, the ranking by the total, a
// dimension or an indicator, and a heat map of the eight dimensions.
import { t, text, pick } from '../i18n.js';
import { api, qstr } from '../api.js';
import { h, replace, $ } from '../dom.js';
import { nf, int, dmy, isNum, valueText } from '../format.js';
import { S, guard, main, setTitle, periodParams, href, go } from './app.js';
import { showLoading, showError, periodForm, SortTable, scrollBox, kpi, dash } from './widgets.js';
import { loadTrend, trendSection, drawTrend } from './trend.js';
import { rankPicker } from './picker.js';
import { heatmap } from './heatmap.js';

const PROVINCES = ['Hồ Chí Minh', 'Bình Dương', 'Bà Rịa - Vũng Tàu'];
const TYPES = ['phuong', 'xa', 'dac_khu'];

export function viewCity(q) {
  setTitle(t('cityTitle'));
  showLoading();
  const params = periodParams(q);
  for (const k of ['former_province', 'type', 'dimension', 'indicator']) if (q[k]) params[k] = q[k];
  api('/api/v1/compare' + qstr(params)).then(guard((cmp) => {
    const st = { view: q.view === 'heat' ? 'heat' : 'table', hideUnscored: false, sort: null, trendDim: '' };
    S.redraw = () => draw(q, params, cmp, st);
    S.redraw();
    loadTrend(st, { months: 12, to: cmp.period && cmp.period.to });
  })).catch(guard((e) => showError(e, () => viewCity(q))));
}

/** Band names and order, from the answer (bands: [{id, name, name_en}]). */
export function bandsOf(cmp) {
  const list = cmp.bands || [];
  return {
    list,
    name: (id) => { const b = list.find((x) => x.id === id); return b ? pick(b) : t('bandNone'); },
    no: (id) => list.findIndex((x) => x.id === id) + 1,
  };
}

/**
 * The city headline: the average of the communes' totals (each commune
 * counts once, however many answered there). The answer gives it when its
 * city.basis is average_of_communes, with its own label; otherwise (a
 * total pooled over responses) the page averages the rows itself.
 */
export function communeAverage(cmp) {
  const c = cmp.city || {};
  if (c.basis === 'average_of_communes') {
    return isNum(c.total_score) ? { value: c.total_score, n: c.communes_scored ?? null, label: c.label ? text(c.label) : '' } : null;
  }
  const scored = (cmp.rows || []).map((r) => r.total_score).filter(isNum);
  return scored.length ? { value: scored.reduce((a, b) => a + b, 0) / scored.length, n: scored.length, label: '' } : null;
}

const REF_LABELS = [['national_median', 'refNational'], ['rank_15_score', 'refRank15'], ['hcmc_former', 'refHCMC'], ['binh_duong', 'refBD'], ['ba_ria_vung_tau', 'refBRVT']];

/** PAPI 2024's figures as [label, value] pairs: named fields, or a list of {name, value}. */
export function referenceFigures(ref) {
  if (!ref) return [];
  const out = [];
  for (const [k, key] of REF_LABELS) if (isNum(ref[k])) out.push([t(key), ref[k]]);
  for (const f of ref.figures || ref.provinces || []) {
    const v = f.value ?? f.total ?? f.total_score ?? f.score;
    if (isNum(v)) out.push([f.label ? text(f.label) : pick(f), v]);
  }
  return out;
}

function referenceBox(ref) {
  const figs = referenceFigures(ref);
  if (!figs.length) return null;
  return h('aside', { class: 'card ref-box', 'aria-labelledby': 'ref-title', id: 'reference-box' },
    h('h2', { id: 'ref-title' }, t('refTitle'), ' ', h('span', { class: 'ref-tag' }, t('refTag'))),
    h('p', { class: 'small ref-warn' }, t('refWarn')),
    h('div', { class: 'ref-grid' }, figs.map(([label, v]) => h('div', {}, h('strong', {}, nf(v, 2)), label))),
    h('p', { class: 'small' }, t('refScale'), ' ', ref.note ? text(ref.note) : ''),
    ref.source ? h('p', { class: 'small' }, text(ref.source)) : null);
}

function draw(q, params, cmp, st) {
  setTitle(t('cityTitle'));
  const m = main();
  m.removeAttribute('aria-busy');
  const rows = cmp.rows || [];
  const ranked = rows.filter((r) => r.rank).length;
  const rankBy = q.indicator || q.dimension || '';
  const dims = (S.cat && S.cat.dimensions) || [];
  const bands = bandsOf(cmp);
  const isDim = dims.some((d) => d.id === rankBy);
  const ind = S.indById[rankBy];
  const measureLabel = !rankBy ? t('colTotal') : isDim ? `${rankBy} (1–10)` : `${rankBy} · ${t('colScore')}`;
  const measureTitle = !rankBy ? t('rankTotal') : `${rankBy} · ${isDim ? pick(dims.find((d) => d.id === rankBy)) : pick(ind)}`;
  const measure = (r) => {
    if (!rankBy) return r.total_score;
    if (isDim) { const d = (r.dimensions || []).find((x) => x.id === rankBy); return d ? d.score : null; }
    return r.indicator ? r.indicator.score : null;
  };
  const choose = (id) => {
    const nq = { ...q };
    delete nq.dimension;
    delete nq.indicator;
    if (id) nq[/^D\d+$/.test(id) ? 'dimension' : 'indicator'] = id;
    go(href('city', '', nq));
  };

  const province = h('select', { id: 'f-province' }, h('option', { value: '' }, t('all')), PROVINCES.map((p) => h('option', { value: p, selected: q.former_province === p }, p)));
  const type = h('select', { id: 'f-type' }, h('option', { value: '' }, t('all')), TYPES.map((p) => h('option', { value: p, selected: q.type === p }, t('type_' + p))));
  const form = periodForm(q, cmp.period, {
    extra: [h('div', { class: 'f' }, h('label', { for: 'f-province' }, t('formerProvince')), province),
      h('div', { class: 'f' }, h('label', { for: 'f-type' }, t('ctype')), type)],
    readExtra: (nq) => {
      if (province.value) nq.former_province = province.value;
      if (type.value) nq.type = type.value;
      if (q.dimension) nq.dimension = q.dimension;
      if (q.indicator) nq.indicator = q.indicator;
      if (st.view === 'heat') nq.view = 'heat';
    },
  });

  const avg = communeAverage(cmp);
  const kpis = h('div', { class: 'kpis' },
    kpi(t('cityResponses'), int(cmp.city && cmp.city.responses), { id: 'city-responses' }),
    avg ? kpi(t('cityAverage'), nf(avg.value, 2), { id: 'city-total', details: [avg.label || t('cityAverageLine', { n: avg.n ?? ranked })] })
      : kpi(t('cityAverage'), t('notEnough'), { id: 'city-total', na: true, details: [t('cityAverageNone')] }),
    kpi(t('communesRanked'), `${ranked} / ${rows.length}`, { id: 'communes-ranked', details: [t('communesRankedLine', { a: ranked, b: rows.length })] }));

  const dl = h('div', { class: 'downloads' },
    h('a', { class: 'btn', id: 'dl-compare-csv', href: '/api/v1/compare' + qstr({ format: 'csv', ...params }), download: true }, 'CSV'),
    h('a', { class: 'btn', id: 'dl-compare-csv-vi', href: '/api/v1/compare' + qstr({ format: 'csv', locale: 'vi', ...params }), download: true }, t('dlCSVLocaleShort')),
    h('a', { class: 'btn', id: 'dl-compare-xlsx', href: '/api/v1/compare' + qstr({ format: 'xlsx', ...params }), download: true }, 'Excel (XLSX)'));
  const legend = [h('ul', { class: 'hm-legend', id: 'band-legend', 'aria-label': t('bandLegendTitle') },
    h('li', {}, h('strong', {}, t('bandLegendTitle'))),
    bands.list.map((b) => h('li', {}, h('span', { class: 'chip b-' + b.id, 'aria-hidden': 'true' }, String(bands.no(b.id))), pick(b))),
    h('li', {}, h('span', { class: 'chip b-none', 'aria-hidden': 'true' }, '—'), t('bandNone'))),
  ranked < 8 ? h('p', { class: 'small' }, t('bandNeeds')) : null];

  const tableWrap = h('div', { id: 'city-table-box', hidden: st.view !== 'table' });
  const heatWrap = h('div', { id: 'heatmap-wrap', hidden: st.view !== 'heat' }, h('p', { class: 'small' }, t('heatHelp')));
  const heatBox = h('div');
  heatWrap.append(heatBox);
  const count = h('p', { class: 'small', id: 'rows-count' });
  const setView = (v) => {
    st.view = v;
    $('view-table').setAttribute('aria-pressed', String(v === 'table'));
    $('view-heat').setAttribute('aria-pressed', String(v === 'heat'));
    tableWrap.hidden = v !== 'table';
    heatWrap.hidden = v !== 'heat';
    const nq = { ...q };
    if (v === 'heat') nq.view = 'heat'; else delete nq.view;
    q.view = nq.view;
    history.replaceState(null, '', href('city', '', nq));
  };
  const hide = h('input', { type: 'checkbox', id: 'hide-unscored', checked: st.hideUnscored });

  replace(m,
    h('div', { class: 'page-head' }, h('div', { class: 'grow' }, h('h1', {}, t('cityTitle')),
      h('p', { class: 'sub', id: 'period-line' }, t('periodLine', { from: dmy(cmp.period.from), to: dmy(cmp.period.to) })))),
    form,
    cmp.note ? h('div', { class: 'note', id: 'note' }, h('p', {}, text(cmp.note))) : null,
    kpis,
    referenceBox(cmp.reference_papi_2024),
    trendSection('city-trend', 'trendCityTitle', st, q),
    h('section', { class: 'card', 'aria-labelledby': 'rank-title', id: 'ranking' },
      h('div', { class: 'card-head' }, h('h2', { id: 'rank-title' }, t('ranking'), ' · ', measureTitle),
        h('div', { class: 'view-switch', role: 'group', 'aria-label': t('viewLabel') },
          h('button', { type: 'button', id: 'view-table', 'aria-pressed': String(st.view === 'table'), on: { click: () => setView('table') } }, t('viewTable')),
          h('button', { type: 'button', id: 'view-heat', 'aria-pressed': String(st.view === 'heat'), on: { click: () => setView('heat') } }, t('viewHeat')))),
      rankPicker(rankBy, choose, cmp.rankable),
      h('div', { class: 'card-head' }, h('label', { class: 'check' }, hide, ' ', t('hideUnscored')), dl),
      legend, count, tableWrap, heatWrap));
  S.resize = () => drawTrend(st);

  const cols = [
    { key: 'rank', label: t('colRank'), cls: 'num', sort: (r) => r.rank || null,
      cell: (r) => (r.rank ? [String(r.rank), isNum(r.rank_low) && isNum(r.rank_high) && r.rank_high > r.rank_low ? h('span', { class: 'rank-int', title: t('rankInterval') }, `${r.rank_low}–${r.rank_high}`) : null] : dash(t('bandNone'))) },
    { key: 'name', label: t('commune'), rowHeader: true, cls: 'commune-cell', sort: (r) => r.commune.name,
      cell: (r) => [h('a', { class: 'commune-link', href: href('commune', r.commune.code, periodParams(q)) }, r.commune.name), h('span', { class: 'ind-sub' }, `${t('type_' + r.commune.type)} · ${r.commune.former_province}`)] },
    { key: 'measure', label: measureLabel, title: measureTitle, cls: 'num', firstDir: 'descending', sort: measure,
      cell: (r) => { const v = measure(r); return isNum(v) ? h('strong', {}, nf(v, 2)) : dash(t('bandNone')); } },
    { key: 'responses', label: t('colResponses'), cls: 'num', firstDir: 'descending', sort: (r) => r.responses, cell: (r) => int(r.responses) },
  ];
  if (q.indicator) {
    cols.push({ key: 'ivalue', label: t('colIndValue'), cls: 'num', sort: (r) => (r.indicator ? r.indicator.value : null),
      cell: (r) => (r.indicator && isNum(r.indicator.value) ? valueText(r.indicator.kind, r.indicator.value) : dash(t('bandNone'))) });
  }
  cols.push(
    { key: 'band', label: t('colBand'), sort: (r) => (r.band ? bands.no(r.band) : null),
      cell: (r) => (r.band ? [h('span', { class: 'band' }, h('span', { class: 'sw b-' + r.band, 'aria-hidden': 'true' }), bands.name(r.band)),
        r.band_uncertain && r.band_from && r.band_to ? h('span', { class: 'band-range' }, t('bandRange', { a: bands.name(r.band_from), b: bands.name(r.band_to) })) : null]
        : h('span', { class: 'muted' }, '—')) },
    { key: 'vs', label: t('colVs'), sort: (r) => ({ above: 1, not_different: 2, below: 3 }[r.versus_average] || null),
      cell: (r) => (r.versus_average ? h('span', { class: 'vs ' + r.versus_average }, (r.versus_average === 'above' ? '▲ ' : r.versus_average === 'below' ? '▼ ' : '') + t('vs_' + r.versus_average)) : h('span', { class: 'muted' }, '—')) },
    ...dims.map((d, i) => ({ key: d.id, label: d.id, title: pick(d), cls: 'num', firstDir: 'descending',
      sort: (r) => (r.dimensions[i] ? r.dimensions[i].score : null),
      cell: (r) => { const x = r.dimensions[i]; return x && isNum(x.score) ? nf(x.score, 2) : dash(t('bandNone')); } })));

  if (!st.sort) st.sort = { key: 'rank', dir: 'ascending' };
  const drawBoth = () => {
    const vis = st.hideUnscored ? rows.filter((r) => isNum(measure(r))) : rows;
    const tbl = new SortTable('city-table', cols, vis, {
      key: st.sort.key, dir: st.sort.dir, caption: t('ranking'),
      rowAttrs: (r) => ({ dataset: { commune: r.commune.code } }),
      onSort: (x) => { st.sort = { key: x.key, dir: x.dir }; replace(heatBox, ...heatmap(x.sorted(), dims, bands, q)); },
    });
    replace(tableWrap, ...scrollBox(tbl.table, 'city-table-wrap'));
    replace(heatBox, ...heatmap(tbl.sorted(), dims, bands, q));
    count.textContent = t('rows', { n: vis.length });
  };
  hide.addEventListener('change', () => { st.hideUnscored = hide.checked; drawBoth(); });
  drawBoth();
}
