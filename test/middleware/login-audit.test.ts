import express from 'express';
import request from 'supertest';
import { a09, type A09Options } from '../../middleware';
import { makeKeys, md5, payloadFor, RecordingEmitter, signRs256, userByEmail, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

function setup(options: Partial<A09Options> = {}) {
  const emitter = new RecordingEmitter();
  const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem, ...options });
  return { emitter, app: miniShop(express, { keys, stack }) };
}

const login = (app: Express.Application, email: unknown, password: unknown) =>
  request(app as Parameters<typeof request>[0]).post('/rest/user/login').set('Content-Type', 'application/json').send(JSON.stringify({ email, password }));

describe('login audit', () => {
  it('records authn_login_success with the account the login resolved to (pseudonymised)', async () => {
    const { emitter, app } = setup();
    const response = await login(app, 'admin@juice-sh.op', 'admin123').expect(200);
    expect(response.body.authentication.umail).toBe('admin@juice-sh.op');
    await emitter.requests(1);
    const event = emitter.only('authn_login_success');
    expect(event).toMatchObject({
      outcome: 'success',
      level: 'INFO',
      who: { userId: '1', role: 'admin', emailMasked: 'a**@juice-sh.op', ip: '127.0.0.1' },
      where: { method: 'POST', route: '/rest/user/login', url: '/rest/user/login', status: 200 },
      detail: { sqli: false },
    });
    expect(event.who.emailId).toBe(emitter.source.identify('admin@juice-sh.op').emailId);
    const serialised = JSON.stringify(emitter.events);
    expect(serialised).not.toContain('admin123');
    expect(serialised).not.toContain(response.body.authentication.token);
    expect(serialised).not.toContain(md5('admin123'));
    expect(emitter.refused).toEqual([]);
  });

  it('records authn_login_fail with reason bad_credentials for the email that was tried', async () => {
    const { emitter, app } = setup();
    await login(app, 'jim@juice-sh.op', 'wrong-password-1').expect(401);
    await emitter.requests(1);
    const event = emitter.only('authn_login_fail');
    expect(event).toMatchObject({ outcome: 'failure', reason: 'bad_credentials', level: 'WARN', who: { emailMasked: 'j**@juice-sh.op' } });
    expect(event.who.emailId).toBe(emitter.source.identify('jim@juice-sh.op').emailId);
    expect(event.who.userId).toBeUndefined();
    expect(event.detail).toMatchObject({ failures: 1, sqli: false });
    expect(JSON.stringify(emitter.events)).not.toContain('wrong-password-1');
  });

  it('records a second-factor challenge as a failure with reason second_factor_required (not counted as a guess)', async () => {
    const { emitter, app } = setup();
    const user = userByEmail('wurstbrot@juice-sh.op');
    const response = await login(app, user.email, user.password).expect(401);
    expect(response.body.status).toBe('totp_token_required');
    await emitter.requests(1);
    const event = emitter.only('authn_login_fail');
    expect(event).toMatchObject({ reason: 'second_factor_required', detail: { firstFactorValid: true } });
    expect(event.detail.failures).toBeUndefined();
    expect(JSON.stringify(emitter.events)).not.toContain(response.body.data.tmpToken);
  });

  it('records authn_login_successafterfail after failures, CRITICAL from the threshold on', async () => {
    const { emitter, app } = setup({ loginAudit: { criticalFailures: 3 } });
    await login(app, 'jim@juice-sh.op', 'guess-1').expect(401);
    await login(app, 'jim@juice-sh.op', 'ncc-1701').expect(200);
    await emitter.requests(2);
    expect(emitter.only('authn_login_successafterfail')).toMatchObject({
      level: 'WARN',
      who: { userId: '2' },
      detail: { failures: 1 },
    });
    expect(emitter.ofType('authn_login_success')).toEqual([]);

    emitter.clear();
    for (const guess of ['a', 'b', 'c']) await login(app, 'JIM@juice-sh.op ', guess).expect(401);
    await login(app, 'jim@juice-sh.op', 'ncc-1701').expect(200);
    await emitter.requests(4);
    expect(emitter.only('authn_login_fail_max')).toMatchObject({ level: 'CRITICAL', detail: { failures: 3 } });
    expect(emitter.only('authn_login_successafterfail')).toMatchObject({ level: 'CRITICAL', severity: 2, detail: { failures: 3 } });

    emitter.clear();
    await login(app, 'jim@juice-sh.op', 'ncc-1701').expect(200);
    await emitter.requests(1);
    expect(emitter.types()).toEqual(['authn_login_success', 'http_request']);
  });

  it('forgets failures outside the window and keeps memory bounded', async () => {
    let now = 1_000_000;
    const { emitter, app } = setup({ loginAudit: { failureWindowMs: 60_000, maxTrackedAccounts: 2, now: () => now } });
    await login(app, 'jim@juice-sh.op', 'guess').expect(401);
    now += 61_000;
    await login(app, 'jim@juice-sh.op', 'ncc-1701').expect(200);
    await login(app, 'jim@juice-sh.op', 'guess').expect(401);
    // Two other accounts push jim out of a two-entry LRU.
    await login(app, 'a@x.io', 'guess').expect(401);
    await login(app, 'b@x.io', 'guess').expect(401);
    await login(app, 'jim@juice-sh.op', 'ncc-1701').expect(200);
    await emitter.requests(6);
    expect(emitter.ofType('authn_login_successafterfail')).toEqual([]);
    expect(emitter.ofType('authn_login_success')).toHaveLength(2);
  });

  it('records the SQL-injection login bypass as malicious_sqli, CRITICAL severity 1, with the account it reached', async () => {
    const { emitter, app } = setup();
    const response = await login(app, "' OR 1=1--", 'anything').expect(200);
    expect(response.body.authentication.umail).toBe('admin@juice-sh.op');
    await emitter.requests(1);
    const sqli = emitter.only('malicious_sqli');
    expect(sqli).toMatchObject({
      outcome: 'allowed',
      reason: 'login_bypass',
      level: 'CRITICAL',
      severity: 1,
      who: { userId: '1', emailMasked: 'a**@juice-sh.op' },
      detail: { field: 'email', input: "' OR 1=1--" },
    });
    expect(String(sqli.detail.marks)).toContain('tautology');
    expect(emitter.only('authn_login_success').detail).toMatchObject({ sqli: true });
  });

  it('records a blocked injection attempt and the error probe (lone quote -> 500)', async () => {
    const { emitter, app } = setup();
    await login(app, "nobody@x.io' AND 1=2--", 'x').expect(401);
    await login(app, "'", 'x').expect(500);
    await emitter.requests(2);
    const [blocked, probe] = emitter.ofType('malicious_sqli');
    expect(blocked).toMatchObject({ outcome: 'blocked', reason: 'login_attempt', severity: 2 });
    expect(probe).toMatchObject({ outcome: 'error', reason: 'sql_error' });
    expect(emitter.ofType('authn_login_fail').map((e) => e.reason)).toEqual(['bad_credentials', 'error']);
    expect(emitter.only('sys_error').detail.errorClass).toBe('SequelizeDatabaseError');
  });

  it("does not flag o'brien@x.io (documented decision) yet records the failed login", async () => {
    const { emitter, app } = setup();
    await login(app, "o'brien@x.io", 'x').expect(401);
    await emitter.requests(1);
    expect(emitter.ofType('malicious_sqli')).toEqual([]);
    expect(emitter.only('authn_login_fail').who.emailMasked).toBe("o**@x.io");
  });

  it('copes with a missing or non-string email (event still complete)', async () => {
    const { emitter, app } = setup();
    await login(app, undefined, 'x').expect(401);
    await login(app, { $ne: 1 }, 'x').expect(401);
    await emitter.requests(2);
    const [missing, object] = emitter.ofType('authn_login_fail');
    expect(missing?.who.emailMasked).toBe('(empty)');
    expect(object?.detail.emailType).toBe('object');
    expect(emitter.refused).toEqual([]);
  });
});

