(function () {
  'use strict';
  // The page follows the display's screens through Server-Sent Events. It
  // only ever sets textContent, never HTML: every string comes from the
  // display's own catalog, but the shop's title comes from config.
  var body = document.body;
  var boot = body.dataset.boot;
  var seq = Number(body.dataset.seq);
  var $ = function (id) { return document.getElementById(id); };
  function text(id, s) { var e = $(id); e.textContent = s || ''; e.hidden = !s; }
  // langs fills element id with one span per language.
  function langs(id, texts, field) {
    var e = $(id);
    e.textContent = '';
    texts.forEach(function (t, i) {
      if (!t[field]) { return; }
      var s = document.createElement('span');
      s.className = 'l' + i;
      s.lang = t.lang;
      s.textContent = t[field];
      e.appendChild(s);
    });
  }

  // The countdown runs on the browser's clock from the time left when the
  // screen arrived, so a tablet whose clock is wrong still counts right.
  var deadline = 0;
  function tick() {
    if (!deadline) { return; }
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    $('clock').textContent = Math.floor(left / 60) + ':' + ('0' + left % 60).slice(-2);
  }
  function countdown(ms) {
    deadline = ms ? Date.now() + ms : 0;
    $('countdown').hidden = !ms;
    tick();
  }
  setInterval(tick, 250);
  countdown(Number(body.dataset.expires));

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
    if (v.texts.length) { document.documentElement.lang = v.texts[0].lang; }
    text('title', v.title);
    langs('heading', v.texts, 'heading');
    langs('message', v.texts, 'message');
    $('amount').textContent = v.amount || '';
    $('currency').textContent = v.currency || '';
    $('amountline').hidden = !v.amount;
    $('equivamount').textContent = v.equiv || '';
    $('rate').textContent = v.rate || '';
    $('equiv').hidden = !v.equiv;
    text('wallet', v.wallet);
    $('timeleft').textContent = v.time_left || '';
    countdown(v.expires_in_ms || 0);
    var qr = $('qr');
    if (v.qr) {
      if (qr.getAttribute('src') !== v.qr) { qr.src = v.qr; }
      qr.hidden = false;
    } else {
      qr.hidden = true;
      qr.removeAttribute('src');
    }
    $('qrbox').hidden = !v.qr;
    body.dataset.ready = '1';
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
