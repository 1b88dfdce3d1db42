// A commune's results: what there is first (headline, dimension chart,
// indicators with a value, lowest score first), then what is missing and
// why, folded per dimension; a clear empty state for a period without
// answers.
import { t, text, pick } from '../i18n.js';
import { api, qstr } from '../api.js';
import { h, replace, $ } from '../dom.js';
import { nf, int, pct, signed, dmy, isNum, valueText, idKey } from '../format.js';
import { S, canCity, href, go, guard, main, setTitle, periodParams } from './app.js';
import { showLoading, showError, periodForm, SortTable, scrollBox, kpi, communeMeta, dash } from './widgets.js';
import { dimensionChart, needText } from './charts.js';
import { needed, dimensionNeed, totalNeed, policyOf } from './needs.js';
import { loadTrend, trendSection, drawTrend } from './trend.js';
import { emptyState } from './empty.js';

export function viewCommune(code, q) {
  const c = S.byCode[code];
  setTitle(c ? c.name : code);
  showLoading();
  const params = periodParams(q);
  api(`/api/v1/communes/${encodeURIComponent(code)}/summary${qstr(params)}`).then(guard((sum) => {
    const st = { table: null, trendDim: '' };
    S.redraw = () => draw(code, q, params, sum, st);
    S.redraw();
    // The trend ends with the month of the chosen period's last day.
    if (sum.responses > 0) loadTrend(st, { months: 12, commune: (sum.commune && sum.commune.code) || code, to: sum.period && sum.period.to });
  })).catch(guard((e) => showError(e, () => viewCommune(code, q))));
}

/** PAPI 2024 national medians by dimension id, from the answer's reference figures. */
export function referenceMedians(ref, dims) {
  const out = {};
  if (!ref) return out;
  const list = ref.dimension_median || ref.dimension_medians;
  if (Array.isArray(list)) dims.forEach((d, i) => { if (isNum(list[i])) out[d.id] = list[i]; });
  for (const x of ref.dimensions || []) if (x && isNum(x.median)) out[x.id] = x.median;
  return out;
}

function flat(sum) {
  const out = [];
  for (const d of sum.dimensions || []) for (const sd of d.subdimensions || []) for (const ind of sd.indicators || []) out.push({ ind, dim: d, sub: sd });
  return out;
}

function communeSelect(c) {
  if (!canCity()) return null;
  const groups = new Map();
  for (const cm of S.communes) {
    if (!groups.has(cm.former_province)) groups.set(cm.former_province, []);
    groups.get(cm.former_province).push(cm);
  }
  const sel = h('select', { id: 'commune-select' }, [...groups].map(([g, list]) => h('optgroup', { label: g },
    list.slice().sort((a, b) => a.name.localeCompare(b.name, 'vi')).map((cm) => h('option', { value: cm.code, selected: cm.code === c.code }, cm.name)))));
  sel.addEventListener('change', () => go(href('commune', sel.value, Object.fromEntries(new URLSearchParams(location.search)))));
  return h('div', { class: 'filters' }, h('div', { class: 'f' }, h('label', { for: 'commune-select', class: 'lbl' }, t('chooseCommune')), sel));
}

