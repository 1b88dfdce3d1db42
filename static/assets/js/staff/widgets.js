// Pieces shared by the staff views: loading and error states, the period
// form, sortable tables, headline figures.
import { t, lang } from '../i18n.js';
import { ApiError, errText } from '../api.js';
import { h, replace, sr } from '../dom.js';
import { locale } from '../format.js';
import { S, main, currentRoute, href, go } from './app.js';

export function showLoading() {
  const m = main();
  m.setAttribute('aria-busy', 'true');
  replace(m, h('p', { class: 'loading-line', role: 'status' }, t('loading')));
}

/** Shows an error in place of the view, with a retry when retrying can help. */
export function showError(e, retry) {
  const m = main();
  m.removeAttribute('aria-busy');
  // Retrying cannot help a refusal, a missing commune or a bad filter.
  if (e instanceof ApiError && [400, 403, 404].includes(e.status)) retry = null;
  const r = currentRoute();
  replace(m, h('div', { class: 'msg ' + (e instanceof ApiError && e.status === 403 ? 'msg-warn' : 'msg-error'), role: 'alert' },
    h('p', {}, errText(e)),
    retry && h('p', {}, h('button', { type: 'button', class: 'btn btn-small', id: 'retry-btn', on: { click: retry } }, t('retry'))),
    e instanceof ApiError && e.status === 400 && h('p', {}, h('a', { id: 'clear-filters', href: href(r.view, r.code) }, t('clearFilters')))));
  S.redraw = () => showError(e, retry);
}

/** A one-line message in place of the view (not found, forbidden). */
export function showMessage(key) {
  replace(main(), h('div', { class: 'msg msg-warn', role: 'alert' }, h('h1', { class: 'msg-title' }, t(key))));
  main().removeAttribute('aria-busy');
  S.redraw = () => showMessage(key);
}

/** An em dash for a missing value; its reason is read out and shown on hover. */
export function dash(tip) {
  return [h('span', { class: 'dash', title: tip, 'aria-hidden': 'true' }, '—'), sr(tip)];
}

/** "Phường · Hồ Chí Minh · Mã 26740". */
export function communeMeta(c) {
  return [t('type_' + c.type), c.former_province, t('code') + ' ' + c.code].filter(Boolean).join(' · ');
}

/** A headline figure: label, value (or a "not available" text) and detail lines. */
export function kpi(label, value, { id, na = false, details = [] } = {}) {
  return h('div', { class: 'kpi' },
    h('p', { class: 'k' }, label),
    h('p', { class: na ? 'v na' : 'v', id }, value),
    details.filter(Boolean).map((d) => (d instanceof Node ? d : h('p', { class: 'd' }, d))));
}

const PRESETS = [['', 'pLast365'], ['month', 'pMonth'], ['quarter', 'pQuarter'], ['year', 'pYear'], ['custom', 'pCustom']];

/**
 * The period form. extra are more fields (nodes) placed before the
 * "verified" box; readExtra(nq) adds their values to the new query. On
 * submit the view reloads at the same path with the new query.
 */
export function periodForm(q, period, { extra = [], readExtra } = {}) {
  const preset = q.from && q.to ? 'custom' : (q.period || '');
  const sel = h('select', { id: 'period-preset' }, PRESETS.map(([v, k]) => h('option', { value: v, selected: v === preset }, t(k))));
  const from = h('input', { type: 'date', id: 'period-from', value: period ? period.from : (q.from || '') });
  const to = h('input', { type: 'date', id: 'period-to', value: period ? period.to : (q.to || '') });
  const verified = h('input', { type: 'checkbox', id: 'verified-only', checked: q.verified === '1' });
  const channel = h('select', { id: 'channel-filter' }, ['', 'qr', 'kiosk', 'household'].map((v) =>
    h('option', { value: v, selected: (q.channel || '') === v }, t(v ? 'channel_' + v : 'channelAll'))));
  const mark = () => { sel.value = 'custom'; };
  from.addEventListener('input', mark);
  to.addEventListener('input', mark);
  const form = h('form', { class: 'card filters', id: 'filters', novalidate: true },
    h('div', { class: 'f' }, h('label', { for: 'period-preset' }, t('period')), sel),
    h('div', { class: 'f' }, h('label', { for: 'period-from' }, t('from')), from),
    h('div', { class: 'f' }, h('label', { for: 'period-to' }, t('to')), to),
    extra,
    h('div', { class: 'f' }, h('label', { for: 'channel-filter' }, t('channelLabel')), channel),
    h('label', { class: 'check' }, verified, ' ', t('verifiedOnly')),
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'apply-filters' }, t('apply')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const nq = {};
    if (sel.value === 'custom') {
      let f = from.value;
      let e = to.value;
      if (f && e) {
        if (f > e) [f, e] = [e, f];
        nq.from = f;
        nq.to = e;
      }
    } else if (sel.value) {
      nq.period = sel.value;
    }
    if (verified.checked) nq.verified = '1';
    if (channel.value) nq.channel = channel.value;
    if (q.flagged === 'include') nq.flagged = 'include';
    if (readExtra) readExtra(nq);
    const r = currentRoute();
    go(href(r.view, r.code, nq));
  });
  return form;
}

