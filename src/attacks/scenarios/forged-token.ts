import { createHash } from 'node:crypto';
import { jsonOf } from '../http';
import { check, count, type TargetScenario } from '../scenario';
import { JIM, alertCheck, forgeHs256, forgeNone, publicKeyOf } from './juice';

export const forgedToken: TargetScenario = {
  id: 'forged-token',
  title: 'Forged tokens',
  a09: 'Authentication attacks on tokens are neither logged nor alerted on',
  cwe: 'CWE-778 (Insufficient Logging); the acceptance itself is CWE-347',
  attack: `Claim to be ${JIM.email} with an unsigned token (alg none) and with an HS256 token signed with the public key (RS256 -> HS256 confusion), reading basket ${JIM.basketId}.`,
  scope: 'target',
  async run(run) {
    const payload = {
      status: 'success',
      data: { id: JIM.userId, email: JIM.email, password: createHash('md5').update(JIM.password).digest('hex'), role: 'customer' },
      bid: JIM.basketId,
    };
    const tokens: Array<{ label: string; token: string }> = [{ label: 'alg none', token: forgeNone({ ...payload, iat: Math.floor(Date.now() / 1000) }) }];
    const key = await publicKeyOf(run);
    if (key !== undefined) tokens.push({ label: 'HS256 with the public key', token: forgeHs256(payload, key.pem) });
    else run.note('no public key (GET /encryptionkeys/jwt.pub refused): only the alg-none token is tried');
    if (key !== undefined) run.note(`public key from ${key.from}`);
    let accepted = 0;
    for (const { label, token } of tokens) {
      const response = await run.http.get(`/rest/basket/${JIM.basketId}`, { Authorization: `Bearer ${token}` });
      const data = (jsonOf(response) as { data?: { UserId?: unknown } } | undefined)?.data;
      if (response.status === 200) accepted++;
      run.note(`${label}: GET /rest/basket/${JIM.basketId} -> ${response.status}${response.status === 200 ? ` (accepted as ${JIM.email}${data?.UserId !== undefined ? `, basket of user ${String(data.UserId)}` : ''})` : ''}`);
    }
    const view = await run.observe({ expectAlerts: ['authn_token_invalid'] });
    const invalid = view.ofType('authn_token_invalid');
    const reasons = [...new Set(invalid.map((event) => event.reason ?? '?'))];
    return {
      checks: [
        check(
          'events:authn_token_invalid',
          `each forged token is recorded as authn_token_invalid with its reason (${tokens.length})`,
          invalid.length >= tokens.length && reasons.length >= tokens.length,
          invalid.length === 0 ? 'no authn_token_invalid event reached the collector' : `${count(invalid.length, 'event')}, reasons ${reasons.join(', ')}${accepted > 0 ? `; the shop still accepted ${accepted}` : ''}`,
        ),
        alertCheck(view, 'authn_token_invalid', 'an authn_token_invalid alert'),
      ],
      view,
    };
  },
};
