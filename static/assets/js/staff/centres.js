// A commune's feedback points: each one's QR code, poster, links,
// one-time receipt codes printed as a small slip with their own QR code,
// and the tablets enrolled as kiosks.
import { t, lang } from '../i18n.js';
import { api, errText, ApiError } from '../api.js';
import { h, replace, $ } from '../dom.js';
import { S, guard, main, setTitle, href, canIssueReceipts, canRunCentres } from './app.js';
import { dmy, locale } from '../format.js';
import { showLoading, showError, communeMeta } from './widgets.js';

/**
 * The short address printed on a centre's poster (api/page.go, shortURL):
 * host/c/CODE for a commune's first centre, host/c/CODE-N for its N-th, in
 * the order of the centre list.
 */
export function shortURL(code, ct, index) {
  let host = '';
  try { host = new URL(ct.form_url).host; } catch { host = location.host; }
  return `${host}/c/${code}${index > 0 ? '-' + (index + 1) : ''}`;
}

export function viewCentres(code) {
  const c = S.byCode[code] || { code, name: code };
  setTitle(t('centresTitle') + ' · ' + c.name);
  showLoading();
  api(`/api/v1/communes/${encodeURIComponent(code)}/centres`).then(guard((list) => {
    const st = { list: list || [], receipts: {}, errors: {}, msg: null, kiosks: {}, enrolled: {}, kioskErrors: {} };
    S.redraw = () => draw(c, st);
    S.redraw();
  })).catch(guard((e) => showError(e, () => viewCentres(code))));
}

function copyButton(text) {
  if (!navigator.clipboard) return null;
  const b = h('button', { type: 'button', class: 'btn copy-btn' }, t('copy'));
  b.addEventListener('click', () => navigator.clipboard.writeText(text).then(() => {
    b.textContent = t('copied');
    setTimeout(() => { b.textContent = t('copy'); }, 2000);
  }, () => {}));
  return b;
}

function draw(c, st) {
  setTitle(t('centresTitle') + ' · ' + c.name);
  const m = main();
  m.removeAttribute('aria-busy');
  const name = h('input', { type: 'text', id: 'centre-name', maxlength: '200', required: true, autocomplete: 'off', 'aria-describedby': 'centre-name-error' });
  const add = h('button', { type: 'submit', class: 'btn btn-primary', id: 'centre-add' }, t('addBtn'));
  const err = h('p', { class: 'field-error', id: 'centre-name-error', role: 'alert' });
  const form = h('form', { class: 'inline-form', id: 'centre-add-form', novalidate: true },
    h('div', { class: 'f' }, h('label', { for: 'centre-name' }, t('centreName')), name), add);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = name.value.trim();
    err.textContent = '';
    name.removeAttribute('aria-invalid');
    if (!v) { name.setAttribute('aria-invalid', 'true'); err.textContent = t('centreNameNeeded'); name.focus(); return; }
    add.disabled = true;
    add.textContent = t('adding');
    try {
      const ct = await api(`/api/v1/communes/${encodeURIComponent(c.code)}/centres`, { method: 'POST', body: { name: v } });
      st.list.push(ct);
      st.msg = () => t('added', { name: ct.name });
      draw(c, st);
      const title = document.querySelector(`[data-centre="${ct.id}"] h2`);
      if (title) { title.setAttribute('tabindex', '-1'); title.focus(); }
    } catch (e) {
      add.disabled = false;
      add.textContent = t('addBtn');
      name.setAttribute('aria-invalid', 'true');
      err.textContent = errText(e);
    }
  });
  replace(m,
    h('div', { class: 'page-head' },
      h('div', { class: 'grow' }, h('h1', {}, t('centresTitle')), h('p', { class: 'sub' }, c.name, c.type ? ' · ' + communeMeta(c) : '')),
      h('a', { class: 'btn btn-small btn-ghost', href: href('commune', c.code) }, t('backToResults', { name: c.name }))),
    h('div', { id: 'centre-msg', role: 'status', 'aria-live': 'polite' }, st.msg ? h('div', { class: 'msg msg-ok' }, h('p', {}, st.msg())) : null),
    h('div', { class: 'centres', id: 'centre-list' },
      st.list.length ? st.list.map((ct, i) => centreCard(c, ct, i, st)) : h('p', { class: 'empty' }, t('centresNone'))),
    h('section', { class: 'card add-centre', 'aria-labelledby': 'add-title' }, h('h2', { id: 'add-title' }, t('addCentre')), form, err));
}