function draw(code, q, params, sum, st) {
  const c = sum.commune || S.byCode[code] || { code, name: code };
  setTitle(c.name);
  const m = main();
  m.removeAttribute('aria-busy');
  const policy = policyOf(sum);
  const responses = sum.counted_responses ?? sum.responses ?? 0;
  const changes = {};
  for (const x of (sum.previous && sum.previous.changes) || []) changes[x.id] = x;
  const head = h('div', { class: 'page-head' },
    h('div', { class: 'grow' }, h('h1', { id: 'commune-title' }, c.name),
      h('p', { class: 'sub' }, communeMeta(c), ' · ', h('span', { id: 'period-line' }, t('periodLine', { from: dmy(sum.period.from), to: dmy(sum.period.to) })))),
    communeSelect(c),
    h('a', { class: 'btn btn-small btn-ghost', id: 'open-centres', href: href('centres', c.code) }, t('openCentres')));
  const form = periodForm(q, sum.period);
  const note = sum.note ? h('div', { class: 'note', id: 'note' }, h('p', {}, text(sum.note))) : null;
  if (!sum.responses) {
    replace(m, head, form, emptyState(c, sum, q));
    return;
  }
  const inds = flat(sum);
  const withValue = inds.filter((x) => isNum(x.ind.value));
  const own = withValue.filter((x) => x.ind.estimate !== 'borrowed').length;
  const dimNeeds = {};
  for (const d of sum.dimensions || []) dimNeeds[d.id] = dimensionNeed(d, responses, policy);
  replace(m, head, form, note,
    headline(sum, changes, policy, own, inds.length),
    h('section', { class: 'card chart', 'aria-labelledby': 'chart-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'chart-title' }, t('chartTitle'))),
      h('div', { id: 'chart-box' }, dimensionChart(sum.dimensions || [], changes, referenceMedians(sum.reference_papi_2024, sum.dimensions || []), dimNeeds)),
      (sum.dimensions || []).some((d) => isNum(d.score)) ? h('ul', { class: 'legend' },
        h('li', {}, h('span', { class: 'sw sw-bar' }), t('legBar')), h('li', {}, h('span', { class: 'sw sw-ci' }), t('legCI')),
        h('li', {}, h('span', { class: 'sw sw-ref' }), t('legRef')), h('li', {}, t('legSig'))) : null),
    indicatorSection(withValue, policy, responses, st),
    channelSection(sum.by_channel),
    missingSection(sum, inds, policy, responses, dimNeeds),
    trendSection('trend', 'trendTitle', st, q),
    downloads(c, sum, params));
  S.resize = () => drawTrend(st);
}

function headline(sum, changes, policy, shown, count) {
  const tot = sum.total_score;
  const ch = changes.total;
  const prev = sum.previous || {};
  const need = isNum(tot) ? null : totalNeed(sum, policy);
  let change;
  if (ch && isNum(ch.change)) {
    const dir = ch.change > 0 ? 'up' : ch.change < 0 ? 'down' : '';
    change = kpi(t('change'), [h('span', { class: 'chg ' + dir }, (ch.change > 0 ? '▲ ' : ch.change < 0 ? '▼ ' : '') + signed(ch.change, 2)),
      ch.significant ? h('span', { class: 'sig', id: 'total-change-significant' }, '✱ ' + t('significant')) : null],
    { id: 'total-change', details: [ch.significant ? null : t('notSignificant'), prev.period && t('prevLine', { from: dmy(prev.period.from), to: dmy(prev.period.to), n: int(prev.responses) })] });
  } else {
    change = kpi(t('change'), t('noPrev'), { id: 'total-change', na: true, details: [prev.period && t('prevLine', { from: dmy(prev.period.from), to: dmy(prev.period.to), n: int(prev.responses) })] });
  }
  return h('div', { class: 'kpis' },
    kpi(t('responses'), int(sum.responses), { id: 'responses', details: [
      h('p', { class: 'd', id: 'verified-share' }, t('verifiedLine', { n: int(sum.verified_responses), p: pct(sum.verified_share, 0) })),
      sum.flagged_responses > 0 ? h('p', { class: 'd', id: 'flagged-line' }, t(sum.include_flagged ? 'flaggedIn' : 'flaggedOut', { n: int(sum.flagged_responses) })) : null] }),
    isNum(tot)
      ? kpi(t('totalScore'), nf(tot, 2), { id: 'total-score', details: [t('ci95', { a: nf(sum.total_ci_low, 2), b: nf(sum.total_ci_high, 2) })] })
      : kpi(t('totalScore'), t('notEnough'), { id: 'total-score', na: true, details: [t('notEnoughTotal'), need && h('p', { class: 'd need', id: 'total-need' }, needText(need))] }),
    change,
    kpi(t('indicatorsShown'), `${shown} / ${count}`, { id: 'indicators-shown', details: [t('indicatorsShownLine', { n: policy.minN })] }));
}

function indicatorSection(rows, policy, responses, st) {
  const order = rows.filter((x) => isNum(x.ind.score)).sort((a, b) => a.ind.score - b.ind.score);
  const rankOf = {};
  order.forEach((x, i) => { rankOf[x.ind.id] = i + 1; });
  const tag = (ind) => {
    if (ind.context) return h('span', { class: 'tag' }, t('contextTag'));
    if (ind.estimate === 'borrowed') {
      const need = needed(ind, responses, policy);
      return h('span', { class: 'tag tag-borrowed' }, t('borrowedTag', { p: isNum(ind.own_weight) ? pct(ind.own_weight, 0) : '—' }), need && isNum(need.more) ? ' · ' + needText(need) : '');
    }
    return null;
  };
  const cols = [
    { key: 'gap', label: t('colOrder'), cls: 'num', sort: (r) => rankOf[r.ind.id], cell: (r) => (rankOf[r.ind.id] ? String(rankOf[r.ind.id]) : '') },
    { key: 'name', label: t('colIndicator'), rowHeader: true, cls: 'ind', sort: (r) => idKey(r.ind.id),
      cell: (r) => [h('span', { class: 'ind-name' }, pick(S.indById[r.ind.id] || r.ind)), h('span', { class: 'ind-sub' }, `${r.ind.id} · ${t('kind_' + r.ind.kind)}`), tag(r.ind)] },
    { key: 'score', label: t('colScore'), cls: 'num score', sort: (r) => r.ind.score,
      cell: (r) => (isNum(r.ind.score)
        ? [h('span', { class: 'mini-bar', 'aria-hidden': 'true' }, h('span', { style: { width: `${Math.max(0, Math.min(100, (r.ind.score - 1) / 9 * 100)).toFixed(1)}%` } })), h('strong', {}, nf(r.ind.score, 2))]
        : dash(t('contextTag'))) },
    { key: 'value', label: t('colValue'), cls: 'num', sort: (r) => r.ind.value, cell: (r) => valueText(r.ind.kind, r.ind.value) },
    { key: 'n', label: t('colN'), cls: 'num', sort: (r) => r.ind.n, cell: (r) => (isNum(r.ind.n) ? int(r.ind.n) : dash(t('hiddenNTip', { n: policy.hideBelow }))) },
    { key: 'ci', label: t('colCI'), cls: 'num', cell: (r) => (isNum(r.ind.ci_low) && isNum(r.ind.ci_high) ? `${valueText(r.ind.kind, r.ind.ci_low)} – ${valueText(r.ind.kind, r.ind.ci_high)}` : '—') },
  ];
  if (!st.table) st.table = { key: 'gap', dir: 'ascending' };
  const sec = h('section', { class: 'card', 'aria-labelledby': 'ind-title', id: 'indicators' },
    h('div', { class: 'card-head' }, h('h2', { id: 'ind-title' }, t('indTitle'))),
    h('p', { class: 'small' }, t('indHelp')));
  if (!rows.length) {
    sec.append(h('p', { class: 'msg msg-info', id: 'no-indicators' }, t('noIndicatorsYet', { n: policy.minN })));
    return sec;
  }
  const tbl = new SortTable('indicator-table', cols, rows, {
    key: st.table.key, dir: st.table.dir, caption: t('indTitle'),
    rowAttrs: (r) => ({ dataset: { indicator: r.ind.id }, class: isNum(r.ind.score) ? null : 'muted' }),
    onSort: (x) => { st.table = { key: x.key, dir: x.dir }; },
  });
  sec.append(...scrollBox(tbl.table, 'ind-table-wrap'));
  return sec;
}

/**
 * Each channel's own value beside the others' where two or more channels
 * have enough answers (by_channel), with the differences sampling error
 * does not explain.
 */
function channelSection(bc) {
  if (!bc || !(bc.indicators || []).length) return null;
  const chans = ['qr', 'kiosk', 'household'].filter((ch) => bc.indicators.some((x) => x.values.some((v) => v.channel === ch)));
  const cell = (x, ch) => {
    const v = x.values.find((y) => y.channel === ch);
    if (!v) return '—';
    return [h('strong', {}, valueText(x.kind, v.value)), h('span', { class: 'ind-sub' }, `${valueText(x.kind, v.ci_low)} – ${valueText(x.kind, v.ci_high)} · n ${int(v.n)}`)];
  };
  const rows = bc.indicators.map((x) => h('tr', { dataset: { indicator: x.id }, class: x.gaps.length ? 'gap-row' : null },
    h('th', { scope: 'row', class: 'ind' }, h('span', { class: 'ind-name' }, pick(S.indById[x.id] || x)), h('span', { class: 'ind-sub' }, x.id)),
    chans.map((ch) => h('td', { class: 'num' }, cell(x, ch))),
    h('td', {}, x.gaps.length ? x.gaps.map((g) => h('span', { class: 'tag tag-gap' }, t('channelGap', { a: t('channel_' + g.a), b: t('channel_' + g.b), d: valueText(x.kind, Math.abs(g.difference)) }))) : t('channelNoGap'))));
  const table = h('table', { class: 'data', id: 'channel-table' },
    h('caption', { class: 'visually-hidden' }, t('byChannelTitle')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('colIndicator')), chans.map((ch) => h('th', { scope: 'col', class: 'num' }, t('channel_' + ch) + ` (${int(bc.channels[ch] || 0)})`)), h('th', { scope: 'col' }, t('channelGapCol')))),
    h('tbody', {}, rows));
  return h('section', { class: 'card', 'aria-labelledby': 'channel-title', id: 'by-channel' },
    h('h2', { id: 'channel-title' }, t('byChannelTitle')),
    h('p', { class: 'small', id: 'channel-summary' }, t('byChannelLine', { n: bc.indicators.length, g: bc.gaps }), ' ', text(bc.note)),
    ...scrollBox(table, 'channel-table-wrap'));
}