/**
 * A table sorted by a click on a column head.
 * cols: [{key, label, title?, cls?, rowHeader?, firstDir?, sort?(row) → value, cell(row) → nodes}]
 */
export class SortTable {
  constructor(id, cols, rows, { key = null, dir = 'ascending', caption = '', rowAttrs = null, onSort = null } = {}) {
    Object.assign(this, { id, cols, rows, key, dir, caption, rowAttrs, onSort });
    this.table = h('table', { class: 'data', id });
    this.table.addEventListener('click', (ev) => {
      const b = ev.target.closest('.sort-btn');
      if (!b || !this.table.contains(b)) return;
      const k = b.dataset.sort;
      const col = this.cols.find((c) => c.key === k);
      if (this.key === k) this.dir = this.dir === 'ascending' ? 'descending' : 'ascending';
      else { this.key = k; this.dir = (col && col.firstDir) || 'ascending'; }
      this.draw();
      this.table.querySelector(`.sort-btn[data-sort="${k}"]`)?.focus();
      if (this.onSort) this.onSort(this);
    });
    this.draw();
  }

  sorted() {
    const col = this.cols.find((c) => c.key === this.key);
    if (!col || !col.sort) return this.rows.slice();
    const dir = this.dir === 'ascending' ? 1 : -1;
    const coll = new Intl.Collator(locale());
    return this.rows.map((r, i) => ({ r, i, v: col.sort(r) })).sort((a, b) => {
      const an = a.v == null || a.v === '';
      const bn = b.v == null || b.v === '';
      if (an && bn) return a.i - b.i;
      if (an) return 1; // missing values always last
      if (bn) return -1;
      const c = typeof a.v === 'string' ? coll.compare(a.v, b.v) : a.v - b.v;
      return c !== 0 ? c * dir : a.i - b.i;
    }).map((x) => x.r);
  }

  draw() {
    const head = h('tr', {}, this.cols.map((c) => {
      const props = { scope: 'col', class: c.cls, title: c.title };
      if (!c.sort) return h('th', props, c.label);
      props['aria-sort'] = this.key === c.key ? this.dir : 'none';
      return h('th', props, h('button', { type: 'button', class: 'sort-btn', dataset: { sort: c.key } }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' })));
    }));
    const rows = this.sorted();
    const body = rows.length
      ? rows.map((r) => h('tr', this.rowAttrs ? this.rowAttrs(r) : {}, this.cols.map((c) => h(c.rowHeader ? 'th' : 'td', { scope: c.rowHeader ? 'row' : null, class: c.cls }, c.cell(r)))))
      : h('tr', {}, h('td', { colspan: this.cols.length, class: 'empty' }, t('noRows')));
    replace(this.table, this.caption && h('caption', { class: 'visually-hidden' }, this.caption), h('thead', {}, head), h('tbody', {}, body));
  }
}

/**
 * A horizontally scrolling box for a wide table, with a cue (a shadow at
 * the hidden edge and a line saying so) while columns are out of sight.
 */
export function scrollBox(table, id) {
  const hint = h('p', { class: 'scroll-hint', 'aria-hidden': 'true', hidden: true }, t('scrollHint'));
  const box = h('div', { class: 'table-wrap', id, tabindex: '0', role: 'region', 'aria-label': table.querySelector('caption')?.textContent || t('tableRegion') }, table);
  const update = () => {
    const more = box.scrollWidth > box.clientWidth + 2;
    hint.hidden = !more || box.scrollLeft + box.clientWidth >= box.scrollWidth - 2;
    box.classList.toggle('scrolls', more);
  };
  box.addEventListener('scroll', update, { passive: true });
  if (window.ResizeObserver) new ResizeObserver(update).observe(box);
  requestAnimationFrame(update);
  return [hint, box];
}

/** Is the language Vietnamese? (Some texts differ in more than words.) */
export function vi() { return lang === 'vi'; }
