// What is missing and why: how many more responses an indicator (and so a
// dimension or the total) needs before its value can be shown. The page
// estimates it from the indicator's own count: respondents come at the rate
// they came so far. Below the hiding threshold the count is unknown, so the
// estimate is a floor from the share of visits asked the indicator's module.
import { isNum } from '../format.js';
import { S } from './app.js';

/** The disclosure rule of an answer (policy.min_n, policy.hide_below). */
export function policyOf(x) {
  const p = (x && x.policy) || {};
  return { minN: p.min_n ?? 30, hideBelow: p.hide_below ?? 5 };
}

/** The share of visits asked the module of an indicator's question. */
function moduleShare(id) {
  const ind = S.indById[id];
  const mod = ind && ind.rule ? S.moduleOf[ind.rule.question] : '';
  const m = (S.cat && S.cat.modules || []).find((x) => x.id === mod);
  return m && m.rotating && S.rotating ? 1 / S.rotating : 1;
}

/** Rounds a count the way a person says "about": 47, 120, 1.300. */
function about(n) {
  if (n > 1000) return Math.ceil(n / 100) * 100;
  if (n > 100) return Math.ceil(n / 10) * 10;
  return Math.max(1, Math.ceil(n));
}

/**
 * How many more responses before ind has its own value:
 * {more, atLeast} (atLeast: a floor, the count being hidden), or
 * {weighted: true} when the count is enough but weighting lowers the
 * effective sample, or null when the value is already the commune's own.
 * responses are the period's counted responses.
 */
export function needed(ind, responses, policy) {
  const own = isNum(ind.value) && ind.estimate !== 'borrowed';
  if (own) return null;
  const n = isNum(ind.n) ? ind.n : null;
  if (n != null && n >= policy.minN) return { weighted: true };
  if (n != null && n > 0 && responses > 0) {
    return { more: about((policy.minN - n) * responses / n), atLeast: false };
  }
  const have = n ?? (responses > 0 ? policy.hideBelow - 1 : 0);
  return { more: about(Math.max(1, policy.minN - have) / moduleShare(ind.id)), atLeast: true };
}

/** The indicators of a summary dimension, with the scored ones counted. */
function parts(dim) {
  const list = [];
  for (const sd of dim.subdimensions || []) for (const ind of sd.indicators || []) if (!ind.context) list.push(ind);
  return list;
}

/**
 * How many more responses before a dimension is scored (half of its
 * indicators shown): the need of the k-th closest missing indicator.
 */
export function dimensionNeed(dim, responses, policy) {
  if (isNum(dim.score)) return null;
  const list = parts(dim);
  const shown = list.filter((i) => isNum(i.score)).length;
  const k = Math.ceil(list.length / 2) - shown;
  const needs = list.filter((i) => !isNum(i.score)).map((i) => needed(i, responses, policy)).filter((x) => x && isNum(x.more))
    .sort((a, b) => a.more - b.more);
  if (k <= 0 || needs.length < k) return null;
  const used = needs.slice(0, k);
  return { more: used[k - 1].more, atLeast: used.some((x) => x.atLeast) };
}

/** How many more responses before the total (all eight dimensions) is scored. */
export function totalNeed(sum, policy) {
  let worst = null;
  for (const d of sum.dimensions || []) {
    const x = dimensionNeed(d, sum.counted_responses ?? sum.responses ?? 0, policy);
    if (x && (!worst || x.more > worst.more)) worst = { more: x.more, atLeast: x.atLeast || (worst && worst.atLeast) };
    else if (x && x.atLeast && worst) worst.atLeast = true;
  }
  return worst;
}
