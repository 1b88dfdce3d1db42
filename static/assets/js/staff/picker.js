// Choosing what to rank communes by: the total, a dimension, or one of the
// 118 indicators, found by searching its code or name and grouped by
// dimension and sub-dimension (built from GET /api/v1/catalogue).
import { t, pick } from '../i18n.js';
import { h } from '../dom.js';
import { S } from './app.js';

/** Lower case without diacritics, so "hai long" finds "hài lòng". */
export function fold(s) {
  return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase();
}

/**
 * The ranking control. current: '' (total), a dimension id or an indicator
 * id; choose(id) is called with the new choice. rankable, when the
 * comparison lists it ([{subdimensions: [{indicators: [{id}]}]}]), leaves
 * out what cannot be ranked (context indicators).
 */
export function rankPicker(current, choose, rankable) {
  let ok = null;
  if (Array.isArray(rankable)) {
    ok = new Set();
    for (const g of rankable) for (const sd of g.subdimensions || []) for (const i of sd.indicators || []) ok.add(i.id);
  }
  const dims = (S.cat && S.cat.dimensions) || [];
  const isInd = !!S.indById[current];
  const sel = h('select', { id: 'rank-by' },
    h('option', { value: '', selected: !current }, t('rankTotal')),
    h('optgroup', { label: t('rankDims') }, dims.map((d) => h('option', { value: d.id, selected: current === d.id }, `${d.id} · ${pick(d)}`))),
    isInd ? h('optgroup', { label: t('rankIndicator') }, h('option', { value: current, selected: true }, `${current} · ${pick(S.indById[current])}`)) : null);
  sel.addEventListener('change', () => choose(sel.value));

  const search = h('input', { type: 'search', id: 'ind-search', autocomplete: 'off', 'aria-describedby': 'ind-count', spellcheck: 'false' });
  const count = h('p', { class: 'small', id: 'ind-count', 'aria-live': 'polite' });
  const items = [];
  const groups = dims.map((d) => {
    const subs = (d.subdimensions || []).map((sd) => {
      const lis = (sd.indicators || []).filter((ind) => !ok || ok.has(ind.id)).map((ind) => {
        const b = h('button', { type: 'button', class: 'ind-choice', dataset: { indicator: ind.id }, 'aria-pressed': String(current === ind.id) },
          h('span', { class: 'ind-id' }, ind.id), ' ', pick(ind));
        b.addEventListener('click', () => choose(ind.id));
        const li = h('li', {}, b);
        items.push({ li, key: fold(ind.id + ' ' + ind.name + ' ' + (ind.name_en || '')), ind });
        return li;
      });
      const box = h('div', { class: 'ind-sub-group' }, h('h4', {}, `${sd.id} · ${pick(sd)}`), h('ul', {}, lis));
      return { box, lis };
    });
    const det = h('details', { class: 'ind-dim', dataset: { dim: d.id }, open: isInd && S.indById[current].dim === d },
      h('summary', {}, `${d.id} · ${pick(d)}`), subs.map((x) => x.box));
    return { det, subs };
  });
  const filter = () => {
    const q = fold(search.value.trim());
    let n = 0;
    for (const it of items) {
      const show = !q || q.split(/\s+/).every((w) => it.key.includes(w));
      it.li.hidden = !show;
      if (show) n++;
    }
    for (const g of groups) {
      let any = false;
      for (const sub of g.subs) {
        const vis = sub.lis.some((li) => !li.hidden);
        sub.box.hidden = !vis;
        any = any || vis;
      }
      g.det.hidden = !any;
      if (q) g.det.open = any;
    }
    count.textContent = t('indFound', { n });
  };
  search.addEventListener('input', filter);
  // Enter picks the only match instead of submitting anything.
  search.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const vis = items.filter((it) => !it.li.hidden);
    if (vis.length === 1) choose(vis[0].ind.id);
  });
  const panel = h('div', { class: 'ind-picker', id: 'ind-picker', hidden: !isInd },
    h('div', { class: 'f' }, h('label', { for: 'ind-search' }, t('indSearch')), search), count,
    h('div', { class: 'ind-tree' }, groups.map((g) => g.det)));
  const toggle = h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'ind-picker-btn', 'aria-expanded': String(isInd), 'aria-controls': 'ind-picker' }, t('rankByIndicator'));
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    panel.hidden = !open;
    if (open) search.focus();
  });
  filter();
  return h('div', { class: 'rank-picker' },
    h('div', { class: 'rank-row' }, h('div', { class: 'f' }, h('label', { for: 'rank-by' }, t('rankBy')), sel), toggle),
    panel);
}
