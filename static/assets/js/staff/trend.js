// The monthly trend, shared by the commune and city pages: a line of the
// total or of one dimension over 12 months, with the same numbers in a
// table for screen readers.
import { t, pick } from '../i18n.js';
import { api, errText, qstr } from '../api.js';
import { h, s, replace, $ } from '../dom.js';
import { nf, int, isNum, monthLabel } from '../format.js';
import { S, guard } from './app.js';

/** Loads the trend into st (st.trend or st.trendErr) and draws it. */
export function loadTrend(st, params) {
  st.trend = null;
  st.trendErr = null;
  api('/api/v1/trend' + qstr(params))
    .then(guard((r) => { st.trend = r || { points: [] }; drawTrend(st); }))
    .catch(guard((e) => { st.trendErr = e; drawTrend(st); }));
}

/** The trend card: title, the measure to show, the chart box. */
export function trendSection(id, titleKey, st, q) {
  const dims = (S.cat && S.cat.dimensions) || [];
  const sel = h('select', { id: 'trend-dimension' },
    h('option', { value: '', selected: !st.trendDim }, t('trendTotal')),
    dims.map((d) => h('option', { value: d.id, selected: st.trendDim === d.id }, `${d.id} · ${pick(d)}`)));
  sel.addEventListener('change', () => { st.trendDim = sel.value; drawTrend(st); });
  return h('section', { class: 'card chart trend', id, 'aria-labelledby': id + '-title' },
    h('div', { class: 'card-head' }, h('h2', { id: id + '-title' }, t(titleKey)),
      h('div', { class: 'trend-pick' }, h('label', { for: 'trend-dimension' }, t('trendShow')), sel)),
    h('div', { id: 'trend-box' }, trendBody(st)),
    q && q.verified === '1' ? h('p', { class: 'small', id: 'trend-scope' }, t('trendScope')) : null);
}

export function drawTrend(st) {
  const box = $('trend-box');
  if (box) replace(box, trendBody(st));
}

/** The monthly series of the chosen measure; v, lo, hi are null when not scored. */
function series(st) {
  const id = st.trendDim || '';
  return ((st.trend && st.trend.points) || []).map((p) => {
    let v = null;
    let lo = null;
    let hi = null;
    if (!id) v = p.total_score;
    else {
      const d = (p.dimensions || []).find((x) => x.id === id);
      if (d) { v = d.score; lo = d.ci_low; hi = d.ci_high; }
    }
    return { from: p.period && p.period.from, n: p.responses, v: isNum(v) ? v : null, lo: isNum(lo) ? lo : null, hi: isNum(hi) ? hi : null };
  });
}

function what(st) {
  if (!st.trendDim) return t('trendTotal');
  const d = ((S.cat && S.cat.dimensions) || []).find((x) => x.id === st.trendDim);
  return `${st.trendDim} ${d ? pick(d) : ''} (1–10)`;
}

function trendBody(st) {
  if (st.trendErr) return h('p', { class: 'msg msg-error', role: 'alert', id: 'trend-error' }, t('trendErr') + ' ' + errText(st.trendErr));
  if (!st.trend) return h('p', { class: 'loading-line', role: 'status' }, t('loading'));
  const ser = series(st);
  const scored = ser.filter((x) => x.v != null);
  const isTotal = !st.trendDim;
  const w = what(st);
  const out = [];
  if (scored.length < 2) {
    let hint = '';
    if (isTotal) {
      hint = ' ' + t('notEnoughTotal');
      // Point to the dimensions when some of them do have a trend.
      const dimOK = ((S.cat && S.cat.dimensions) || []).some((d) => (st.trend.points || [])
        .filter((p) => (p.dimensions || []).some((x) => x.id === d.id && isNum(x.score))).length >= 2);
      if (dimOK) hint += ' ' + t('trendTryDim');
    }
    out.push(h('p', { class: 'note trend-note', id: 'trend-note' }, h('strong', {}, t('trendNotEnough')), hint));
  }
  // Without a single scored month the chart would be an empty frame.
  if (scored.length) out.push(chart(ser, isTotal, w, boxWidth()));
  out.push(h('p', { class: 'small trend-help' }, t('trendHelp') + (isTotal ? '' : ' ' + t('trendHelpCI'))));
  // A table is never narrower than its text, so the box is what is hidden.
  out.push(h('div', { class: 'visually-hidden' }, h('table', { id: 'trend-table' },
    h('caption', {}, t('trendTableCap', { what: w })),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('trendMonth')), h('th', { scope: 'col' }, t('responses')), h('th', { scope: 'col' }, w),
      isTotal ? null : h('th', { scope: 'col' }, t('colCI')))),
    h('tbody', {}, ser.map((x) => h('tr', {}, h('th', { scope: 'row' }, monthLabel(x.from)), h('td', {}, int(x.n)),
      h('td', {}, x.v != null ? nf(x.v, 2) : t('trendNA')),
      isTotal ? null : h('td', {}, x.lo != null && x.hi != null ? `${nf(x.lo, 2)} – ${nf(x.hi, 2)}` : '—')))))));
  return out;
}

/** The chart is drawn at the box's real width, so 12 px text stays 12 px. */
function boxWidth() {
  const box = $('trend-box');
  const w = (box && box.clientWidth) || 0;
  return Math.max(280, Math.min(1400, w || 600));
}

/** Tick step giving at most about five intervals over span. */
function niceStep(span) {
  for (const st of [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20]) if (span / st <= 5) return st;
  return 20;
}

