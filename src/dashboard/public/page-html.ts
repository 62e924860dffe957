/**
 * The dashboard page. No inline script or style (the CSP forbids both); every value shown is filled in by
 * app.js as text. The page itself holds no data: it is served without the token.
 */
export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>a09-lab collector</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>a09-lab collector</h1>
  <span id="status" class="status off" role="status">not connected</span>
  <button id="logout" type="button" hidden>Forget token</button>
</header>

<section id="login" class="panel">
  <form id="login-form" method="post" autocomplete="off">
    <label for="token">API token</label>
    <!-- No name attribute: even a submission without script (which the CSP blocks too) carries no token. -->
    <input id="token" type="password" spellcheck="false" required>
    <button id="connect" type="submit">Connect</button>
    <p id="login-error" class="error" role="alert" hidden></p>
    <p class="hint">The collector printed its token when it started (or reads it from A09_COLLECTOR_TOKEN).
      It is kept in this tab only.</p>
  </form>
</section>

<main id="main" hidden>
  <section id="alerts-panel" class="panel">
    <h2>Alerts <span id="alert-count" class="count"></span></h2>
    <div id="alert-filters" class="filters">
      <label>State <select id="f-state">
        <option value="">all</option><option value="open">open</option><option value="closed">closed</option>
      </select></label>
      <label>Severity <select id="f-severity">
        <option value="7">any</option><option value="4">warning or worse</option><option value="2">critical or worse</option>
      </select></label>
      <label>Text <input id="f-text" type="search" placeholder="title, key or summary"></label>
    </div>
    <table id="alerts">
      <thead><tr><th>Sev</th><th>Alert</th><th>Key</th><th>Count</th><th>State</th><th>First</th><th>Last</th><th>Summary</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="alerts-empty" class="hint">No alerts yet.</p>
  </section>

  <section id="detail" class="panel" hidden>
    <h2>Alert: <span id="detail-title"></span></h2>
    <dl id="detail-facts"></dl>
    <p><button id="detail-events" type="button">Search all events of this key</button>
       <button id="detail-close" type="button">Close</button></p>
    <h3>Events behind the alert <span id="detail-count" class="count"></span></h3>
    <table id="detail-table" class="events">
      <thead><tr><th>Id</th><th>Received</th><th>Source</th><th>Type</th><th>Outcome</th><th>Account</th><th>IP</th><th>Request</th><th>Description</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="sources-panel" class="panel">
    <h2>Sources</h2>
    <table id="sources">
      <thead><tr><th>Host</th><th>App</th><th>Instance</th><th>Last seen</th><th>Last seq</th><th>Contiguous</th><th>Events</th><th>Duplicates</th><th>Gaps (open)</th><th>Heartbeat</th><th>Health</th></tr></thead>
      <tbody></tbody>
    </table>
    <h3>Senders</h3>
    <table id="peers">
      <thead><tr><th>Address</th><th>Frames</th><th>Bytes</th><th>Open connections</th><th>Rejected</th><th>Last seen</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="events-panel" class="panel">
    <h2>Events</h2>
    <form id="event-filters" class="filters">
      <label>Type <input id="e-type" placeholder="authn_login_fail,authz_fail"></label>
      <label>Source <input id="e-source" placeholder="host or host/instance"></label>
      <label>Actor <input id="e-actor" placeholder="ip:… email:… user:…"></label>
      <label>Since <input id="e-since" type="datetime-local" step="1"></label>
      <label>Until <input id="e-until" type="datetime-local" step="1"></label>
      <label>Text <input id="e-text" type="search"></label>
      <label>Limit <input id="e-limit" type="number" min="1" max="1000" value="50"></label>
      <button id="e-search" type="submit">Search</button>
    </form>
    <p id="events-error" class="error" role="alert" hidden></p>
    <table id="events" class="events">
      <thead><tr><th>Id</th><th>Received</th><th>Source</th><th>Type</th><th>Outcome</th><th>Account</th><th>IP</th><th>Request</th><th>Description</th></tr></thead>
      <tbody></tbody>
    </table>
    <button id="events-more" type="button" hidden>Older events</button>
  </section>
</main>
</body>
</html>
`;
