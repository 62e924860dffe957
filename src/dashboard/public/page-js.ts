/**
 * The dashboard's script (plain browser JavaScript, no build step). Event fields are written by whoever
 * can reach the application, so every value goes into the page through textContent: nothing is ever
 * parsed as HTML (the CSP's Trusted Types requirement makes an HTML sink throw anyway).
 * Kept free of backticks and dollar-brace so it can live in a String.raw literal.
 */
export const PAGE_JS = String.raw`(function () {
  'use strict';

  var TOKEN_KEY = 'a09-collector-token';
  var ALERT_KINDS = ['alert', 'alert-update', 'alert-close'];
  /** Rows kept in the page; past it the oldest rows go (the API still has them). */
  var MAX_ALERT_ROWS = 1000;
  var state = { token: null, stream: null, retry: null, alerts: new Map(), selected: null, eventsQuery: null, eventsNext: null };

  function byId(id) { return document.getElementById(id); }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function cell(row, text, className) {
    var td = el('td', text, className);
    row.appendChild(td);
    return td;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function shortTime(iso) {
    if (typeof iso !== 'string') return '';
    return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function severityClass(severity) {
    return Number.isInteger(severity) && severity >= 0 && severity <= 7 ? 'sev sev' + severity : 'sev';
  }

  function AuthError() { this.name = 'AuthError'; }

  function api(path, method) {
    return fetch(path, {
      method: method || 'GET',
      headers: { Authorization: 'Bearer ' + state.token },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error'
    }).then(function (response) {
      if (response.status === 401) throw new AuthError();
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body && typeof body.error === 'string' ? body.error : 'HTTP ' + response.status);
        return body;
      });
    });
  }

  function setStatus(kind, text) {
    var status = byId('status');
    status.className = 'status ' + kind;
    status.textContent = text;
  }

  // Login: the token stays in this tab (sessionStorage), never in a URL or a cookie.

  function showLogin(message) {
    byId('main').hidden = true;
    byId('logout').hidden = true;
    byId('login').hidden = false;
    var error = byId('login-error');
    error.hidden = !message;
    error.textContent = message || '';
    setStatus('off', 'not connected');
  }

  function disconnect() {
    if (state.retry !== null) clearTimeout(state.retry);
    state.retry = null;
    if (state.stream !== null) state.stream.close();
    state.stream = null;
  }

  function logout(message) {
    disconnect();
    state.token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (ignored) { /* storage may be off */ }
    showLogin(message);
  }

  function login(token) {
    state.token = token;
    return api('/api/stream-ticket', 'POST').then(function (body) {
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (ignored) { /* storage may be off */ }
      byId('login').hidden = true;
      byId('main').hidden = false;
      byId('logout').hidden = false;
      byId('token').value = '';
      openStream(body.ticket);
      searchEvents(false);
    }, function (error) {
      if (error instanceof AuthError) logout('The collector refused this token.');
      else logout('Cannot reach the collector: ' + error.message);
    });
  }

  // The live stream: a fresh single-use ticket for every connection.

  function reconnect() {
    disconnect();
    setStatus('off', 'reconnecting');
    state.retry = setTimeout(function () {
      state.retry = null;
      api('/api/stream-ticket', 'POST').then(function (body) { openStream(body.ticket); }, function (error) {
        if (error instanceof AuthError) logout('The collector no longer accepts this token.');
        else reconnect();
      });
    }, 2000);
  }

  function openStream(ticket) {
    disconnect();
    var stream = new EventSource('/api/stream?ticket=' + encodeURIComponent(ticket));
    state.stream = stream;
    setStatus('wait', 'connecting');
    stream.addEventListener('snapshot', function (message) {
      var data = JSON.parse(message.data);
      setStatus('on', 'live');
      renderSnapshot(data);
    });
    ALERT_KINDS.forEach(function (kind) {
      stream.addEventListener(kind, function (message) { upsertAlert(JSON.parse(message.data), kind); });
    });
    stream.addEventListener('sources', function (message) { renderSources(JSON.parse(message.data)); });
    stream.addEventListener('error', function () {
      if (state.stream === stream) reconnect();
    });
  }

  // Alerts.

  function alertVisible(alert) {
    var wantedState = byId('f-state').value;
    var maxSeverity = Number(byId('f-severity').value);
    var text = byId('f-text').value.trim().toLowerCase();
    if (wantedState && alert.state !== wantedState) return false;
    if (alert.severity > maxSeverity) return false;
    if (text) {
      var haystack = [alert.title, alert.summary, alert.key && alert.key.value, alert.type, alert.ruleId].join(' ').toLowerCase();
      if (haystack.indexOf(text) === -1) return false;
    }
    return true;
  }

  function fillAlertRow(row, alert) {
    clear(row);
    row.className = 'alert-row state-' + (alert.state === 'closed' ? 'closed' : 'open');
    row.dataset.alertId = alert.id;
    cell(row, alert.severity, severityClass(alert.severity));
    cell(row, alert.title, 'title');
    cell(row, alert.key ? alert.key.value : '', 'key');
    cell(row, alert.count, 'alert-count');
    cell(row, alert.state, 'state');
    cell(row, shortTime(alert.firstAt), 'time');
    cell(row, shortTime(alert.lastAt), 'time');
    cell(row, alert.summary, 'summary');
    row.hidden = !alertVisible(alert);
  }

  function upsertAlert(alert, kind) {
    if (!alert || typeof alert.id !== 'string') return;
    var entry = state.alerts.get(alert.id);
    if (entry && entry.alert.revision > alert.revision) return;
    if (!entry) {
      var row = el('tr');
      row.tabIndex = 0;
      row.addEventListener('click', function () { showAlert(alert.id); });
      row.addEventListener('keydown', function (event) { if (event.key === 'Enter') showAlert(alert.id); });
      entry = { alert: alert, row: row };
      state.alerts.set(alert.id, entry);
      var body = byId('alerts').tBodies[0];
      body.insertBefore(row, body.firstChild);
      if (state.alerts.size > MAX_ALERT_ROWS) {
        var oldest = state.alerts.keys().next().value;
        var gone = state.alerts.get(oldest);
        state.alerts.delete(oldest);
        if (gone && gone.row.parentNode) gone.row.parentNode.removeChild(gone.row);
      }
    }
    entry.alert = alert;
    fillAlertRow(entry.row, alert);
    if (kind === 'alert' || kind === 'alert-update') {
      entry.row.classList.add('fresh');
      setTimeout(function () { entry.row.classList.remove('fresh'); }, 3000);
    }
    if (state.selected === alert.id && kind !== undefined) showAlert(alert.id);
    updateAlertCount();
  }

  function updateAlertCount() {
    var open = 0;
    state.alerts.forEach(function (entry) { if (entry.alert.state === 'open') open++; });
    byId('alert-count').textContent = open + ' open, ' + state.alerts.size + ' shown';
    byId('alerts-empty').hidden = state.alerts.size > 0;
  }

  function refilterAlerts() {
    state.alerts.forEach(function (entry) { entry.row.hidden = !alertVisible(entry.alert); });
  }

  function renderSnapshot(data) {
    clear(byId('alerts').tBodies[0]);
    state.alerts.clear();
    var alerts = Array.isArray(data.alerts) ? data.alerts.slice() : [];
    alerts.reverse().forEach(function (alert) { upsertAlert(alert, undefined); });
    updateAlertCount();
    if (data.sources) renderSources(data.sources);
  }

  function fact(list, name, value) {
    list.appendChild(el('dt', name));
    list.appendChild(el('dd', value));
  }

  function showAlert(id) {
    state.selected = id;
    api('/api/alerts/' + encodeURIComponent(id) + '?events=200').then(function (detail) {
      if (state.selected !== id) return;
      var alert = detail.alert;
      byId('detail').hidden = false;
      byId('detail-title').textContent = alert.title;
      var facts = byId('detail-facts');
      clear(facts);
      fact(facts, 'Rule', alert.ruleId + ' (' + alert.type + ')');
      fact(facts, 'Key', alert.key ? alert.key.value : '');
      fact(facts, 'State', alert.state + (alert.closedAt ? ' at ' + shortTime(alert.closedAt) : '') + (alert.closedBy ? ' by ' + alert.closedBy : ''));
      fact(facts, 'Count', alert.count);
      fact(facts, 'First / last', shortTime(alert.firstAt) + ' / ' + shortTime(alert.lastAt));
      fact(facts, 'Summary', alert.summary);
      fact(facts, 'Changes', detail.changes.map(function (change) { return change.kind + ' ' + change.count + ' @ ' + shortTime(change.at); }).join('; '));
      byId('detail-count').textContent = detail.events.length + ' of ' + alert.recordCount + ' linked';
      renderEvents(byId('detail-table').tBodies[0], detail.events, false);
      byId('detail-events').onclick = function () { searchKey(alert.key); };
    }, handleApiError);
  }

  function searchKey(key) {
    if (!key || typeof key.value !== 'string') return;
    byId('e-actor').value = '';
    byId('e-source').value = '';
    if (key.kind === 'source') byId('e-source').value = key.value;
    else if (/^(ip|email|user):/.test(key.value)) byId('e-actor').value = key.value;
    searchEvents(false);
    byId('events-panel').scrollIntoView();
  }

  // Events.

  function account(who) {
    if (!who) return '';
    return who.emailMasked || (who.userId ? 'user ' + who.userId : '');
  }

  function renderEvents(body, records, append) {
    if (!append) clear(body);
    records.forEach(function (record) {
      var event = record.event;
      var row = el('tr', null, 'event-row');
      cell(row, record.id);
      cell(row, shortTime(record.receivedAt), 'time');
      cell(row, (record.host || record.peer || '') + (record.app ? ' ' + record.app : ''));
      cell(row, event ? event.type : record.format);
      cell(row, event ? event.outcome : '');
      cell(row, event ? account(event.who) : '');
      cell(row, event && event.who ? event.who.ip || '' : '');
      var where = event && event.where ? [event.where.method || '', event.where.url || event.where.route || '', event.where.status === undefined ? '' : '-> ' + event.where.status].join(' ').trim() : '';
      cell(row, where, 'request');
      cell(row, event ? (event.reason ? event.reason + ': ' : '') + event.description : record.message, 'description');
      row.tabIndex = 0;
      row.addEventListener('click', function () { toggleRaw(row, record); });
      body.appendChild(row);
    });
  }

  function toggleRaw(row, record) {
    var next = row.nextSibling;
    if (next && next.classList && next.classList.contains('raw-row')) {
      next.parentNode.removeChild(next);
      return;
    }
    var raw = el('tr', null, 'raw-row');
    var td = el('td');
    td.colSpan = 9;
    td.appendChild(el('pre', JSON.stringify(record, null, 2)));
    raw.appendChild(td);
    row.parentNode.insertBefore(raw, row.nextSibling);
  }

  function localToIso(value) {
    if (!value) return '';
    var date = new Date(value);
    return isNaN(date.getTime()) ? '' : date.toISOString();
  }

  function eventsQuery() {
    var query = new URLSearchParams();
    var fields = { type: 'e-type', source: 'e-source', actor: 'e-actor', text: 'e-text', limit: 'e-limit' };
    Object.keys(fields).forEach(function (name) {
      var value = byId(fields[name]).value.trim();
      if (value) query.set(name, value);
    });
    var since = localToIso(byId('e-since').value);
    var until = localToIso(byId('e-until').value);
    if (since) query.set('since', since);
    if (until) query.set('until', until);
    return query;
  }

  function searchEvents(older) {
    var query = older && state.eventsQuery ? new URLSearchParams(state.eventsQuery) : eventsQuery();
    if (!older) state.eventsQuery = query.toString();
    if (older && state.eventsNext && state.eventsNext.before) query.set('before', String(state.eventsNext.before));
    byId('events-error').hidden = true;
    api('/api/events?' + query.toString()).then(function (body) {
      renderEvents(byId('events').tBodies[0], body.events, older);
      state.eventsNext = body.next;
      byId('events-more').hidden = !(body.next && body.next.before);
    }, handleApiError);
  }

  function handleApiError(error) {
    if (error instanceof AuthError) {
      logout('The collector no longer accepts this token.');
      return;
    }
    var box = byId('events-error');
    box.hidden = false;
    box.textContent = error.message;
  }

  // Sources.

  function rejectedText(rejected) {
    if (!rejected) return '';
    return Object.keys(rejected).filter(function (reason) { return rejected[reason] > 0; })
      .map(function (reason) { return reason + ' ' + rejected[reason]; }).join(', ');
  }

  function renderSources(view) {
    var body = byId('sources').tBodies[0];
    clear(body);
    (view.sources || []).forEach(function (source) {
      var row = el('tr', null, source.silent || source.openGaps > 0 ? 'source-row unhealthy' : 'source-row');
      cell(row, source.host);
      cell(row, source.app);
      cell(row, source.instance, 'instance');
      cell(row, shortTime(source.lastSeen));
      cell(row, source.lastSeq);
      cell(row, source.contiguousSeq);
      cell(row, source.events);
      cell(row, source.duplicates);
      cell(row, source.gaps + ' (' + source.openGaps + ')');
      cell(row, source.lastHeartbeatAt ? shortTime(source.lastHeartbeatAt) + (source.heartbeatIntervalMs ? ' every ' + Math.round(source.heartbeatIntervalMs / 1000) + ' s' : '') : 'none seen');
      cell(row, source.silent ? 'SILENT' : source.openGaps > 0 ? 'events missing' : 'ok', 'health');
      body.appendChild(row);
    });
    var peers = byId('peers').tBodies[0];
    clear(peers);
    (view.peers || []).forEach(function (peer) {
      var row = el('tr');
      cell(row, peer.peer);
      cell(row, peer.frames);
      cell(row, peer.bytes);
      cell(row, peer.openConnections);
      cell(row, rejectedText(peer.rejected));
      cell(row, shortTime(peer.lastSeen));
      peers.appendChild(row);
    });
  }

  // Wiring.

  function start() {
    byId('login-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var token = byId('token').value.trim();
      if (token) login(token);
    });
    byId('logout').addEventListener('click', function () { logout(''); });
    byId('detail-close').addEventListener('click', function () {
      state.selected = null;
      byId('detail').hidden = true;
    });
    ['f-state', 'f-severity'].forEach(function (id) { byId(id).addEventListener('change', refilterAlerts); });
    byId('f-text').addEventListener('input', refilterAlerts);
    byId('event-filters').addEventListener('submit', function (event) {
      event.preventDefault();
      searchEvents(false);
    });
    byId('events-more').addEventListener('click', function () { searchEvents(true); });
    var saved = null;
    try { saved = sessionStorage.getItem(TOKEN_KEY); } catch (ignored) { /* storage may be off */ }
    if (saved) login(saved);
    else showLogin('');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