/** A line chart of one monthly measure; months without a value leave a gap. */
function chart(ser, isTotal, w, W) {
  const n = ser.length;
  const L = W < 480 ? 40 : 54;
  const R = 14;
  const top = 18;
  const plotH = W < 480 ? 150 : 190;
  const plotW = W - L - R;
  const band = n ? plotW / n : plotW;
  const narrow = band < 62; // short month names, years on a row of their own
  const every = band < 30 ? 2 : 1; // on a phone, every other month is named
  const H = top + plotH + (narrow ? 58 : 46);
  const vals = [];
  ser.forEach((x) => { for (const v of [x.v, x.lo, x.hi]) if (v != null) vals.push(v); });
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  // Keep month-to-month noise from looking like a cliff.
  const minSpan = isTotal ? 8 : 1;
  if (hi - lo < minSpan) { const mid = (hi + lo) / 2; lo = mid - minSpan / 2; hi = mid + minSpan / 2; }
  const step = niceStep(hi - lo);
  lo = Math.max(isTotal ? 8 : 1, Math.floor(lo / step) * step);
  hi = Math.min(isTotal ? 80 : 10, Math.ceil(hi / step) * step);
  if (hi <= lo) hi = lo + step;
  let dec = step < 0.25 ? 1 : step < 1 ? 2 : 0;
  if (step === 0.5 || step === 2.5) dec = 1;
  const x = (i) => L + (i + 0.5) * band;
  const y = (v) => top + (1 - (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)) * plotH;
  const f = (v) => v.toFixed(1);

  const scored = ser.filter((p) => p.v != null);
  const a = n ? monthLabel(ser[0].from) : '';
  const b = n ? monthLabel(ser[n - 1].from) : '';
  const pv = (p) => t('trendPointIs', { m: monthLabel(p.from), v: nf(p.v, 2) });
  const aria = scored.length >= 2
    ? t('trendAria', { what: w, a, b, first: pv(scored[0]), last: pv(scored[scored.length - 1]), k: scored.length, n })
    : t('trendAriaOne', { what: w, a, b, first: pv(scored[0]) });

  const g = [];
  for (let v = lo; v <= hi + step / 1000; v += step) {
    g.push(s('line', { class: 'grid', x1: L, x2: W - R, y1: f(y(v)), y2: f(y(v)) }),
      s('text', { class: 'tick', x: L - 6, y: f(y(v) + 4), 'text-anchor': 'end' }, nf(v, dec)));
  }
  g.push(s('line', { class: 'axis', x1: L, x2: W - R, y1: top + plotH, y2: top + plotH }));
  // Counted from the last month, so the latest is always named.
  const named = (i) => (n - 1 - i) % every === 0;
  ser.forEach((p, i) => {
    g.push(s('g', { class: 'xt' + (p.v == null ? ' xt-na' : '') },
      s('line', { class: 'tickmark', x1: f(x(i)), x2: f(x(i)), y1: top + plotH, y2: top + plotH + 4 }),
      named(i) ? s('text', { class: 'tick mlbl', x: f(x(i)), y: top + plotH + 18, 'text-anchor': 'middle' }, narrow ? monthLabel(p.from, true) : monthLabel(p.from)) : null,
      named(i) ? s('text', { class: 'tick nlbl', x: f(x(i)), y: top + plotH + 36, 'text-anchor': 'middle' }, (narrow ? '' : 'n=') + int(p.n)) : null));
  });
  if (narrow) {
    // The year under the first named month of each year.
    let year = '';
    ser.forEach((p, i) => {
      const y4 = String(p.from).slice(0, 4);
      if (!named(i) || y4 === year) return;
      year = y4;
      g.push(s('text', { class: 'tick yr', x: f(x(i)), y: top + plotH + 52, 'text-anchor': 'middle' }, y4));
    });
  }
  ser.forEach((p, i) => {
    if (p.v == null || p.lo == null || p.hi == null) return;
    g.push(s('line', { class: 'tci', x1: f(x(i)), x2: f(x(i)), y1: f(y(p.hi)), y2: f(y(p.lo)) }),
      s('line', { class: 'tci', x1: f(x(i) - 4), x2: f(x(i) + 4), y1: f(y(p.hi)), y2: f(y(p.hi)) }),
      s('line', { class: 'tci', x1: f(x(i) - 4), x2: f(x(i) + 4), y1: f(y(p.lo)), y2: f(y(p.lo)) }));
  });
  let d = '';
  let prev = false;
  ser.forEach((p, i) => {
    if (p.v == null) { prev = false; return; }
    d += (prev ? ' L' : (d ? ' M' : 'M')) + f(x(i)) + ' ' + f(y(p.v));
    prev = true;
  });
  if (d) g.push(s('path', { class: 'tline', d }));
  ser.forEach((p, i) => {
    if (p.v == null) return;
    const tip = `${monthLabel(p.from)}: ${nf(p.v, 2)}` + (p.lo != null && p.hi != null ? ` (${t('ci95', { a: nf(p.lo, 2), b: nf(p.hi, 2) })})` : '') + ` · ${t('responses')} ${int(p.n)}`;
    g.push(s('circle', { class: 'tpt', cx: f(x(i)), cy: f(y(p.v)), r: 4.5, 'data-month': p.from }, s('title', {}, tip)));
  });
  const ends = scored.length > 1 ? [scored[0], scored[scored.length - 1]] : scored;
  for (const p of ends) {
    const i = ser.indexOf(p);
    let ly = (p.hi != null ? y(p.hi) : y(p.v)) - 9;
    if (ly < top - 4) ly = y(p.v) + 20;
    g.push(s('text', { class: 'tval', x: f(x(i)), y: f(ly), 'text-anchor': 'middle' }, nf(p.v, isTotal ? 1 : 2)));
  }
  return s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': aria, id: 'trend-chart', focusable: 'false', 'data-scored': scored.length }, g);
}
