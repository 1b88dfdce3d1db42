// Numbers and dates as people read them: 7,99 and 81,4 % and 30/11/2026 in
// Vietnamese, 7.99 and 81.4% and 30/11/2026 in English. The printed report
// (api/page.go, templateFuncs) writes Vietnamese the same way.
import { lang } from './i18n.js';

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function locale() { return lang === 'en' ? 'en-GB' : 'vi-VN'; }
export function isNum(v) { return typeof v === 'number' && Number.isFinite(v); }

/** v with d decimals, or an em dash when there is no number. */
export function nf(v, d) {
  if (!isNum(v)) return '—';
  return v.toLocaleString(locale(), { minimumFractionDigits: d, maximumFractionDigits: d });
}
export function int(v) { return isNum(v) ? v.toLocaleString(locale(), { maximumFractionDigits: 0 }) : '—'; }
/** A share as a percentage: "81,4 %" (vi), "81.4%" (en). */
export function pct(v, d = 1) {
  if (!isNum(v)) return '—';
  return nf(v * 100, d) + (lang === 'vi' ? '\u00a0%' : '%');
}
export function signed(v, d) {
  if (!isNum(v)) return '—';
  return (v > 0 ? '+' : v < 0 ? '−' : '±') + nf(Math.abs(v), d);
}
/** "2026-11-30" → "30/11/2026". */
export function dmy(iso) {
  if (!iso) return '';
  const p = iso.split('-');
  return p.length === 3 ? `${p[2]}/${p[1]}/${p[0]}` : iso;
}
/** An indicator value in its unit: shares as percentages, large means and medians (money, minutes) whole. */
export function valueText(kind, v) {
  if (kind === 'ratio') return pct(v, 1);
  return nf(v, isNum(v) && Math.abs(v) >= 100 ? 0 : 2);
}
/** "2026-11-01" → "T11/2026" (vi) or "Nov 2026" (en); short drops the year. */
export function monthLabel(iso, short) {
  const p = String(iso || '').split('-');
  const y = p[0];
  const m = parseInt(p[1], 10);
  if (!(m >= 1 && m <= 12)) return String(iso || '');
  if (lang === 'en') return MONTHS_EN[m - 1] + (short ? '' : ' ' + y);
  return 'T' + m + (short ? '' : '/' + y);
}
/** Sort key that puts "D1.2.10" after "D1.2.9". */
export function idKey(id) { return String(id).replace(/\d+/g, (n) => n.padStart(4, '0')); }
