/* papi resident form. Plain ES2017, no dependencies. */
(function () {
  'use strict';

  var T = {
    vi: {
      title: 'Góp ý dịch vụ hành chính công',
      switchTo: 'Switch to English',
      intro: 'Phiếu ẩn danh, khoảng {a}–{b} phút ({n} câu trở xuống). Chúng tôi không hỏi tên hay số điện thoại của Ông/Bà.',
      introOne: 'Phiếu ẩn danh, khoảng {a} phút ({n} câu trở xuống). Chúng tôi không hỏi tên hay số điện thoại của Ông/Bà.',
      introPlain: 'Phiếu ẩn danh. Chúng tôi không hỏi tên hay số điện thoại của Ông/Bà.',
      communeSearch: 'Gõ tên xã, phường…',
      communeLoading: 'Đang tải danh sách…',
      communeNone: 'Không tìm thấy. Thử gõ ít chữ hơn.',
      communeFailed: 'Không tải được danh sách. Chạm vào ô để thử lại.',
      communeChosen: 'Đã chọn: {name}',
      communeCount: '{n} kết quả, dùng phím mũi tên để chọn',
      errCommune: 'Vui lòng chọn một xã, phường, đặc khu trong danh sách.',
      progress: 'Đã trả lời {a}/{n} câu',
      q: 'Câu {n}.',
      required: '(bắt buộc)',
      optional: '(không bắt buộc)',
      chooseMany: 'Có thể chọn nhiều ý.',
      profileTitle: 'Thông tin về Ông/Bà (không bắt buộc)',
      profileNote: 'Giúp chúng tôi hiểu ý kiến của các nhóm người dân khác nhau.',
      submit: 'Gửi ý kiến',
      submitNote: 'Phiếu ẩn danh. Câu trả lời chỉ dùng để cải thiện dịch vụ.',
      errRequired: 'Vui lòng trả lời câu này.',
      errNumber: 'Vui lòng nhập một số.',
      errRange: 'Vui lòng nhập số từ {min} đến {max}.',
      errSummary: 'Còn {n} câu cần xem lại. Vui lòng kiểm tra các câu được đánh dấu đỏ.',
      errServer: 'Có câu trả lời chưa hợp lệ. Vui lòng kiểm tra các câu được đánh dấu đỏ.',
      chars: '{n}/{max} ký tự',
      loadErrTitle: 'Không tải được phiếu',
      loadErrText: 'Vui lòng kiểm tra kết nối mạng rồi thử lại.',
      retry: 'Thử lại',
      retryNow: 'Gửi lại ngay',
      sendingTitle: 'Đang gửi…',
      sendingText: 'Vui lòng chờ trong giây lát.',
      resendTitle: 'Đang gửi lại…',
      resendText: 'Chưa kết nối được máy chủ. Câu trả lời của Ông/Bà vẫn được lưu trên điện thoại này và sẽ tự động gửi lại.',
      offlineText: 'Điện thoại đang mất kết nối mạng. Câu trả lời vẫn được lưu trên điện thoại này và sẽ được gửi khi có mạng.',
      tooMany: 'Có quá nhiều lượt gửi. Vui lòng thử lại sau một phút. Câu trả lời của Ông/Bà vẫn được giữ nguyên.',
      receiptUsed: 'Mã biên nhận này đã được dùng để gửi ý kiến.',
      failed: 'Không gửi được. Vui lòng thử lại.',
      restored: 'Đã khôi phục các câu trả lời Ông/Bà đang điền dở.',
      thanksTitle: 'Cảm ơn Ông/Bà!',
      thanksText: 'Ý kiến của Ông/Bà đã được ghi nhận. Phiếu hoàn toàn ẩn danh và giúp chính quyền phường, xã phục vụ người dân tốt hơn.',
      newResponse: 'Trả lời phiếu mới (cho người khác)',
      kioskStartTitle: 'Góp ý về dịch vụ hành chính công',
      kioskStartText: 'Mời Ông/Bà cho biết ý kiến về lần làm thủ tục hôm nay.',
      kioskBegin: 'Bắt đầu',
      kioskDone: 'Về trang đầu',
      kioskReturning: 'Màn hình sẽ tự trở về trang đầu sau vài giây, sẵn sàng cho người tiếp theo.',
      kioskQueued: 'Máy đang mất kết nối: câu trả lời đã được lưu trên máy và sẽ tự gửi khi có mạng.',
      kioskQueue: '{n} phiếu đang chờ gửi, sẽ tự gửi khi có mạng.',
      kioskCodeNeeded: 'Vui lòng nhập mã kích hoạt.',
      kioskOffline: 'Không kết nối được máy chủ. Vui lòng kiểm tra mạng rồi thử lại.'
    },
    en: {
      title: 'Public service feedback',
      switchTo: 'Chuyển sang tiếng Việt',
      intro: 'Anonymous, about {a}–{b} minutes ({n} questions at most). We do not ask for your name or phone number.',
      introOne: 'Anonymous, about {a} minutes ({n} questions at most). We do not ask for your name or phone number.',
      introPlain: 'Anonymous. We do not ask for your name or phone number.',
      communeSearch: 'Type a commune or ward name…',
      communeLoading: 'Loading the list…',
      communeNone: 'Nothing found. Try typing less.',
      communeFailed: 'Could not load the list. Tap the box to try again.',
      communeChosen: 'Chosen: {name}',
      communeCount: '{n} results, use the arrow keys to choose',
      errCommune: 'Please choose a commune or ward from the list.',
      progress: 'Answered {a}/{n}',
      q: 'Q{n}.',
      required: '(required)',
      optional: '(optional)',
      chooseMany: 'You may choose several.',
      profileTitle: 'About you (optional)',
      profileNote: 'This helps us understand the views of different groups of residents.',
      submit: 'Send answers',
      submitNote: 'Anonymous. Answers are only used to improve the service.',
      errRequired: 'Please answer this question.',
      errNumber: 'Please enter a number.',
      errRange: 'Please enter a number from {min} to {max}.',
      errSummary: '{n} question(s) need attention. Please check the ones marked in red.',
      errServer: 'Some answers are not valid. Please check the ones marked in red.',
      chars: '{n}/{max} characters',
      loadErrTitle: 'Could not load the questionnaire',
      loadErrText: 'Please check your internet connection and try again.',
      retry: 'Try again',
      retryNow: 'Retry now',
      sendingTitle: 'Sending…',
      sendingText: 'Please wait a moment.',
      resendTitle: 'Saving…',
      resendText: 'Cannot reach the server yet. Your answers are kept on this phone and will be sent again automatically.',
      offlineText: 'This phone is offline. Your answers are kept on this phone and will be sent when the connection is back.',
      tooMany: 'Too many submissions. Please try again in a minute. Your answers are kept.',
      receiptUsed: 'This receipt code has already been used to give feedback.',
      failed: 'Could not send. Please try again.',
      restored: 'Your unfinished answers have been restored.',
      thanksTitle: 'Thank you!',
      thanksText: 'Your answers have been recorded. They are anonymous and help the commune serve residents better.',
      newResponse: 'Start a new response (another person)',
      kioskStartTitle: 'Feedback on public services',
      kioskStartText: 'Please tell us about your visit today.',
      kioskBegin: 'Start',
      kioskDone: 'Back to the start',
      kioskReturning: 'The screen returns to the start in a few seconds, ready for the next person.',
      kioskQueued: 'The tablet is offline: your answers are saved on it and will be sent when the connection is back.',
      kioskQueue: '{n} response(s) waiting to be sent when the connection is back.',
      kioskCodeNeeded: 'Please type the enrolment code.',
      kioskOffline: 'Cannot reach the server. Please check the connection and try again.'
    }
  };

  var BACKOFF = [2, 5, 10, 30, 60, 120];
  // Kiosk mode (the centre's tablet, /k/{token}): a start screen, nothing
  // kept between people, answers queued on the device while offline.
  var KIOSK = !!document.body && document.body.getAttribute('data-kiosk') === 'true';
  var THANKS_SECONDS = 8;
  // A draft outlives a reload or a dropped connection, not the next person
  // at a shared device: 30 minutes after its last change it is not restored.
  var DRAFT_TTL = 30 * 60 * 1000;

  var $ = function (id) { return document.getElementById(id); };
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var store = {
    get: function (k) { try { var v = localStorage.getItem(k); return v ? JSON.parse(v) : null; } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode */ } },
    del: function (k) { try { localStorage.removeItem(k); } catch (e) { /* ignore */ } }
  };

  function query(name) {
    var s = location.search.replace(/^\?/, '').split('&');
    for (var i = 0; i < s.length; i++) {
      var p = s[i].split('=');
      if (decodeURIComponent(p[0]) === name) return decodeURIComponent((p[1] || '').replace(/\+/g, ' '));
    }
    return null;
  }
  function pathToken() {
    var parts = location.pathname.split('/').filter(function (x) { return x; });
    try { return decodeURIComponent(parts[parts.length - 1] || ''); } catch (e) { return parts[parts.length - 1] || ''; }
  }
  function uuid() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === 'function') { try { return c.randomUUID(); } catch (e) { /* insecure context */ } }
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function fmt(s, o) { return s.replace(/\{(\w+)\}/g, function (m, k) { return o && o[k] != null ? o[k] : m; }); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v == null || v === false) return;
      if (k === 'text') e.textContent = v;
      else if (k === 'className') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    });
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  // ---------- state ----------
  var token = pathToken();
  var receipt = query('r');
  var K = { lang: 'papi.lang', draft: 'papi.draft.' + token, pending: 'papi.pending.' + token,
    device: 'papi.kiosk.device', queue: 'papi.kiosk.queue', def: 'papi.kiosk.form.' + token };
  var lang = (query('lang') || '').toLowerCase() === 'en' ? 'en' : ((query('lang') || '').toLowerCase() === 'vi' ? 'vi' : (store.get(K.lang) === 'en' ? 'en' : 'vi'));
  if (KIOSK) lang = 'vi'; // every person starts in Vietnamese
  var def = null;          // form definition from the server
  var byId = {};           // question id -> question (incl. profile)
  var sectionOf = {};      // module id -> section (heading, reassurance, show_if)
  var gridOf = {};         // grid id -> grid (shared title of its rows)
  var communes = null;     // [{code, name, key}] for commune questions, once loaded
  var communesFailed = false;
  var communesLoading = false;
  var answers = {};        // question id -> raw answer (string | string[] | number)
  var bad = {};            // number questions with unparsable input
  var errors = {};         // question id -> {vi, en} or {key}
  var formErrors = [];     // top-level server errors [{vi, en}]
  var sid = null, started = Date.now();
  var view = 'loading';
  var retryTimer = null, attempt = 0, inFlight = false;

  function t(k, o) { return fmt(T[lang][k] || T.vi[k] || k, o); }
  function tx(obj, field) { // localised field of a server object
    if (!obj) return '';
    return (lang === 'en' && obj[field + '_en']) ? obj[field + '_en'] : (obj[field] || '');
  }
  function errText(e) {
    if (!e) return '';
    if (e.key) return t(e.key, e.args);
    return (lang === 'en' ? (e.en || e.msg || e.vi) : (e.vi || e.msg || e.en)) || '';
  }

  // ---------- views ----------
  var VIEWS = ['loading', 'load-error', 'not-found', 'form-view', 'sending', 'thank-you', 'kiosk-start', 'kiosk-enrol'];
  function show(v) {
    view = v;
    VIEWS.forEach(function (id) { var n = $(id); if (n) n.hidden = id !== v; });
    $('lang-toggle').hidden = (v === 'loading' && !def) || v === 'kiosk-enrol';
    if (KIOSK) kioskIdle();
  }
  var lastStatus = null; // {m: {key}|{vi,en}, kind}
  function setStatus(m, kind) {
    lastStatus = m ? { m: m, kind: kind } : null;
    var s = $('status');
    s.textContent = '';
    if (m) s.appendChild(el('div', { className: 'msg msg-' + (kind || 'info') }, [el('p', { text: errText(m) })]));
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.title = (def && def.commune ? def.commune.name + ' – ' : '') + t('title');
    each(document.querySelectorAll('[data-i18n]'), function (n) { n.textContent = t(n.getAttribute('data-i18n')); });
    var b = $('lang-toggle');
    $('lang-toggle-hint').textContent = t('switchTo');
    $('lang-toggle-hint').lang = lang === 'vi' ? 'en' : 'vi';
    each(b.querySelectorAll('[data-l]'), function (s) { s.className = s.getAttribute('data-l') === lang ? 'on' : 'off'; });
    $('intro-text').textContent = !def || !def.minutes ? t('introPlain')
      : t(def.minutes === def.minutes_max ? 'introOne' : 'intro', { a: def.minutes, b: def.minutes_max, n: def.questions_max });
    if (KIOSK) { $('kiosk-start-intro').textContent = $('intro-text').textContent; showQueue(); }
    if (def) {
      $('commune-name').textContent = def.commune ? def.commune.name : '';
      $('centre-name').textContent = def.centre ? def.centre.name : '';
      renderQuestions();
    }
    if (view === 'sending') updateSending();
    if (lastStatus) setStatus(lastStatus.m, lastStatus.kind);
  }

  // ---------- logic ----------
  function isAnswered(q) {
    var a = answers[q.id];
    if (a == null) return false;
    if (Array.isArray(a)) return a.length > 0;
    if (typeof a === 'string') return a.trim() !== '';
    return true;
  }
  // A question shows when its module's condition (e.g. residents only) and
  // its own show_if hold, and the questions they look at are shown.
  function visible(q, depth) {
    if (!q) return false;
    depth = depth || 0;
    if (depth > 20) return false;
    var sec = sectionOf[q.module];
    var conds = [sec && sec.show_if, q.show_if].filter(function (c) { return c && c.question; });
    return conds.every(function (c) {
      var ctrl = byId[c.question];
      if (!ctrl || !visible(ctrl, depth + 1)) return false;
      var a = answers[ctrl.id];
      var inn = (c['in'] || []).map(String);
      if (a == null) return false;
      if (Array.isArray(a)) return a.some(function (v) { return inn.indexOf(String(v)) >= 0; });
      return inn.indexOf(String(a)) >= 0;
    });
  }
  function allQuestions() { return (def.questions || []).concat(def.profile || []); }
  // Drop answers of hidden questions; repeat until stable for chains.
  function pruneHidden() {
    var changed = true, any = false;
    while (changed) {
      changed = false;
      allQuestions().forEach(function (q) {
        if (!visible(q) && (answers[q.id] != null || bad[q.id])) {
          delete answers[q.id]; delete bad[q.id]; delete errors[q.id];
          changed = true; any = true;
        }
      });
    }
    return any;
  }

  function checkOne(q) {
    if (!visible(q)) return null;
    if (bad[q.id]) return { key: 'errNumber' };
    if (q.required && !isAnswered(q)) return { key: q.type === 'commune' ? 'errCommune' : 'errRequired' };
    if (q.type === 'number' && typeof answers[q.id] === 'number') {
      var n = answers[q.id];
      if ((q.min != null && n < q.min) || (q.max != null && n > q.max)) {
        return { key: 'errRange', args: { min: q.min != null ? q.min : '−∞', max: q.max != null ? q.max : '∞' } };
      }
    }
    return null;
  }

  // ---------- rendering ----------
  var qNodes = {}; // id -> fieldset

  function optLabel(q, o) { return (lang === 'en' && o.label_en) ? o.label_en : (o.label || o.label_en || String(o.value)); }

  function renderQuestion(q, row) {
    var id = q.id, type = q.type;
    var fid = 'q-' + id;
    var legend = el('legend', { id: fid + '-label' }, [
      el('span', { className: 'q-num' }),
      el('span', { className: 'q-text', text: tx(q, 'text') }),
      q.required ? el('span', { className: 'q-req', text: ' *' }) : null,
      q.required ? el('span', { className: 'visually-hidden', text: ' ' + t('required') }) : null
    ]);
    var kids = [legend];
    var help = tx(q, 'help');
    if (help) kids.push(el('p', { className: 'q-help', id: fid + '-help', text: help }));
    if (type === 'multiple') kids.push(el('p', { className: 'q-help', text: t('chooseMany') }));
    var a = answers[id];

    if (type === 'single' || type === 'multiple' || type === 'scale') {
      var opts = (q.options || []).slice();
      if (type === 'scale' && !opts.length && q.min != null && q.max != null) {
        for (var v = q.min; v <= q.max; v++) opts.push({ value: String(v), label: String(v) });
      }
      var box = el('div', { className: 'opts' + (type === 'scale' ? ' scale' : '') });
      opts.forEach(function (o, i) {
        var val = String(o.value);
        var checked = type === 'multiple' ? (Array.isArray(a) && a.indexOf(val) >= 0) : (a != null && String(a) === val);
        var input = el('input', {
          type: type === 'multiple' ? 'checkbox' : 'radio', name: id, value: val, id: fid + '-' + i,
          'data-exclusive': o.exclusive ? 'true' : null, checked: checked
        });
        input.checked = checked;
        var lab = [];
        if (type === 'scale') {
          lab.push(el('span', { className: 'scale-num', 'aria-hidden': 'true', text: val }));
          lab.push(el('span', { className: 'visually-hidden', text: val + ' – ' }));
        }
        lab.push(optLabel(q, o));
        box.appendChild(el('label', { className: 'opt', 'for': fid + '-' + i }, [input, el('span', { className: 'opt-label' }, lab)]));
      });
      kids.push(box);
    } else if (type === 'number') {
      var inp = el('input', {
        type: 'number', inputmode: 'decimal', name: id, id: fid + '-input', step: 'any',
        min: q.min, max: q.max, 'aria-labelledby': fid + '-label' + (tx(q, 'unit') ? ' ' + fid + '-unit' : '')
      });
      if (typeof a === 'number') inp.value = String(a);
      kids.push(el('div', { className: 'field' }, [inp, tx(q, 'unit') ? el('span', { className: 'unit', id: fid + '-unit', text: tx(q, 'unit') }) : null]));
    } else if (type === 'commune') {
      kids.push(renderCommune(q, fid));
    } else { // text (and unknown types fall back to text)
      var max = q.max_length || 1000;
      var ta = el('textarea', { name: id, id: fid + '-input', maxlength: max, rows: 4, 'aria-labelledby': fid + '-label', 'aria-describedby': fid + '-count' });
      ta.value = typeof a === 'string' ? a : '';
      kids.push(ta);
      kids.push(el('p', { className: 'counter', id: fid + '-count', text: t('chars', { n: ta.value.length, max: max }) }));
    }
    kids.push(el('p', { className: 'q-error', id: 'err-' + id, 'data-error-for': id, 'aria-live': 'polite' }));
    var fs = el('fieldset', {
      className: 'q q-' + type + (row ? ' q-grid-row' : ''), id: fid, 'data-question': id, 'data-type': type,
      'data-required': q.required ? 'true' : 'false', 'aria-describedby': 'err-' + id + (help ? ' ' + fid + '-help' : '')
    }, kids);
    qNodes[id] = fs;
    return fs;
  }

  var blockNodes = []; // section headings and grids: [{node, ids}]

  function renderQuestions() {
    var qs = $('questions'), pr = $('profile');
    qs.textContent = ''; pr.textContent = ''; qNodes = {}; blockNodes = [];
    var module = null, section = null, grid = null, rows = null;
    (def.questions || []).forEach(function (q) {
      if (q.module !== module) {
        module = q.module;
        var sec = sectionOf[module];
        section = sec && sec.heading ? { node: renderSection(sec), ids: [] } : null;
        if (section) { blockNodes.push(section); qs.appendChild(section.node); }
      }
      if (section) section.ids.push(q.id);
      if (!q.grid || !gridOf[q.grid]) { grid = null; qs.appendChild(renderQuestion(q)); return; }
      if (q.grid !== grid) {
        grid = q.grid;
        var g = gridOf[grid], gid = 'grid-' + grid;
        rows = el('div', { className: 'q-grid-rows' });
        var box = el('div', { className: 'q-grid', role: 'group', 'aria-labelledby': gid + '-title', 'data-grid': grid }, [
          el('h3', { className: 'q-grid-title', id: gid + '-title', text: tx(g, 'text') }),
          tx(g, 'help') ? el('p', { className: 'q-help', text: tx(g, 'help') }) : null, rows]);
        blockNodes.push({ node: box, ids: [] });
        qs.appendChild(box);
      }
      blockNodes[blockNodes.length - 1].ids.push(q.id);
      rows.appendChild(renderQuestion(q, true));
    });
    (def.profile || []).forEach(function (q) {
      var n = renderQuestion(q); n.setAttribute('data-profile', 'true'); pr.appendChild(n);
    });
    $('profile-section').hidden = !(def.profile && def.profile.length);
    refresh();
  }

  // Update visibility, numbering, progress and error text without rebuilding.
  function refresh() {
    if (!def) return;
    var num = 0, vis = 0, done = 0;
    allQuestions().forEach(function (q) {
      var n = qNodes[q.id]; if (!n) return;
      var v = visible(q);
      n.hidden = !v;
      var isProfile = n.getAttribute('data-profile') === 'true';
      if (v && !isProfile) { num++; vis++; if (isAnswered(q) && !bad[q.id]) done++; }
      n.querySelector('.q-num').textContent = (v && !isProfile) ? t('q', { n: num }) + ' ' : '';
      var e = errText(errors[q.id]);
      n.querySelector('.q-error').textContent = e;
      n.classList.toggle('has-error', !!e);
      var inputs = n.querySelectorAll('input,textarea');
      each(inputs, function (i) { if (e) i.setAttribute('aria-invalid', 'true'); else i.removeAttribute('aria-invalid'); });
    });
    blockNodes.forEach(function (b) { b.node.hidden = !b.ids.some(function (id) { return visible(byId[id]); }); });
    $('progress-text').textContent = t('progress', { a: done, n: vis });
    var pct = vis ? Math.round(done * 100 / vis) : 0;
    $('progress-fill').style.width = pct + '%';
    var bar = $('progress-bar');
    bar.setAttribute('aria-valuenow', String(pct));
    bar.setAttribute('aria-valuetext', t('progress', { a: done, n: vis }));
    var fe = $('form-errors');
    fe.textContent = '';
    formErrors.forEach(function (x) { fe.appendChild(el('p', { text: errText(x) })); });
    fe.hidden = !formErrors.length;
  }

  // Reset DOM inputs of questions whose answers were dropped.
  function syncHiddenInputs() {
    allQuestions().forEach(function (q) {
      if (visible(q) || answers[q.id] != null || !qNodes[q.id]) return;
      each(qNodes[q.id].querySelectorAll('input,textarea'), function (i) {
        if (i.type === 'radio' || i.type === 'checkbox') i.checked = false; else if (document.activeElement !== i) i.value = '';
      });
    });
  }

  // ---------- input handling ----------
  function onInput(ev) {
    var i = ev.target, id = i.name, q = byId[id];
    if (!q) return;
    if (q.type === 'multiple') {
      var boxes = qNodes[id].querySelectorAll('input[type=checkbox]');
      if (i.checked) {
        var excl = i.getAttribute('data-exclusive') === 'true';
        each(boxes, function (b) {
          if (b !== i && (excl || b.getAttribute('data-exclusive') === 'true')) b.checked = false;
        });
      }
      var vals = [];
      each(boxes, function (b) { if (b.checked) vals.push(b.value); });
      if (vals.length) answers[id] = vals; else delete answers[id];
    } else if (q.type === 'single') {
      answers[id] = i.value;
    } else if (q.type === 'scale') {
      var n = Number(i.value);
      answers[id] = isFinite(n) ? n : i.value;
    } else if (q.type === 'number') {
      var raw = String(i.value).trim().replace(',', '.');
      delete bad[id];
      if (raw === '') {
        delete answers[id];
        if (i.validity && i.validity.badInput) bad[id] = true;
      } else if (isFinite(Number(raw))) answers[id] = Number(raw);
      else { delete answers[id]; bad[id] = true; }
    } else {
      if (i.value !== '') answers[id] = i.value; else delete answers[id];
      var c = $('q-' + id + '-count');
      if (c) c.textContent = t('chars', { n: i.value.length, max: q.max_length || 1000 });
    }
    changed(q);
  }

  // After an answer changes: clear its error once fixed, drop answers of
  // questions it hides, redraw and keep a draft.
  function changed(q) {
    if (errors[q.id] && !checkOne(q)) delete errors[q.id];
    if (pruneHidden()) syncHiddenInputs();
    if (!$('submit-msg').hidden && !Object.keys(errors).length) $('submit-msg').hidden = true;
    refresh();
    saveDraft();
  }

  function saveDraft() {
    if (!def || KIOSK) return; // a kiosk keeps nothing of one person for the next
    store.set(K.draft, { v: def.questionnaire_version, sid: sid, started: started, saved: Date.now(), answers: answers });
  }

  // ---------- submission ----------
  function buildBody() {
    var body = {
      token: token, submission_id: sid, questionnaire_version: def.questionnaire_version,
      modules: def.modules || [], answers: {}
    };
    (def.questions || []).forEach(function (q) { var v = value(q); if (v !== undefined) body.answers[q.id] = v; });
    (def.profile || []).forEach(function (q) { var v = value(q); if (v !== undefined) body[q.id] = v; });
    body.duration_ms = Math.max(0, Date.now() - started);
    body.lang = lang;
    if (receipt) body.receipt = receipt;
    return body;
  }
  function value(q) {
    if (!visible(q) || !isAnswered(q) || bad[q.id]) return undefined;
    var a = answers[q.id];
    if (q.type === 'text') return String(a).trim();
    if (q.type === 'multiple') return a.slice();
    if (q.type === 'scale' || q.type === 'number') { var n = Number(a); return isFinite(n) ? n : undefined; }
    return String(a); // single choice, commune code
  }

  function onSubmit(ev) {
    ev.preventDefault();
    if (inFlight) return;
    errors = {}; formErrors = [];
    var first = null, count = 0;
    allQuestions().forEach(function (q) {
      var e = checkOne(q);
      if (e) { errors[q.id] = e; count++; if (!first) first = q.id; }
    });
    refresh();
    var sm = $('submit-msg');
    if (count) {
      sm.textContent = t('errSummary', { n: count }); sm.hidden = false;
      focusQuestion(first);
      return;
    }
    sm.hidden = true;
    if (KIOSK) return kioskSubmit();
    var pending = { body: buildBody(), created: Date.now() };
    store.set(K.pending, pending);
    attempt = 0;
    send();
  }

  function focusQuestion(id) {
    var n = qNodes[id];
    if (!n) return;
    try { n.scrollIntoView({ block: 'start', behavior: 'smooth' }); } catch (e) { n.scrollIntoView(true); }
    var i = n.querySelector('input,textarea');
    if (i) setTimeout(function () { try { i.focus({ preventScroll: true }); } catch (e) { i.focus(); } }, 350);
  }

  var sendingState = 'first'; // first | retry | offline
  function updateSending() {
    $('sending-title').textContent = t(sendingState === 'first' ? 'sendingTitle' : 'resendTitle');
    $('sending-text').textContent = t(sendingState === 'first' ? 'sendingText' : (sendingState === 'offline' ? 'offlineText' : 'resendText'));
    $('retry-now').hidden = sendingState === 'first';
  }

  function send() {
    var pending = store.get(K.pending);
    if (!pending || !pending.body) return;
    clearTimeout(retryTimer); retryTimer = null;
    inFlight = true;
    setStatus(null);
    sendingState = attempt ? 'retry' : 'first';
    if (view !== 'sending') show('sending');
    updateSending();
    $('retry-now').disabled = true;
    fetch('/api/v1/responses', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(pending.body), credentials: 'same-origin', cache: 'no-store'
    }).then(function (r) {
      return r.text().then(function (txt) {
        var j = null; try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
        return { status: r.status, json: j };
      });
    }).then(function (res) {
      inFlight = false; $('retry-now').disabled = false;
      var s = res.status;
      if (s === 200 || s === 201) return done();
      if (s >= 500 || s === 408 || s === 0) return scheduleRetry();
      // a definite answer: the pending copy is no longer needed
      store.del(K.pending);
      backToForm(pending.body);
      if (s === 400 && res.json && Array.isArray(res.json.errors)) return showServerErrors(res.json.errors);
      var m = res.json && res.json.error ? { vi: res.json.error.message, en: res.json.error.message_en } : null;
      if (s === 429) setStatus({ key: 'tooMany' }, 'warn');
      else if (s === 409) setStatus(m && (m.vi || m.en) ? m : { key: 'receiptUsed' }, 'error');
      else setStatus(m && (m.vi || m.en) ? m : { key: 'failed' }, 'error');
      scrollTop();
    }).catch(function () {
      inFlight = false; $('retry-now').disabled = false;
      scheduleRetry();
    });
  }

  function scheduleRetry() {
    sendingState = navigator.onLine === false ? 'offline' : 'retry';
    if (view !== 'sending') show('sending');
    updateSending();
    var secs = BACKOFF[Math.min(attempt, BACKOFF.length - 1)];
    attempt++;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(send, secs * 1000);
  }

  function done() {
    clearTimeout(retryTimer); retryTimer = null;
    store.del(K.pending); store.del(K.draft); restoredBody = null;
    answers = {}; bad = {}; errors = {}; formErrors = [];
    setStatus(null);
    show('thank-you');
    scrollTop();
    try { $('thank-you').focus(); } catch (e) { /* ignore */ }
  }

  // Restore the form (after a definite server answer) with the answers that were sent.
  function backToForm(body) {
    if (body && !Object.keys(answers).length) restoreFromBody(body);
    if (!def) { loadForm(); return; }
    renderQuestions();
    show('form-view');
  }
  function restoreFromBody(body) {
    answers = {};
    if (body.submission_id) sid = body.submission_id;
    if (body.duration_ms != null) started = Date.now() - body.duration_ms;
    Object.keys(body.answers || {}).forEach(function (k) { answers[k] = body.answers[k]; });
    (def ? def.profile || [] : []).forEach(function (q) { if (body[q.id] != null) answers[q.id] = body[q.id]; });
    restoredBody = def ? null : body;
  }
  var restoredBody = null;

  function showServerErrors(list) {
    errors = {}; formErrors = [];
    var first = null;
    list.forEach(function (e) {
      var f = String(e.field || '');
      var m = { vi: e.message_vi || e.message, en: e.message_en || e.message };
      var id = f.indexOf('answers.') === 0 ? f.slice(8).split(/[.\[]/)[0] : f.split(/[.\[]/)[0];
      if (id && qNodes[id] && !qNodes[id].hidden) {
        errors[id] = m;
        if (!first) first = id;
      } else formErrors.push(m);
    });
    refresh();
    var sm = $('submit-msg'); sm.textContent = t('errServer'); sm.hidden = false;
    if (formErrors.length) { scrollTop(); $('form-errors').focus(); } else if (first) focusQuestion(first);
  }

  function scrollTop() { try { window.scrollTo(0, 0); } catch (e) { /* ignore */ } }

  function newResponse() {
    answers = {}; bad = {}; errors = {}; formErrors = [];
    sid = uuid(); started = Date.now();
    store.del(K.draft);
    if (receipt) { // a receipt code is for one visit only
      receipt = null;
      try { history.replaceState(null, '', location.pathname + location.search.replace(/([?&])r=[^&]*&?/, '$1').replace(/[?&]$/, '')); } catch (e) { /* ignore */ }
    }
    $('submit-msg').hidden = true;
    setStatus(null);
    renderQuestions();
    show('form-view');
    scrollTop();
    var f = document.querySelector('#questions input, #questions textarea');
    if (f) try { f.focus({ preventScroll: true }); } catch (e) { f.focus(); }
  }

  // ---------- module headings ----------
  function renderSection(sec) {
    return el('div', { className: 'q-section', 'data-module': sec.module }, [
      el('h2', { className: 'section-title', text: tx(sec, 'heading') }),
      tx(sec, 'reassurance') ? el('p', { className: 'reassure', text: tx(sec, 'reassurance') }) : null
    ]);
  }

  // ---------- commune picker: a text box filtering a list, by keyboard too ----------
  // fold lowers the case and drops diacritics: "Phường Bến Thành" -> "phuong ben thanh".
  function fold(s) {
    s = String(s || '').toLowerCase().replace(/đ/g, 'd');
    try { s = s.normalize('NFD'); } catch (e) { /* old browser: match with diacritics */ }
    return s.replace(/[\u0300-\u036f]/g, '').replace(/\s+/g, ' ').trim();
  }
  // The 168 communes (16 KB) are fetched when a commune question is first
  // used, not with the form: most residents live in the commune they visit.
  function loadCommunes() {
    if (communesLoading) return;
    communesFailed = false;
    communesLoading = true;
    fetch('/api/v1/communes', { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (list) {
        var here = def && def.commune ? def.commune.code : '';
        communes = list.filter(function (c) { return c.code !== here; }).map(function (c) {
          return { code: c.code, name: c.name, key: fold(c.name), bare: fold(c.name.replace(/^(Phường|Xã|Đặc khu)\s+/, '')) };
        });
        // Show the names of communes already chosen (a restored draft).
        each(document.querySelectorAll('.combo-input'), function (i) {
          var fs = i.closest('fieldset'), id = fs && fs.getAttribute('data-question');
          if (id && answers[id]) i.value = communeName(answers[id]);
        });
        communesLoading = false;
        // Whoever typed while the list was on its way gets their matches.
        var a = document.activeElement;
        if (a && a.classList && a.classList.contains('combo-input')) a.dispatchEvent(new Event('input'));
      })
      .catch(function () { communesFailed = true; communesLoading = false; });
  }
  function communeName(code) {
    for (var i = 0; communes && i < communes.length; i++) if (communes[i].code === code) return communes[i].name;
    return code || '';
  }
  function renderCommune(q, fid) {
    var listId = fid + '-list', active = -1, matches = [];
    var input = el('input', {
      type: 'text', id: fid + '-input', className: 'combo-input', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
      'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
      'aria-labelledby': fid + '-label', 'aria-describedby': fid + '-status', placeholder: t('communeSearch')
    });
    var list = el('ul', { id: listId, role: 'listbox', className: 'combo-list', 'aria-labelledby': fid + '-label', hidden: true });
    var status = el('p', { className: 'combo-status', id: fid + '-status', 'aria-live': 'polite' });
    if (answers[q.id]) {
      if (!communes) loadCommunes(); // a restored draft: fetch the names
      input.value = communeName(answers[q.id]); status.textContent = t('communeChosen', { name: input.value });
    }
    input.addEventListener('focus', function () { if (!communes) loadCommunes(); });
    function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); input.removeAttribute('aria-activedescendant'); }
    function mark(i) {
      active = i;
      each(list.children, function (li, k) { li.setAttribute('aria-selected', k === i ? 'true' : 'false'); });
      if (i >= 0 && list.children[i]) {
        input.setAttribute('aria-activedescendant', list.children[i].id);
        try { list.children[i].scrollIntoView({ block: 'nearest' }); } catch (e) { /* ignore */ }
      } else input.removeAttribute('aria-activedescendant');
    }
    function choose(c) {
      answers[q.id] = c.code; input.value = c.name;
      status.textContent = t('communeChosen', { name: c.name });
      close(); changed(q);
    }
    function update() {
      list.textContent = '';
      if (!communes) {
        status.textContent = t(communesFailed ? 'communeFailed' : 'communeLoading');
        if (communesFailed) loadCommunes();
        return close();
      }
      var words = fold(input.value).split(' ').filter(Boolean);
      matches = !words.length ? [] : communes.filter(function (c) {
        return words.every(function (w) { return c.key.indexOf(w) >= 0; });
      });
      var start = fold(input.value);
      matches.sort(function (a, b) { return (b.bare.indexOf(start) === 0) - (a.bare.indexOf(start) === 0); });
      matches = matches.slice(0, 8);
      matches.forEach(function (c, i) {
        var li = el('li', { id: fid + '-opt-' + i, role: 'option', className: 'combo-opt', 'aria-selected': 'false', text: c.name });
        li.addEventListener('mousedown', function (e) { e.preventDefault(); }); // keep focus in the box
        li.addEventListener('click', function () { choose(c); });
        list.appendChild(li);
      });
      status.textContent = words.length ? (matches.length ? t('communeCount', { n: matches.length }) : t('communeNone')) : '';
      list.hidden = !matches.length;
      input.setAttribute('aria-expanded', matches.length ? 'true' : 'false');
      mark(-1);
    }
    input.addEventListener('input', function () {
      if (answers[q.id] && input.value !== communeName(answers[q.id])) { delete answers[q.id]; changed(q); }
      update();
    });
    input.addEventListener('focus', function () { if (!answers[q.id]) update(); });
    // Close on leaving the box, unless focus came straight back (a tap on
    // the list keeps it there).
    input.addEventListener('blur', function () { setTimeout(function () { if (document.activeElement !== input) close(); }, 150); });
    input.addEventListener('keydown', function (e) {
      var k = e.key;
      if (k === 'ArrowDown' || k === 'Down') { e.preventDefault(); if (list.hidden) update(); mark(Math.min(active + 1, matches.length - 1)); }
      else if (k === 'ArrowUp' || k === 'Up') { e.preventDefault(); mark(Math.max(active - 1, 0)); }
      else if (k === 'Enter') { e.preventDefault(); if (matches[active >= 0 ? active : 0] && !list.hidden) choose(matches[active >= 0 ? active : 0]); }
      else if (k === 'Escape' || k === 'Esc') { close(); }
    });
    // Enter picks a commune; it must not also send the form (browsers send
    // it on the key press that follows the key down).
    input.addEventListener('keypress', function (e) { if (e.key === 'Enter') e.preventDefault(); });
    return el('div', { className: 'combo' }, [input, list, status]);
  }

  // ---------- loading ----------
  function setDef(d) {
    def = d;
    byId = {}; sectionOf = {}; gridOf = {};
    allQuestions().forEach(function (q) { byId[q.id] = q; });
    (def.sections || []).forEach(function (s) { sectionOf[s.module] = s; });
    (def.grids || []).forEach(function (g) { gridOf[g.id] = g; });
  }

  function loadForm() {
    var hasPending = !!store.get(K.pending);
    if (!hasPending && view !== 'loading') show('loading');
    if (!token) { showNotFound(null); return; }
    fetch('/api/v1/forms/' + encodeURIComponent(token), { headers: { 'Accept': 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        return r.text().then(function (txt) {
          var j = null; try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
          return { status: r.status, json: j };
        });
      })
      .then(function (res) {
        if (res.status === 404 || res.status === 410) {
          if (store.get(K.pending)) return; // still try to deliver what was already filled in
          return showNotFound(res.json && res.json.error);
        }
        if (res.status !== 200 || !res.json || !Array.isArray(res.json.questions)) throw new Error('bad status ' + res.status);
        setDef(res.json);
        if (restoredBody) restoreFromBody(restoredBody);
        else if (!store.get(K.pending)) restoreDraft();
        applyLang();
        if (view === 'loading' || view === 'load-error' || (view === 'form-view')) show('form-view');
      })
      .catch(function () {
        if (store.get(K.pending) && view === 'sending') return; // sending screen stays
        show('load-error');
        applyLang();
      });
  }

  function restoreDraft() {
    var d = store.get(K.draft);
    if (d && d.v === def.questionnaire_version && d.saved && Date.now() - d.saved < DRAFT_TTL && d.answers) {
      sid = d.sid || sid; started = d.started || started;
      answers = {};
      Object.keys(d.answers).forEach(function (k) { if (byId[k]) answers[k] = d.answers[k]; });
      pruneHidden();
      if (Object.keys(answers).length) setStatus({ key: 'restored' }, 'info');
    }
    if (!sid) sid = uuid();
  }

  function showNotFound(err) {
    if (err && err.message) $('not-found-vi').textContent = err.message;
    if (err && err.message_en) $('not-found-en').textContent = err.message_en;
    show('not-found');
    $('lang-toggle').hidden = true;
    document.documentElement.lang = 'vi';
  }

  // ---------- kiosk mode ----------
  // The tablet proves it is an enrolled kiosk with a device secret (from
  // the one-time enrolment code), kept in localStorage and sent in a header.
  // Between people it forgets everything: no draft is saved, answers and
  // the questions drawn are dropped at the thank-you, after idle time and
  // at the start screen. Answers the server did not get are queued on the
  // tablet and sent, oldest first, when the connection is back; their
  // submission_id makes a repeat harmless.
  var device = null;
  var idleTimer = null, thanksTimer = null, queueTimer = null, queueBusy = false, queueAttempt = 0;

  function fetchJSON(url, opts) {
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (txt) {
        var j = null; try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
        return { status: r.status, json: j };
      });
    });
  }
  function kioskHeaders() {
    var h = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    if (device && device.secret) h['X-Papi-Kiosk'] = device.secret;
    return h;
  }
  // seconds reads a data attribute of the page (tests shorten the waits).
  function seconds(name, dflt) {
    var n = Number(document.body.getAttribute('data-' + name));
    return n > 0 ? n : dflt;
  }
  // kioskIdle restarts the idle clock: without a touch or a key for
  // data-idle seconds (90), a half-filled form goes back to the start.
  function kioskIdle() {
    clearTimeout(idleTimer); idleTimer = null;
    if (view === 'form-view' || view === 'load-error' || view === 'not-found') idleTimer = setTimeout(goStart, seconds('idle', 90) * 1000);
  }
  function forget() {
    answers = {}; bad = {}; errors = {}; formErrors = []; sid = null; receipt = null;
    $('questions').textContent = ''; $('profile').textContent = ''; qNodes = {}; blockNodes = [];
    $('submit-msg').hidden = true;
    $('form-errors').hidden = true;
  }
  function goStart() {
    clearTimeout(thanksTimer); thanksTimer = null;
    lang = 'vi';
    setStatus(null);
    show('kiosk-start');
    applyLang();
    forget(); // after applyLang, which draws the questions again
    scrollTop();
    try { $('kiosk-begin').focus(); } catch (e) { /* ignore */ }
  }
  function kioskBegin() {
    var b = $('kiosk-begin');
    b.disabled = true;
    try { if (document.documentElement.requestFullscreen && !document.fullscreenElement) document.documentElement.requestFullscreen().catch(function () {}); } catch (e) { /* not allowed */ }
    fetchJSON('/api/v1/forms/' + encodeURIComponent(token), { headers: { 'Accept': 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 404 || res.status === 410) return showNotFound(res.json && res.json.error);
        if (res.status !== 200 || !res.json || !Array.isArray(res.json.questions)) throw new Error('bad status ' + res.status);
        store.set(K.def, res.json);
        kioskFresh(res.json);
      })
      .catch(function () {
        // Offline: the questionnaire this tablet loaded last serves; the
        // answers wait in the queue.
        var d = store.get(K.def);
        if (d && Array.isArray(d.questions)) kioskFresh(d); else { show('load-error'); applyLang(); }
      })
      .then(function () { b.disabled = false; });
  }
  function kioskFresh(d) {
    setDef(d);
    forget();
    sid = uuid(); started = Date.now();
    show('form-view');
    applyLang();
    scrollTop();
    var f = document.querySelector('#questions input, #questions textarea');
    if (f) try { f.focus({ preventScroll: true }); } catch (e) { f.focus(); }
  }

  function queue() { var q = store.get(K.queue); return Array.isArray(q) ? q : []; }
  function enqueue(body) {
    var q = queue();
    if (!q.some(function (b) { return b.submission_id === body.submission_id; })) q.push(body);
    store.set(K.queue, q);
    showQueue();
  }
  function dequeue(id) {
    store.set(K.queue, queue().filter(function (b) { return b.submission_id !== id; }));
    showQueue();
  }
  function showQueue() {
    var p = $('kiosk-queue');
    if (!p) return;
    var n = queue().length;
    p.hidden = !n;
    p.textContent = n ? t('kioskQueue', { n: n }) : '';
  }
  function postKiosk(body) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, 10000) : null;
    return fetchJSON('/api/v1/responses', {
      method: 'POST', headers: kioskHeaders(), body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store',
      signal: ctl ? ctl.signal : undefined
    }).then(function (r) { clearTimeout(timer); return r; }, function (e) { clearTimeout(timer); throw e; });
  }
  function transient(s) { return s === 0 || s === 408 || s === 429 || s >= 500; }

  // kioskSubmit queues the answers, then tries to send them while the
  // person is still there: answers the server finds wrong go back to them.
  function kioskSubmit() {
    var body = buildBody();
    body.channel = 'kiosk';
    enqueue(body);
    if (navigator.onLine === false) return kioskThanks(true);
    inFlight = true;
    sendingState = 'first';
    show('sending');
    updateSending();
    postKiosk(body).then(function (res) {
      inFlight = false;
      var s = res.status;
      if (transient(s)) return kioskThanks(true);
      dequeue(body.submission_id);
      if (s === 200 || s === 201) return kioskThanks(false);
      if (s === 403) return kioskRefused(res.json && res.json.error);
      show('form-view');
      if (s === 400 && res.json && Array.isArray(res.json.errors)) return showServerErrors(res.json.errors);
      var e = res.json && res.json.error;
      setStatus(e && (e.message_vi || e.message_en) ? { vi: e.message_vi, en: e.message_en } : { key: 'failed' }, 'error');
      scrollTop();
    }).catch(function () {
      inFlight = false;
      kioskThanks(true);
    });
  }
  function kioskThanks(queued) {
    forget();
    $('kiosk-queued-note').hidden = !queued;
    setStatus(null);
    show('thank-you');
    scrollTop();
    try { $('thank-you').focus(); } catch (e) { /* ignore */ }
    clearTimeout(thanksTimer);
    thanksTimer = setTimeout(goStart, seconds('thanks', THANKS_SECONDS) * 1000);
    if (queued) retryQueue(); else flushQueue();
  }
  // flushQueue sends the queued answers one at a time, oldest first; each
  // leaves the queue once the server has it or refuses it for good.
  function flushQueue() {
    clearTimeout(queueTimer); queueTimer = null;
    var q = queue();
    if (!q.length || queueBusy || inFlight || !device) return;
    queueBusy = true;
    var body = q[0];
    postKiosk(body).then(function (res) {
      queueBusy = false;
      if (transient(res.status)) return retryQueue();
      queueAttempt = 0;
      if (res.status === 403) { // revoked: its answers are not taken
        store.del(K.queue); showQueue();
        return kioskRefused(res.json && res.json.error);
      }
      dequeue(body.submission_id);
      flushQueue();
    }).catch(function () {
      queueBusy = false;
      retryQueue();
    });
  }
  function retryQueue() {
    if (!queue().length) return;
    var secs = BACKOFF[Math.min(queueAttempt, BACKOFF.length - 1)];
    queueAttempt++;
    clearTimeout(queueTimer);
    queueTimer = setTimeout(flushQueue, secs * 1000);
  }

  // kioskRefused shows the page asking staff to enrol the tablet, with the
  // server's reason when there is one.
  function kioskRefused(err) {
    clearTimeout(thanksTimer); thanksTimer = null;
    forget();
    if (err && (err.message_vi || err.message)) $('kiosk-enrol-vi').textContent = err.message_vi || err.message;
    if (err && err.message_en) $('kiosk-enrol-en').textContent = err.message_en;
    show('kiosk-enrol');
    document.documentElement.lang = 'vi';
  }
  function kioskEnrol(code) {
    show('loading');
    $('kiosk-code-error').textContent = '';
    fetchJSON('/api/v1/kiosks/enrol', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ token: token, code: code }), credentials: 'same-origin', cache: 'no-store'
    }).then(function (res) {
      if (res.status === 200 && res.json && res.json.secret && res.json.kiosk) {
        device = { secret: res.json.secret, id: res.json.kiosk.id, label: res.json.kiosk.label };
        store.set(K.device, device);
        return kioskReady();
      }
      var e = res.json && (res.json.error || (Array.isArray(res.json.errors) && res.json.errors[0]));
      kioskRefused(null);
      $('kiosk-code-error').textContent = e ? (e.message_vi || e.message || '') + (e.message_en ? ' / ' + e.message_en : '') : t('failed');
    }).catch(function () {
      kioskRefused(null);
      $('kiosk-code-error').textContent = T.vi.kioskOffline + ' / ' + T.en.kioskOffline;
    });
  }
  function kioskCheck() {
    if (!device || !device.secret) return kioskRefused(null);
    fetchJSON('/api/v1/kiosks/current?token=' + encodeURIComponent(token), { headers: kioskHeaders(), credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 200) return kioskReady();
        if (res.status === 403) return kioskRefused(res.json && res.json.error);
        if (res.status === 400 || res.status === 404) return showNotFound(null);
        kioskReady(); // the server is in trouble: answers are queued meanwhile
      })
      .catch(kioskReady); // offline: an enrolled tablet keeps taking answers
  }
  // kioskReady opens the start screen, with the centre's name and the
  // visit's length from the questionnaire (the last one loaded while
  // offline), and sends what the queue holds.
  function kioskReady() {
    var d = store.get(K.def);
    if (d && Array.isArray(d.questions)) setDef(d);
    goStart();
    flushQueue();
    fetchJSON('/api/v1/forms/' + encodeURIComponent(token), { headers: { 'Accept': 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status !== 200 || !res.json || !Array.isArray(res.json.questions)) return;
        store.set(K.def, res.json);
        if (view === 'kiosk-start') { setDef(res.json); applyLang(); forget(); }
      })
      .catch(function () { /* offline: the stored one serves */ });
  }
  function kioskInit() {
    device = store.get(K.device);
    // The service worker keeps this page for a reload while offline.
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/k/sw.js').catch(function () { /* not offered */ });
    $('new-response').addEventListener('click', goStart);
    $('kiosk-begin').addEventListener('click', kioskBegin);
    $('kiosk-code-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var code = $('kiosk-code').value.trim();
      if (!code) { $('kiosk-code-error').textContent = T.vi.kioskCodeNeeded + ' / ' + T.en.kioskCodeNeeded; return; }
      kioskEnrol(code);
    });
    ['pointerdown', 'keydown', 'input', 'touchstart', 'wheel'].forEach(function (type) {
      document.addEventListener(type, kioskIdle, { capture: true, passive: true });
    });
    window.addEventListener('online', function () { queueAttempt = 0; flushQueue(); });
    applyLang();
    var code = query('enrol');
    if (code) {
      // The one-time code leaves the address bar and the history at once.
      try { history.replaceState(null, '', location.pathname); } catch (e) { /* ignore */ }
      return kioskEnrol(code);
    }
    kioskCheck();
  }

  // ---------- wiring ----------
  function init() {
    $('lang-toggle').addEventListener('click', function () {
      lang = lang === 'vi' ? 'en' : 'vi';
      if (!KIOSK) store.set(K.lang, lang);
      applyLang();
    });
    var form = $('form');
    form.addEventListener('change', onInput);
    form.addEventListener('input', function (e) { if (e.target.tagName === 'TEXTAREA' || e.target.type === 'number') onInput(e); });
    form.addEventListener('submit', onSubmit);
    $('retry-load').addEventListener('click', function () { if (KIOSK) { kioskBegin(); return; } show('loading'); loadForm(); });
    $('retry-now').addEventListener('click', function () { attempt = 0; send(); });
    if (KIOSK) return kioskInit();
    $('new-response').addEventListener('click', newResponse);
    window.addEventListener('online', function () {
      if (store.get(K.pending) && !inFlight) { attempt = 0; send(); } else if (view === 'load-error') loadForm();
    });
    window.addEventListener('offline', function () { if (view === 'sending' && !inFlight) { sendingState = 'offline'; updateSending(); } });

    applyLang();
    var pending = store.get(K.pending);
    if (pending && pending.body) {
      restoredBody = pending.body;
      sid = pending.body.submission_id;
      if (pending.body.receipt) receipt = pending.body.receipt;
      attempt = 1;
      sendingState = 'retry';
      show('sending');
      $('lang-toggle').hidden = false;
      send();
    }
    loadForm();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
