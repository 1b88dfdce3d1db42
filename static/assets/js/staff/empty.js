// The commune page for a period without a single answer: say so plainly and
// offer what helps get answers (print the poster, share the form's link).
import { t } from '../i18n.js';
import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { int, dmy } from '../format.js';
import { href } from './app.js';
import { shortURL } from './centres.js';

export function emptyState(c, sum, q) {
  const prev = sum.previous || {};
  const wider = q.period || (q.from && q.to);
  const actions = h('div', { class: 'empty-actions', id: 'empty-actions' }, h('p', { class: 'loading-line', role: 'status' }, t('loading')));
  const box = h('section', { class: 'card empty-state', id: 'empty-state', 'aria-labelledby': 'empty-title' },
    h('h2', { id: 'empty-title' }, t('emptyTitle')),
    h('p', {}, t('emptyText', { from: dmy(sum.period.from), to: dmy(sum.period.to) })),
    prev.responses > 0 ? h('p', {}, t('emptyPrev', { n: int(prev.responses), from: dmy(prev.period.from), to: dmy(prev.period.to) })) : null,
    wider ? h('p', {}, h('a', { href: href('commune', c.code), id: 'empty-wider' }, t('emptyWider'))) : null,
    h('h3', {}, t('emptyHow')),
    actions);
  api(`/api/v1/communes/${encodeURIComponent(c.code)}/centres`).then((list) => {
    const open = (list || []).map((ct, i) => ({ ct, i })).filter((x) => x.ct.open);
    if (!open.length) {
      replace(actions, h('p', {}, t('emptyNoCentre')), h('p', {}, h('a', { class: 'btn', href: href('centres', c.code) }, t('navCentres'))));
      return;
    }
    replace(actions, h('ol', { class: 'empty-steps' },
      h('li', {}, t('emptyStepPoster'), ' ', open.map(({ ct }) => h('a', { class: 'btn btn-small', href: ct.poster_url, target: '_blank', rel: 'noopener' }, t('poster') + ' · ' + ct.name))),
      h('li', {}, t('emptyStepLink'), ' ', open.map(({ ct, i }) => h('span', { class: 'share' }, h('code', { class: 'url' }, shortURL(c.code, ct, i)), ' ',
        h('a', { href: ct.form_url, target: '_blank', rel: 'noopener' }, t('openForm'))))),
      h('li', {}, t('emptyStepWait'))));
  }).catch(() => replace(actions, h('p', {}, h('a', { class: 'btn', href: href('centres', c.code) }, t('navCentres')))));
  return box;
}
