// The dimension chart: one row per dimension with its 1–10 score as a bar,
// the 95% interval as a whisker and PAPI 2024's national median as a
// diamond. Built from HTML boxes positioned in percent, so its text is page
// text: it wraps and keeps its size on a phone.
import { t, pick } from '../i18n.js';
import { h, sr } from '../dom.js';
import { nf, signed, int, isNum } from '../format.js';

const pos = (v) => `${((Math.max(1, Math.min(10, v)) - 1) / 9 * 100).toFixed(2)}%`;

/** What still has to come before a value: "cần thêm khoảng 120 phiếu". */
export function needText(need) {
  if (!need) return t('dimNotScored');
  if (need.weighted) return t('needWeighted');
  return t(need.atLeast ? 'needAtLeast' : 'needAbout', { n: int(need.more) });
}

/**
 * dims: summary dimensions; changes: id → {change, significant};
 * refs: PAPI 2024 medians by dimension id; needs: id → dimensionNeed().
 * Scored dimensions are drawn; the others are listed below in one line
 * each, saying what they still need, so thin data is not a wall of empty bars.
 */
export function dimensionChart(dims, changes, refs, needs) {
  const scored = dims.filter((d) => isNum(d.score));
  const unscored = dims.filter((d) => !isNum(d.score));
  const rows = scored.map((d) => {
    const ref = refs[d.id];
    const c = changes[d.id];
    const track = h('span', { class: 'dc-track', 'aria-hidden': 'true' }, h('span', { class: 'dc-bar', style: { width: pos(d.score) } }));
    if (isNum(d.ci_low) && isNum(d.ci_high)) {
      track.append(h('span', { class: 'dc-ci', style: { left: pos(d.ci_low), width: `calc(${pos(d.ci_high)} - ${pos(d.ci_low)})` } }));
    }
    if (isNum(ref)) track.append(h('span', { class: 'dc-ref', title: 'PAPI 2024: ' + nf(ref, 2), style: { left: pos(ref) } }));
    const said = `${d.id} ${pick(d)}: ${nf(d.score, 2)} (${t('ci95', { a: nf(d.ci_low, 2), b: nf(d.ci_high, 2) })})` +
      (isNum(ref) ? `; PAPI 2024: ${nf(ref, 2)}` : '') + (c && isNum(c.change) ? `; ${t('change')}: ${signed(c.change, 2)}${c.significant ? ' (' + t('significant') + ')' : ''}` : '');
    return h('li', { class: 'dc-row', dataset: { dim: d.id } },
      h('span', { class: 'dc-label', 'aria-hidden': 'true' }, h('span', { class: 'dc-id' }, d.id), ' ', pick(d)),
      h('span', { class: 'dc-plot', 'aria-hidden': 'true' }, track,
        h('span', { class: 'dc-val' }, nf(d.score, 2), c && isNum(c.change) ? h('span', { class: 'dc-chg' }, signed(c.change, 2) + (c.significant ? ' ✱' : '')) : null)),
      sr(said));
  });
  const out = h('div', { class: 'dchart', id: 'dimension-chart' });
  if (scored.length) {
    out.append(h('ul', { class: 'dc-rows', 'aria-describedby': 'chart-desc' }, rows),
      h('div', { class: 'dc-axis', 'aria-hidden': 'true' },
        h('span', { class: 'dc-axis-track' }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((g) => h('span', { class: 'dc-tick', style: { left: pos(g) } }, String(g))))),
      h('p', { class: 'visually-hidden', id: 'chart-desc' }, t('chartDesc')));
  }
  if (unscored.length) {
    out.append(h('h3', { class: 'dc-rest-title' }, scored.length ? t('dimsNotYet', { n: unscored.length }) : t('dimsNoneYet')),
      h('ul', { class: 'dc-rest', id: 'dims-unscored' }, unscored.map((d) => h('li', { dataset: { dim: d.id } },
        h('span', { class: 'dc-label' }, h('span', { class: 'dc-id' }, d.id), ' ', pick(d)),
        h('span', { class: 'dc-need' }, needText(needs[d.id]))))));
  }
  return out;
}
