import { check, count, type TargetScenario } from '../scenario';
import { alertCheck, login } from './juice';

/** Juice Shop's public accounts and a few that guessers try; one password for all. */
export const SPRAY_ACCOUNTS = [
  'admin', 'jim', 'bender', 'ciso', 'support', 'morty', 'mc.safesearch', 'J12934', 'wurstbrot', 'amy',
  'bjoern', 'accountant', 'uvogin', 'chris.pike', 'demo', 'test', 'john', 'emma', 'stan', 'info',
].map((name) => `${name}@juice-sh.op`);

export const SPRAY_PASSWORD = 'Summer2026!';

export const passwordSpraying: TargetScenario = {
  id: 'password-spraying',
  title: 'Password spraying',
  a09: 'Failed logins are not logged with their source, so one source trying many accounts goes unnoticed',
  cwe: 'CWE-778 (Insufficient Logging)',
  attack: `One source, one password (${SPRAY_PASSWORD}), ${SPRAY_ACCOUNTS.length} accounts (POST /rest/user/login).`,
  scope: 'target',
  async run(run) {
    let refused = 0;
    for (const email of SPRAY_ACCOUNTS) if ((await login(run.http, email, SPRAY_PASSWORD)).status === 401) refused++;
    run.note(`${refused} of ${SPRAY_ACCOUNTS.length} accounts refused the password; each account saw a single failure (no per-account threshold trips)`);
    const view = await run.observe({ expectAlerts: ['authn_password_spray'] });
    const fails = view.ofType('authn_login_fail');
    const accounts = new Set(fails.map((event) => event.who.emailId).filter((id) => id !== undefined));
    const addresses = new Set(fails.map((event) => event.who.ip).filter((ip) => ip !== undefined));
    return {
      checks: [
        check(
          'events:authn_login_fail',
          `each failed login is recorded with the account and the source address (${SPRAY_ACCOUNTS.length} accounts)`,
          accounts.size >= SPRAY_ACCOUNTS.length && addresses.size > 0,
          fails.length === 0 ? 'no authn_login_fail event reached the collector' : `${count(fails.length, 'authn_login_fail event')} over ${count(accounts.size, 'account')} from ${[...addresses].join(', ')}`,
        ),
        alertCheck(view, 'authn_password_spray', 'an authn_password_spray alert naming the source address', (alert) =>
          alert.key.startsWith('ip:') ? undefined : `keyed by ${alert.key}, not an address`,
        ),
      ],
      view,
    };
  },
};
