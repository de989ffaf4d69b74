(function () {
  'use strict';
  // The page follows the display's screens through Server-Sent Events. It
  // only ever sets textContent, never HTML: messages may carry gateways'
  // reasons.
  var body = document.body;
  var boot = body.dataset.boot;
  var seq = Number(body.dataset.seq);
  var $ = function (id) { return document.getElementById(id); };
  function text(id, s) { var e = $(id); e.textContent = s || ''; e.hidden = !s; }

  function apply(v) {
    if (v.boot !== boot) {
      // A restarted daemon may serve a newer page: load it, once it answers.
      fetch('/', { cache: 'no-store' }).then(function (r) {
        if (r.ok) { location.reload(); }
      }, function () {});
    } else if (v.seq < seq) {
      return;
    }
    seq = v.seq;
    body.dataset.kind = v.kind;
    body.dataset.tone = v.tone;
    body.dataset.seq = String(v.seq);
    document.title = v.title;
    text('title', v.title);
    $('heading').textContent = v.heading;
    $('amount').textContent = v.amount || '';
    $('currency').textContent = v.currency || '';
    $('amountline').hidden = !v.amount;
    text('wallet', v.wallet);
    text('message', v.message);
    text('status', v.status);
    var qr = $('qr');
    if (v.qr) {
      if (qr.getAttribute('src') !== v.qr) { qr.src = v.qr; }
      qr.hidden = false;
    } else {
      qr.hidden = true;
      qr.removeAttribute('src');
    }
  }

  var es = null, lastSeen = Date.now(), backoff = 1000;
  function connected(ok) {
    $('conn').hidden = ok;
    body.dataset.live = ok ? '1' : '0';
  }
  function connect() {
    if (es) { es.close(); }
    es = new EventSource('/events');
    lastSeen = Date.now();
    es.addEventListener('screen', function (e) {
      lastSeen = Date.now();
      backoff = 1000;
      connected(true);
      apply(JSON.parse(e.data));
    });
    es.addEventListener('ping', function () { lastSeen = Date.now(); });
    es.onerror = function () {
      connected(false);
      // The browser retries a dropped stream by itself; one it gave up on
      // (the daemon answered with an error while restarting) is ours to retry.
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 10000);
      }
    };
  }
  // A stream that went silent (a tablet's Wi-Fi dropped, a laptop slept)
  // may never report an error: the server pings every 15 s.
  setInterval(function () {
    if (Date.now() - lastSeen > 40000) { connected(false); connect(); }
  }, 5000);
  connect();
}());
