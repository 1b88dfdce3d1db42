// The kiosk's service worker (scope /k/): it keeps a copy of the kiosk page,
// its script and stylesheet and the list of communes, so that a tablet
// reloaded or restarted while the centre's connection is down still opens
// its start screen. The page itself queues answers until the connection is
// back. Every request goes to the network first, so a tablet online always
// gets the current page; the copies serve only when the network fails. No
// answer, device secret or enrolment code is ever cached: only GET requests
// for the files below, and a page is kept without its query string.
'use strict';

var CACHE = 'papi-kiosk-v1';
var FILES = ['/static/form.js', '/static/app.css', '/api/v1/communes'];

function kept(url) {
  return url.origin === self.location.origin &&
    (url.pathname.indexOf('/k/') === 0 || FILES.indexOf(url.pathname) >= 0);
}

// pageKey is the cache key of a kiosk page: its address without the query
// (an enrolment link carries a one-time code).
function pageKey(url) { return url.origin + url.pathname; }

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(FILES); }).then(function () { return self.skipWaiting(); }));
});

// On activation the worker takes over the open kiosk pages at once and
// keeps a copy of each, since their first load came before it.
self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }).then(function () {
    return self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  }).then(function (pages) {
    return caches.open(CACHE).then(function (c) {
      return Promise.all(pages.map(function (p) {
        var url = new URL(p.url);
        if (url.pathname.indexOf('/k/') !== 0) return null;
        return fetch(pageKey(url), { credentials: 'same-origin' }).then(function (res) {
          return res.ok ? c.put(pageKey(url), res) : null;
        }).catch(function () { return null; });
      }));
    });
  }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (!kept(url) || url.pathname === '/k/sw.js') return;
  var key = url.pathname.indexOf('/k/') === 0 ? pageKey(url) : req.url;
  e.respondWith(fetch(req).then(function (res) {
    if (res.ok) {
      var copy = res.clone();
      e.waitUntil(caches.open(CACHE).then(function (c) { return c.put(key, copy); }));
    }
    return res;
  }).catch(function (err) {
    return caches.match(key).then(function (hit) { if (hit) return hit; throw err; });
  }));
});