function missingSection(sum, inds, policy, responses, dimNeeds) {
  const byDim = (sum.dimensions || []).map((d) => ({ d, list: inds.filter((x) => x.dim === d && !(isNum(x.ind.value) && x.ind.estimate !== 'borrowed')) }))
    .filter((x) => x.list.length);
  if (!byDim.length) return null;
  const total = byDim.reduce((a, x) => a + x.list.length, 0);
  return h('section', { class: 'card', 'aria-labelledby': 'missing-title', id: 'missing' },
    h('h2', { id: 'missing-title' }, t('missingTitle', { n: total })),
    h('p', { class: 'small', id: 'suppressed-legend' }, t('missingHelp', { n: policy.minN, h: policy.hideBelow })),
    byDim.map(({ d, list }) => h('details', { class: 'missing-dim', dataset: { dim: d.id } },
      h('summary', {}, h('span', { class: 'md-name' }, `${d.id} · ${pick(d)}`),
        h('span', { class: 'md-count' }, t('missingCount', { n: list.length })),
        dimNeeds[d.id] ? h('span', { class: 'md-need' }, needText(dimNeeds[d.id])) : null),
      h('ul', { class: 'missing-list' }, list.sort((a, b) => idKey(a.ind.id).localeCompare(idKey(b.ind.id))).map((x) => {
        const need = needed(x.ind, responses, policy);
        return h('li', { dataset: { indicator: x.ind.id } },
          h('span', { class: 'ml-id' }, x.ind.id), ' ', h('span', { class: 'ml-name' }, pick(S.indById[x.ind.id] || x.ind)),
          h('span', { class: 'ml-why' }, isNum(x.ind.n) ? t('missingN', { n: int(x.ind.n), min: policy.minN }) : t('missingHidden', { h: policy.hideBelow }),
            need ? ' · ' + needText(need) : ''));
      })))));
}