function centreCard(c, ct, i, st) {
  const short = shortURL(c.code, ct, i);
  const receiptBox = h('div', { class: 'receipt', id: 'receipt-' + ct.id, 'aria-live': 'polite' });
  const record = h('input', { type: 'text', id: 'record-' + ct.id, autocomplete: 'off', maxlength: '100', 'aria-describedby': `record-${ct.id}-help record-${ct.id}-error` });
  const recordErr = h('p', { class: 'field-error', id: `record-${ct.id}-error` });
  const issue = h('button', { type: 'submit', class: 'btn btn-primary receipt-btn', id: 'receipt-btn-' + ct.id }, t('issueReceipt'));
  const form = h('form', { class: 'receipt-form', novalidate: true },
    h('div', { class: 'f' }, h('label', { for: 'record-' + ct.id }, t('recordLabel')), record,
      h('p', { class: 'small', id: `record-${ct.id}-help` }, t('receiptHelp'))), issue, recordErr);
  const showReceipt = () => {
    const r = st.receipts[ct.id];
    replace(receiptBox, r ? slip(c, ct, r) : null, st.errors[ct.id] ? h('div', { class: 'msg msg-error' }, h('p', {}, st.errors[ct.id]())) : null);
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    issue.disabled = true;
    recordErr.textContent = '';
    record.removeAttribute('aria-invalid');
    delete st.errors[ct.id];
    try {
      const v = record.value.trim();
      st.receipts[ct.id] = await api(`/api/v1/centres/${encodeURIComponent(ct.id)}/receipts`, { method: 'POST', body: v ? { record: v } : undefined });
      record.value = '';
    } catch (e) {
      const fieldErr = e instanceof ApiError && e.body && (e.body.errors || []).find((x) => x.field === 'record');
      if (fieldErr) {
        record.setAttribute('aria-invalid', 'true');
        recordErr.textContent = (lang === 'en' ? fieldErr.message_en : fieldErr.message_vi) || fieldErr.message;
        record.focus();
      } else {
        st.errors[ct.id] = () => errText(e);
      }
    }
    issue.disabled = false;
    showReceipt();
    $('print-slip-' + ct.id)?.focus();
  });
  showReceipt();
  return h('article', { class: 'card centre-card', dataset: { centre: ct.id } },
    h('div', { class: 'centre-main' },
      h('h2', {}, ct.name),
      h('p', { class: 'small' }, h('span', { class: ct.open ? 'status-open' : 'status-closed' }, (ct.open ? '● ' : '○ ') + t(ct.open ? 'open' : 'closed'))),
      h('p', { class: 'small lbl' }, t('shortURL')),
      h('p', { class: 'link-line' }, h('code', { class: 'url short-url' }, short), copyButton('https://' + short.replace(/^https?:\/\//, ''))),
      h('p', { class: 'small lbl' }, t('formURL')),
      h('p', { class: 'link-line' }, h('a', { class: 'url form-url', href: ct.form_url, target: '_blank', rel: 'noopener' }, ct.form_url), copyButton(ct.form_url)),
      h('div', { class: 'actions' },
        h('a', { class: 'btn poster-link', href: ct.poster_url, target: '_blank', rel: 'noopener' }, t('poster'), h('span', { class: 'visually-hidden' }, ' ' + t('newTab'))),
        h('a', { class: 'btn qr-link', href: ct.qr_url, download: true }, t('qrPNG')))),
    h('div', { class: 'qr' }, h('img', { src: ct.qr_url, alt: t('qrAlt', { name: ct.name }), width: '132', height: '132', loading: 'lazy' })),
    h('div', { class: 'receipt-area' }, h('h3', {}, t('receiptTitle')),
      canIssueReceipts(c.code) ? [form, receiptBox] : h('p', { class: 'small receipt-elsewhere' }, t('receiptElsewhere'))),
    kioskArea(c, ct, st));
}

/**
 * The centre's kiosks: tablets on which residents answer one after
 * another. Staff who run the centre create one (a one-time code and an
 * enrolment link with its QR code, to open on the tablet) and revoke it;
 * the list says whether each is enrolled and the last day it was used.
 */
function kioskArea(c, ct, st) {
  const box = h('div', { class: 'kiosk-area', id: 'kiosks-' + ct.id });
  const drawList = () => {
    const list = st.kiosks[ct.id];
    const run = canRunCentres(c.code);
    const label = h('input', { type: 'text', id: 'kiosk-label-' + ct.id, maxlength: '100', autocomplete: 'off', 'aria-describedby': `kiosk-label-${ct.id}-error` });
    const labelErr = h('p', { class: 'field-error', id: `kiosk-label-${ct.id}-error` });
    const create = h('button', { type: 'submit', class: 'btn btn-primary', id: 'kiosk-create-' + ct.id }, t('kioskCreate'));
    const form = h('form', { class: 'receipt-form kiosk-form', novalidate: true },
      h('div', { class: 'f' }, h('label', { for: 'kiosk-label-' + ct.id }, t('kioskLabel')), label), create, labelErr);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const v = label.value.trim();
      labelErr.textContent = '';
      label.removeAttribute('aria-invalid');
      if (!v) { label.setAttribute('aria-invalid', 'true'); labelErr.textContent = t('kioskLabelNeeded'); label.focus(); return; }
      create.disabled = true;
      try {
        const r = await api(`/api/v1/centres/${encodeURIComponent(ct.id)}/kiosks`, { method: 'POST', body: { label: v } });
        st.enrolled[ct.id] = r;
        (st.kiosks[ct.id] = st.kiosks[ct.id] || []).push(r.kiosk);
        drawList();
        $('kiosk-code-' + ct.id)?.focus();
      } catch (e) {
        create.disabled = false;
        label.setAttribute('aria-invalid', 'true');
        labelErr.textContent = errText(e);
      }
    });
    const fresh = st.enrolled[ct.id];
    replace(box,
      h('h3', {}, t('kioskTitle')),
      h('p', { class: 'small' }, t('kioskHelp')),
      st.kioskErrors[ct.id] ? h('div', { class: 'msg msg-error' }, h('p', {}, st.kioskErrors[ct.id])) : null,
      !list ? h('p', { class: 'small' }, t('loading')) : list.length ? h('ul', { class: 'kiosk-list' }, list.map((k) => kioskRow(ct, k, run, st, drawList))) : h('p', { class: 'small' }, t('kioskNone')),
      fresh ? h('div', { class: 'msg msg-ok kiosk-enrol', 'aria-live': 'polite' },
        h('p', {}, t('kioskCodeFor', { name: fresh.kiosk.label }), ' ', h('code', { class: 'receipt-code', id: 'kiosk-code-' + ct.id, tabindex: '-1' }, fresh.code)),
        h('p', { class: 'small' }, t('kioskEnrolHow')),
        h('img', { class: 'slip-qr', src: '/qr.png?url=' + encodeURIComponent(fresh.enrol_url), alt: t('kioskQRAlt', { name: fresh.kiosk.label }), width: '160', height: '160' }),
        h('p', { class: 'link-line' }, h('code', { class: 'url kiosk-url' }, fresh.enrol_url), copyButton(fresh.enrol_url))) : null,
      run ? form : null);
  };
  api(`/api/v1/centres/${encodeURIComponent(ct.id)}/kiosks`).then((list) => {
    st.kiosks[ct.id] = list || [];
    drawList();
  }).catch((e) => {
    st.kiosks[ct.id] = [];
    st.kioskErrors[ct.id] = errText(e);
    drawList();
  });
  drawList();
  return box;
}

