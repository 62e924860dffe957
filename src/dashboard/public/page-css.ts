/** The dashboard's style sheet (served as a file: the CSP allows no inline style). */
export const PAGE_CSS = String.raw`:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --fg: #1b1b1f; --muted: #6b6b76; --line: #d9d9e0; --panel: #ffffff;
  --crit: #b3261e; --warn: #9a6700; --ok: #1a7f37; --fresh: #fff3c4;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 14px;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #16161a; --fg: #e8e8ee; --muted: #9d9daa; --line: #34343d; --panel: #1f1f25; --fresh: #4a3f10; }
}
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 1rem; padding: 0.6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 1.1rem; margin: 0; }
.status { padding: 0.1rem 0.5rem; border-radius: 1rem; font-size: 0.85rem; border: 1px solid var(--line); }
.status.on { color: var(--ok); border-color: var(--ok); }
.status.wait { color: var(--warn); border-color: var(--warn); }
.status.off { color: var(--muted); }
main { display: grid; gap: 1rem; padding: 1rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 1rem 1rem; overflow-x: auto; }
#login { max-width: 32rem; margin: 2rem auto; }
#login-form { display: grid; gap: 0.5rem; }
h2 { font-size: 1rem; margin: 0.4rem 0 0.6rem; }
h3 { font-size: 0.95rem; margin: 1rem 0 0.4rem; }
.count { color: var(--muted); font-weight: normal; font-size: 0.85rem; }
.filters { display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: end; margin-bottom: 0.6rem; }
.filters label { display: grid; gap: 0.15rem; font-size: 0.8rem; color: var(--muted); }
input, select, button { font: inherit; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.8rem; color: var(--muted); font-weight: 600; }
td { white-space: pre-wrap; word-break: break-word; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: rgba(127, 127, 127, 0.08); }
.alert-row.fresh { background: var(--fresh); }
.alert-row.state-closed { opacity: 0.6; }
.sev { font-weight: 700; text-align: center; }
.sev, .state, .alert-count, .time { white-space: nowrap; }
.sev0, .sev1, .sev2 { color: var(--crit); }
.sev3, .sev4 { color: var(--warn); }
.summary, .description { max-width: 40rem; }
.instance { font-family: ui-monospace, monospace; font-size: 0.8rem; }
.source-row.unhealthy .health { color: var(--crit); font-weight: 700; }
.raw-row pre { margin: 0; font-size: 0.8rem; white-space: pre-wrap; word-break: break-all; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.4rem 0; }
dt { color: var(--muted); }
dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
.error { color: var(--crit); }
.hint { color: var(--muted); font-size: 0.85rem; }
[hidden] { display: none !important; }
`;