function downloads(c, sum, params) {
  const base = '/api/v1/communes/' + encodeURIComponent(c.code);
  return h('section', { class: 'card', 'aria-labelledby': 'dl-title' }, h('h2', { id: 'dl-title' }, t('downloads')),
    h('div', { class: 'downloads' },
      h('a', { class: 'btn', id: 'dl-csv', href: base + '/summary' + qstr({ format: 'csv', ...params }), download: true }, t('dlCSV')),
      h('a', { class: 'btn', id: 'dl-csv-vi', href: base + '/summary' + qstr({ format: 'csv', locale: 'vi', ...params }), download: true }, t('dlCSVLocale')),
      h('a', { class: 'btn', id: 'dl-xlsx', href: base + '/summary' + qstr({ format: 'xlsx', ...params }), download: true }, t('dlXLSX')),
      h('a', { class: 'btn', id: 'dl-report', href: base + '/summary' + qstr({ format: 'html', ...params }), target: '_blank', rel: 'noopener' }, t('dlReport'), h('span', { class: 'visually-hidden' }, ' ' + t('newTab'))),
      h('a', { class: 'btn', id: 'dl-raw', href: base + '/responses.csv' + qstr({ from: sum.period.from, to: sum.period.to }), download: true }, t('dlRaw'))));
}
