// Building DOM nodes instead of HTML strings: text is always text, so
// nothing needs escaping, and no inline style attribute is written (the
// pages run under a Content-Security-Policy without 'unsafe-inline').
const SVG = 'http://www.w3.org/2000/svg';

function build(el, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'style') for (const [p, x] of Object.entries(v)) el.style.setProperty(p, x);
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden' || k === 'value') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

/** Appends children: nodes, strings (as text), numbers, arrays of them; null is skipped. */
export function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** h('p', {class: 'x'}, 'text', h('strong', {}, 'bold')) */
export function h(tag, props, ...children) { return build(document.createElement(tag), props, children); }

/** An SVG element: s('rect', {x: 1, width: 4}). */
export function s(tag, props, ...children) { return build(document.createElementNS(SVG, tag), props, children); }

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(id) { return document.getElementById(id); }

/** A visually hidden span, read by screen readers. */
export function sr(text) { return h('span', { class: 'visually-hidden' }, text); }