describe('change-password audit', () => {
  const jim = () => userByEmail('jim@juice-sh.op');
  const token = () => signRs256(payloadFor(jim()), keys);

  it('records authn_password_change with the actor, and the passwords never appear in any event', async () => {
    const { emitter, app } = setup();
    const response = await request(app)
      .get('/rest/user/change-password?current=ncc-1701&new=Secr3t-New&repeat=Secr3t-New')
      .set('Authorization', `Bearer ${token()}`)
      .expect(200);
    expect(response.body.user.password).toBe(md5('Secr3t-New'));
    await emitter.requests(2 - 1);
    const event = emitter.only('authn_password_change');
    expect(event).toMatchObject({ outcome: 'success', who: { userId: '2' }, detail: { currentSupplied: true, actorVerified: true } });
    expect(event.where.url).toBe('/rest/user/change-password?current=[REDACTED]&new=[REDACTED]&repeat=[REDACTED]');
    const serialised = JSON.stringify(emitter.events);
    for (const secret of ['ncc-1701', 'Secr3t-New', md5('Secr3t-New'), md5('ncc-1701')]) expect(serialised).not.toContain(secret);
  });

  it('flags a change without the current password (the Bender/CSRF pattern)', async () => {
    const { emitter, app } = setup();
    await request(app).get('/rest/user/change-password?new=slurmCl4ssic&repeat=slurmCl4ssic').set('Authorization', `Bearer ${token()}`).expect(200);
    await emitter.requests(1);
    expect(emitter.only('authn_password_change')).toMatchObject({ reason: 'without_current_password', level: 'WARN', detail: { currentSupplied: false } });
  });

  it.each([
    ['?current=wrong&new=a1&repeat=a1', true, 401, 'wrong_current_password'],
    ['?current=ncc-1701&new=a1&repeat=b2', true, 401, 'passwords_do_not_match'],
    ['?current=ncc-1701', true, 401, 'empty_password'],
    ['?current=ncc-1701&new=a1&repeat=a1', false, 500, 'not_authenticated'],
  ])('records authn_password_change_fail for %s', async (query, withToken, status, reason) => {
    const { emitter, app } = setup();
    const call = request(app).get(`/rest/user/change-password${query}`);
    if (withToken) call.set('Authorization', `Bearer ${token()}`);
    await call.expect(status);
    await emitter.requests(1);
    const event = emitter.only('authn_password_change_fail');
    expect(event).toMatchObject({ reason, level: 'CRITICAL', who: { userId: withToken ? '2' : 'anonymous' } });
    expect(JSON.stringify(emitter.events)).not.toMatch(/ncc-1701|=a1|=b2/);
    expect(emitter.refused).toEqual([]);
  });
});
