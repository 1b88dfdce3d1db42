// The heat map: communes by the eight dimensions, each cell coloured by the
// commune's band within that dimension.
import { t, pick } from '../i18n.js';
import { h } from '../dom.js';
import { nf, isNum } from '../format.js';
import { href, periodParams } from './app.js';
import { scrollBox } from './widgets.js';

export function heatmap(rows, dims, bands, q) {
  const table = h('table', { class: 'heatmap', id: 'heatmap' },
    h('caption', { class: 'visually-hidden' }, t('viewHeat')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('commune')),
      dims.map((d) => h('th', { scope: 'col', title: pick(d) }, h('abbr', { title: pick(d) }, d.id))))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { commune: r.commune.code } },
      h('th', { scope: 'row' }, h('a', { href: href('commune', r.commune.code, periodParams(q)) }, r.commune.name)),
      dims.map((d, i) => {
        const x = r.dimensions[i] || {};
        const scored = isNum(x.score);
        const label = `${r.commune.name} — ${d.id} ${pick(d)}: ` + (scored ? nf(x.score, 2) + (x.band ? ' — ' + bands.name(x.band) : '') : t('bandNone'));
        return h('td', { class: 'hm-cell b-' + (x.band || (scored ? 'nb' : 'none')), title: label, dataset: { commune: r.commune.code, dim: d.id, band: x.band || '' } },
          h('span', { 'aria-hidden': 'true' }, scored ? nf(x.score, 1) : '—', x.band ? h('span', { class: 'bn' }, String(bands.no(x.band))) : null),
          h('span', { class: 'visually-hidden' }, label));
      })))));
  return scrollBox(table, 'heatmap-box');
}