function kioskRow(ct, k, run, st, redraw) {
  const state = k.revoked ? t('kioskRevoked') : k.enrolled_at ? t('kioskEnrolled', { day: new Date(k.enrolled_at).toLocaleDateString(locale(), { timeZone: 'Asia/Ho_Chi_Minh' }) }) : t('kioskWaiting');
  const seen = k.last_seen ? t('kioskSeen', { day: dmy(k.last_seen) }) : '';
  let revoke = null;
  if (run && !k.revoked) {
    revoke = h('button', { type: 'button', class: 'btn btn-small', id: 'kiosk-revoke-' + k.id }, t('kioskRevoke'), h('span', { class: 'visually-hidden' }, ' ' + k.label));
    revoke.addEventListener('click', async () => {
      revoke.disabled = true;
      try {
        const done = await api(`/api/v1/kiosks/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
        st.kiosks[ct.id] = st.kiosks[ct.id].map((x) => (x.id === k.id ? done : x));
        if (st.enrolled[ct.id] && st.enrolled[ct.id].kiosk.id === k.id) delete st.enrolled[ct.id];
        delete st.kioskErrors[ct.id];
      } catch (e) {
        st.kioskErrors[ct.id] = errText(e);
      }
      redraw();
    });
  }
  return h('li', { class: 'kiosk-row' + (k.revoked ? ' revoked' : ''), dataset: { kiosk: k.id } },
    h('strong', {}, k.label), ' · ', state, seen ? ' · ' + seen : '', revoke ? ' ' : '', revoke);
}

/**
 * A printable slip for one receipt code: its QR code (drawn by the server
 * from the form link), the code, and a line in both languages. Built only
 * from {code, form_url}, which is what the receipt API promises.
 */
function slip(c, ct, r) {
  const id = 'slip-' + ct.id;
  const print = h('button', { type: 'button', class: 'btn btn-primary', id: 'print-slip-' + ct.id }, t('printSlip'));
  // Printing shows only the slip, on its own A6 page (@page slip in
  // staff.css): the slip and the boxes around it are marked and everything
  // else hidden.
  print.addEventListener('click', () => {
    const el = $(id);
    const path = [];
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) path.push(p);
    document.body.classList.add('printing-slip');
    el.classList.add('print-this');
    path.forEach((p) => p.classList.add('print-path'));
    const done = () => {
      document.body.classList.remove('printing-slip');
      el.classList.remove('print-this');
      path.forEach((p) => p.classList.remove('print-path'));
      window.removeEventListener('afterprint', done);
    };
    window.addEventListener('afterprint', done);
    window.print();
  });
  return h('div', { class: 'msg msg-ok receipt-issued' },
    h('p', {}, t('receiptCode'), ': ', h('code', { class: 'receipt-code' }, r.code)),
    h('figure', { class: 'slip', id, 'aria-label': t('slipLabel') },
      h('p', { class: 'slip-title' }, 'Góp ý về thủ tục vừa thực hiện', h('span', { class: 'en', lang: 'en' }, 'Feedback on the procedure you just completed')),
      h('p', { class: 'slip-place' }, c.name, h('span', { class: 'slip-centre' }, ct.name)),
      h('img', { class: 'slip-qr', src: '/qr.png?url=' + encodeURIComponent(r.form_url), alt: t('slipQRAlt'), width: '192', height: '192' }),
      h('p', { class: 'slip-code' }, h('span', {}, 'Mã / Code'), h('strong', { class: 'receipt-code' }, r.code)),
      h('p', { class: 'slip-text' }, 'Quét mã QR bằng điện thoại, trả lời vài câu hỏi (3–6 phút). Ẩn danh; mã chỉ dùng một lần.',
        h('span', { class: 'en', lang: 'en' }, 'Scan the QR code with your phone and answer a few questions (3–6 minutes). Anonymous; the code works once.'))),
    h('p', { class: 'slip-actions' }, print, ' ', h('a', { class: 'url receipt-url', href: r.form_url, target: '_blank', rel: 'noopener' }, t('receiptURL'))));
}
