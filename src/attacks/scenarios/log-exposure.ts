import { check, count, type TargetScenario } from '../scenario';
import { downloadSupportLogs, excerpt, logLines } from '../sinks';
import { alertCheck, eventsCheck } from './juice';

export const logExposure: TargetScenario = {
  id: 'log-exposure',
  title: 'Logs readable by the attacker',
  a09: 'Logs are stored where attackers can read them, and reading them raises no alarm',
  cwe: 'CWE-532, CWE-538 (File and Directory Information Exposure)',
  attack: "List /support/logs and download every file (Juice Shop's log directory browsing); try today's access log by name when the listing is refused.",
  scope: 'target',
  async run(run) {
    const logs = await downloadSupportLogs(run.http);
    run.note(`GET /support/logs -> ${logs.listingStatus}${logs.listed.length > 0 ? `: ${logs.listed.join(', ')}` : ''}`);
    for (const file of logs.files) {
      const lines = logLines(file.text).filter((line) => line.trim() !== '');
      run.note(`downloaded ${file.name}: ${count(lines.length, 'line')}, ${file.text.length} bytes`);
      const telling = lines.find((line) => /change-password|Bearer|login/.test(line)) ?? lines[lines.length - 1];
      if (telling !== undefined) run.leak({ sink: `/support/logs/${file.name} (downloaded by the attacker)`, what: 'log file', excerpt: excerpt(telling, 0, Math.min(telling.length, 200), 0) });
    }
    for (const refused of logs.refused) run.note(`GET /support/logs/${refused.name} -> ${refused.status}`);
    const view = await run.observe({ expectAlerts: ['sensitive_read'] });
    return {
      checks: [
        check('listing-refused', 'the log directory listing is refused', logs.listed.length === 0 && logs.listingStatus >= 400, `status ${logs.listingStatus}${logs.listed.length > 0 ? `, ${count(logs.listed.length, 'file')} listed` : ''}`),
        check('download-refused', 'no log file can be downloaded', logs.files.length === 0, logs.files.length === 0 ? `${count(logs.refused.length, 'name')} tried, all refused` : `downloaded ${logs.files.map((f) => f.name).join(', ')}`),
        eventsCheck(view, 'sensitive_read', 1, 'each attempt is recorded as sensitive_read'),
        alertCheck(view, 'sensitive_read', 'a sensitive_read alert'),
      ],
      view,
    };
  },
};
