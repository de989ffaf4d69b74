'use strict';
// The support page. Everything it shows is built with textContent: no
// text from the journal or a gateway ever becomes markup.
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var status = document.getElementById('status');

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } }
  function money(minor, cur) {
    var exp = { JPY: 0, KRW: 0 }[cur];
    if (exp === undefined) { exp = 2; }
    var neg = minor < 0; var v = Math.abs(minor);
    var s = exp === 0 ? String(v) : Math.floor(v / Math.pow(10, exp)) + '.' + String(v % Math.pow(10, exp)).padStart(exp, '0');
    return (neg ? '-' : '') + s + ' ' + cur;
  }
  function when(t) { return t ? new Date(t).toLocaleString() : ''; }
  function say(text, bad) { status.textContent = text; status.className = bad ? 'bad' : ''; }

  function problemText(body, code) {
    if (body && body.detail) { return body.detail; }
    return 'HTTP ' + code;
  }

  function post(path, body) {
    return fetch(path, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: body === undefined ? '' : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (t) {
        var b = null;
        try { b = t ? JSON.parse(t) : null; } catch (e) { b = null; }
        if (!r.ok) { throw new Error(problemText(b, r.status)); }
        return b;
      });
    });
  }

  function row(cells, cls) {
    var tr = el('tr', null, cls);
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) { td.appendChild(c); } else { td.textContent = c === undefined || c === null ? '' : String(c); }
      tr.appendChild(td);
    });
    return tr;
  }
  function table(heads) {
    var t = el('table'); var tr = el('tr');
    heads.forEach(function (h) { tr.appendChild(el('th', h)); });
    var th = el('thead'); th.appendChild(tr); t.appendChild(th);
    var tb = el('tbody'); t.appendChild(tb);
    return { table: t, body: tb };
  }

  function renderFlags(o) {
    var counts = document.getElementById('flag-counts');
    var names = { charged_late: 'charged after the till gave up', mismatch: 'answers that did not match the journal', alert: 'gateway alerts' };
    var parts = [];
    Object.keys(names).forEach(function (k) { parts.push(names[k] + ': ' + (o.flags[k] || 0)); });
    counts.textContent = 'Since the journal began — ' + parts.join(' · ') +
      (o.outbox ? '. Now — outbox items overdue: ' + o.outbox.alerts : '');
    counts.className = o.outbox && o.outbox.alerts ? 'bad' : '';
    var ul = document.getElementById('flagged'); clear(ul);
    o.payments.forEach(function (p) {
      if (!p.flags.length) { return; }
      var li = el('li');
      li.dataset.payment = p.id;
      p.flags.forEach(function (f) { li.appendChild(el('span', f, 'flag')); });
      li.appendChild(el('span', p.id + ' ' + money(p.amount, p.currency) + ' ' + p.detail + (p.alert ? ' — ' + p.alert : '') +
        (p.charged_late ? ' — the customer was charged after the till gave up: refund it (posagent refund ' + p.id + ')' : '')));
      ul.appendChild(li);
    });
    if (!ul.firstChild) { ul.appendChild(el('li', 'No recent payment is flagged.', 'good')); }
  }

  function outcomesFor(kind) {
    return kind.indexOf('refund_') === 0 ? ['succeeded', 'failed', 'attention'] : ['succeeded', 'failed', 'reversed'];
  }

  function resolveForm(it) {
    var f = el('form', null, 'resolve');
    f.dataset.item = it.id;
    var sel = el('select', null, 'outcome');
    sel.appendChild(el('option', 'outcome…')).value = '';
    outcomesFor(it.kind).forEach(function (s) { var o = el('option', s); o.value = s; sel.appendChild(o); });
    var reason = el('input', null, 'reason'); reason.placeholder = 'reason (what was confirmed, with whom)'; reason.required = true;
    var by = el('input', null, 'by'); by.placeholder = 'your name'; by.required = true;
    var go = el('button', 'Resolve', 'resolve'); go.type = 'submit';
    var retry = el('button', 'Retry now', 'retry'); retry.type = 'button';
    retry.addEventListener('click', function () {
      post('/support/api/outbox/' + encodeURIComponent(it.id) + '/retry').then(function () {
        say(it.id + ' retried: due now'); load();
      }, function (e) { say(it.id + ': ' + e.message, true); });
    });
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!sel.value || !reason.value.trim() || !by.value.trim()) { say('Resolving needs an outcome, a reason and your name.', true); return; }
      post('/support/api/outbox/' + encodeURIComponent(it.id) + '/resolve', { outcome: sel.value, reason: reason.value.trim(), by: by.value.trim() }).then(function (a) {
        var what = a.payment ? a.payment.id + ' is ' + a.payment.detail : (a.refund ? a.refund.id + ' is ' + a.refund.detail : '');
        say(it.id + ' resolved: ' + what); load();
      }, function (e) { say(it.id + ': ' + e.message, true); });
    });
    [retry, sel, reason, by, go].forEach(function (x) { f.appendChild(x); });
    return f;
  }

  function renderOutbox(o) {
    var sec = document.getElementById('outbox-section');
    var body = document.querySelector('#outbox tbody'); clear(body);
    var sum = document.getElementById('outbox-summary');
    if (!o.outbox) { sec.hidden = true; return; }
    sum.textContent = o.outbox.items.length + ' owed, ' + o.outbox.alerts + ' overdue (over ' + o.outbox.alert_after + ')';
    sum.className = o.outbox.alerts ? 'bad' : '';
    o.outbox.items.forEach(function (it) {
      var tr = row([it.id + (it.alert ? ' OVERDUE' : ''), it.kind, it.refund_id || it.payment_id, it.state, it.gateway,
        money(it.amount, it.currency), it.attempts, when(it.next_try), it.last_error, resolveForm(it)], it.alert ? 'alert' : '');
      tr.id = 'ob-' + it.id;
      body.appendChild(tr);
    });
    if (!o.outbox.items.length) { body.appendChild(row(['Empty: no gateway operation is owed.'])); }
  }

  function renderRecon(o) {
    var d = document.getElementById('reconciliation'); clear(d);
    var r = o.reconciliation;
    if (!r) { d.appendChild(el('p', 'None kept yet (reconcile.daily_at runs one a day; posagent reconcile runs one by hand).')); return; }
    d.appendChild(el('p', (r.ok ? 'Adds up' : 'Does NOT add up') + ': acquirer day ' + r.date + ', run ' + when(r.at) + ' (' + r.trigger + '), ' +
      r.issues + ' mismatches, ' + r.failed + ' bills not had', r.ok ? 'good' : 'bad'));
    r.reports.forEach(function (rp) {
      d.appendChild(el('p', rp.gateway + ' (' + rp.zone + '): ' + (rp.has_bill ? rp.bill_lines + ' bill lines, ' + rp.matched + ' matched' : rp.no_bill) + (rp.error ? ' — ' + rp.error : '')));
      if (rp.issues.length) {
        var t = table(['Kind', 'Payment / refund', 'Order', 'Journal', 'Bill', 'Message']);
        rp.issues.forEach(function (i) {
          t.body.appendChild(row([i.kind + (i.refund ? ' (refund)' : ''), i.refund_id || i.payment_id, i.out_refund_no || i.out_trade_no,
            (i.journal_state || '') + (i.journal_amount !== undefined ? ' ' + money(i.journal_amount, i.currency) : ''),
            i.bill_amount !== undefined ? money(i.bill_amount, i.currency) : '', i.message], 'alert'));
        });
        d.appendChild(t.table);
      }
    });
  }

  function cell(v) {
    if (v === null || v === undefined) { return ''; }
    if (typeof v === 'object') { return JSON.stringify(v); }
    return String(v);
  }
  // Devices come as {kind: status} or {kind: [status, ...]}; each kind is
  // a table of whatever its status says (scanners: connected, last
  // error...; printer: online, paper...).
  function renderDevices(o) {
    var d = document.getElementById('devices'); clear(d);
    var kinds = Object.keys(o.devices || {}).sort();
    if (!kinds.length) { d.appendChild(el('p', 'No device reports itself.')); }
    kinds.forEach(function (k) {
      var rows = Array.isArray(o.devices[k]) ? o.devices[k] : [o.devices[k]];
      var cols = [];
      rows.forEach(function (r) { Object.keys(r || {}).forEach(function (c) { if (cols.indexOf(c) < 0) { cols.push(c); } }); });
      d.appendChild(el('h3', k));
      var t = table(cols);
      t.table.id = 'devices-' + k;
      rows.forEach(function (r) { t.body.appendChild(row(cols.map(function (c) { return cell((r || {})[c]); }))); });
      d.appendChild(t.table);
    });
    document.getElementById('test-print').disabled = !o.tests;
    document.getElementById('test-display').disabled = !o.tests;
  }

  function renderPayments(o) {
    var d = document.getElementById('payments'); clear(d);
    var t = table(['Payment', 'Created', 'Amount', 'State', 'Gateway', 'Order', 'Flags', 'History', '']);
    o.payments.forEach(function (p) {
      var hist = el('details');
      hist.appendChild(el('summary', p.events.length + ' events'));
      var ol = el('ol', null, 'events');
      p.events.forEach(function (e) {
        var li = el('li', when(e.at) + ' ' + (e.from || '∅') + ' → ' + e.to + (e.reason ? ': ' + e.reason : '') + (e.detail ? ' (' + e.detail + ')' : '') + (e.flag ? ' [' + e.flag + ']' : ''));
        ol.appendChild(li);
      });
      hist.appendChild(ol);
      var flags = el('span');
      p.flags.forEach(function (f) { flags.appendChild(el('span', f, 'flag')); });
      var act = el('span');
      if (o.printer && p.state !== 'pending') {
        var b = el('button', 'Reprint', 'reprint'); b.type = 'button';
        b.addEventListener('click', function () {
          post('/support/api/payments/' + encodeURIComponent(p.id) + '/reprint').then(function (a) {
            say(p.id + ': ' + a.jobs.length + ' receipts queued');
          }, function (e) { say(p.id + ': ' + e.message, true); });
        });
        act.appendChild(b);
      }
      var tr = row([p.id, when(p.created_at), money(p.amount, p.currency), p.state + ' (' + p.detail + ')' + (p.reason ? ' — ' + p.reason : ''),
        p.gateway, p.out_trade_no, flags, hist, act], p.flags.length ? 'alert' : '');
      tr.id = 'pay-' + p.id;
      t.body.appendChild(tr);
    });
    d.appendChild(t.table);
  }

  function load() {
    return fetch('/support/api/overview', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (r.status === 401) { location.reload(); return null; }
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    }).then(function (o) {
      if (!o) { return; }
      document.getElementById('now').textContent = when(o.now);
      renderFlags(o); renderOutbox(o); renderRecon(o); renderDevices(o); renderPayments(o);
      document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    }).catch(function (e) { say('Could not load: ' + e.message, true); });
  }

  function test(what) {
    post('/support/api/test/' + what).then(function () { say('Test ' + what + ' sent'); }, function (e) { say('Test ' + what + ': ' + e.message, true); });
  }
  document.getElementById('test-print').addEventListener('click', function () { test('print'); });
  document.getElementById('test-display').addEventListener('click', function () { test('display'); });
  document.getElementById('refresh').addEventListener('click', function () { load(); });
  document.getElementById('logout').addEventListener('click', function () {
    post('/support/logout').then(function () { location.reload(); }, function () { location.reload(); });
  });
  load();
}());
