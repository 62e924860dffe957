import express from 'express';
import request from 'supertest';
import { a09 } from '../../middleware';
import { makeKeys, payloadFor, RecordingEmitter, signRs256, userByEmail, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

function setup() {
  const emitter = new RecordingEmitter();
  const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem });
  return { emitter, stack, app: miniShop(express, { keys, stack }) };
}

/** A token with `bid`, as the facts file shows Juice Shop's payload. */
const adminToken = () => signRs256(payloadFor(userByEmail('admin@juice-sh.op')), keys);
const json = (value: unknown) => JSON.stringify(value);

describe('basket read', () => {
  it("records authz_fail when a user reads another user's basket, and that the app allowed it", async () => {
    const { emitter, app } = setup();
    const response = await request(app).get('/rest/basket/2').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    expect(response.body.data.UserId).toBe(2);
    await emitter.requests(1);
    expect(emitter.only('authz_fail')).toMatchObject({
      outcome: 'allowed',
      reason: 'foreign_basket_read',
      level: 'CRITICAL',
      who: { userId: '1', emailMasked: 'a**@juice-sh.op' },
      where: { method: 'GET', route: '/rest/basket/:id', url: '/rest/basket/2', status: 200 },
      detail: { basketId: '2', ownBasketId: '1', appAllowed: true, basketOwnerUserId: '2', actorVerified: true },
    });
  });

  it('records nothing for the own basket, nor for an anonymous read the app refused', async () => {
    const { emitter, app } = setup();
    await request(app).get('/rest/basket/1').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await request(app).get('/rest/basket/01/').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await request(app).get('/rest/basket/2').expect(401);
    await emitter.requests(3);
    expect(emitter.ofType('authz_fail')).toEqual([]);
  });

  it("learns the user's basket from the login response when the token has no bid (Juice Shop signs before it sets bid)", async () => {
    const { emitter, app } = setup();
    const login = await request(app).post('/rest/user/login').set('Content-Type', 'application/json').send(json({ email: 'jim@juice-sh.op', password: 'ncc-1701' }));
    const token = login.body.authentication.token as string;
    await request(app).get('/rest/basket/1').set('Authorization', `Bearer ${token}`).expect(200);
    await emitter.requests(2);
    expect(emitter.only('authz_fail')).toMatchObject({ who: { userId: '2' }, detail: { basketId: '1', ownBasketId: '2' } });
  });

  it('without a bid in the token and no login seen (a restart), judges a read by the owner the answer names', async () => {
    const { emitter, app } = setup();
    const noBid = signRs256(payloadFor(userByEmail('jim@juice-sh.op'), false), keys);
    await request(app).get('/rest/basket/1').set('Authorization', `Bearer ${noBid}`).expect(200);
    await request(app).get('/rest/basket/2').set('Authorization', `Bearer ${noBid}`).expect(200);
    // The own read taught the basket: item requests can be judged now.
    await request(app).post('/api/BasketItems').set('Authorization', `Bearer ${noBid}`).set('Content-Type', 'application/json').send(json({ ProductId: 1, BasketId: '3', quantity: 1 }));
    await emitter.requests(3);
    const [read, add] = emitter.ofType('authz_fail');
    expect(read).toMatchObject({ reason: 'foreign_basket_read', who: { userId: '2' }, detail: { basketId: '1', ownBasketId: null, basketOwnerUserId: '1' } });
    expect(add).toMatchObject({ reason: 'foreign_basket_item_add', detail: { basketId: '3', ownBasketId: '2' } });
  });

  it('takes the id Express resolved (app.param), with case and slash games normalised like the router', async () => {
    const { emitter, app } = setup();
    await request(app).get('//REST//Basket/3/').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await emitter.requests(1);
    expect(emitter.only('authz_fail').detail.basketId).toBe('3');
  });
});

describe('basket items', () => {
  const add = (app: express.Express, body: string, token = adminToken()) =>
    request(app).post('/api/BasketItems').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(body);

  it('records authz_fail (blocked) for a foreign BasketId the app refused', async () => {
    const { emitter, app } = setup();
    await add(app, json({ ProductId: 6, BasketId: '2', quantity: 1 })).expect(401);
    await emitter.requests(1);
    expect(emitter.only('authz_fail')).toMatchObject({
      outcome: 'blocked',
      reason: 'foreign_basket_item_add',
      detail: { basketId: '2', ownBasketId: '1', appAllowed: false },
    });
    expect(emitter.ofType('malicious_direct_reference')).toEqual([]);
  });

  it('records the duplicate-key manipulation: malicious_direct_reference and authz_fail, both allowed', async () => {
    const { emitter, app } = setup();
    const response = await add(app, '{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}').expect(200);
    expect(response.body.data.BasketId).toBe('2');
    await emitter.requests(1);
    expect(emitter.only('malicious_direct_reference')).toMatchObject({
      outcome: 'allowed',
      reason: 'duplicate_json_keys',
      level: 'CRITICAL',
      who: { userId: '1' },
      where: { route: '/api/BasketItems', status: 200 },
      detail: { duplicateKeys: 'BasketId', firstBasketId: '1', lastBasketId: '2', appAllowed: true },
    });
    expect(emitter.only('authz_fail')).toMatchObject({
      outcome: 'allowed',
      reason: 'foreign_basket_item_add',
      detail: { basketId: '2', firstBasketId: '1', lastBasketId: '2' },
    });
  });

  it('finds duplicates hidden by escapes and whitespace', async () => {
    const { emitter, app } = setup();
    await add(app, '{ "ProductId" : 7 , "BasketId" : "1" , "quantity" : 1 , "Basket\\u0049d" : "3" }').expect(200);
    await emitter.requests(1);
    expect(emitter.only('malicious_direct_reference').detail).toMatchObject({ firstBasketId: '1', lastBasketId: '3' });
  });

  it('records negative quantities as input_validation_fail, on add and update', async () => {
    const { emitter, app } = setup();
    await add(app, json({ ProductId: 1, BasketId: '1', quantity: -100 })).expect(200);
    await request(app)
      .put('/api/BasketItems/7')
      .set('Authorization', `Bearer ${adminToken()}`)
      .set('Content-Type', 'application/json')
      .send(json({ quantity: '-5' }))
      .expect(200);
    await emitter.requests(2);
    const [added, updated] = emitter.ofType('input_validation_fail');
    expect(added).toMatchObject({ reason: 'negative_quantity', outcome: 'allowed', detail: { field: 'quantity', quantity: -100 } });
    expect(updated).toMatchObject({ reason: 'negative_quantity', where: { route: '/api/BasketItems/:id' }, detail: { quantity: -5, basketItemId: '7' } });
    expect(emitter.ofType('authz_fail')).toEqual([]);
  });

  it('records a foreign BasketId on update', async () => {
    const { emitter, app } = setup();
    await request(app)
      .put('/api/BasketItems/7')
      .set('Authorization', `Bearer ${adminToken()}`)
      .set('Content-Type', 'application/json')
      .send(json({ BasketId: 3 }))
      .expect(401);
    await emitter.requests(1);
    expect(emitter.only('authz_fail')).toMatchObject({ reason: 'foreign_basket_item_update', detail: { basketId: '3', basketItemId: '7' } });
  });

  it('records nothing for an ordinary add', async () => {
    const { emitter, app } = setup();
    await add(app, json({ ProductId: 1, BasketId: 1, quantity: 2 })).expect(200);
    await emitter.requests(1);
    expect(emitter.types()).toEqual(['http_request']);
  });
});

describe('checkout and coupons', () => {
  it('records order_placed with actor, basket, order id and total', async () => {
    const { emitter, app } = setup();
    await request(app).post('/rest/basket/1/checkout').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await emitter.requests(1);
    expect(emitter.only('order_placed')).toMatchObject({
      outcome: 'success',
      who: { userId: '1' },
      where: { route: '/rest/basket/:id/checkout' },
      detail: { basketId: '1', orderId: '5267-1f0a1b2c3', total: 12.5, foreignBasket: false },
    });
    expect(emitter.ofType('authz_fail')).toEqual([]);
  });

  it('records authz_fail too when the checkout is of a foreign basket', async () => {
    const { emitter, app } = setup();
    await request(app).post('/rest/basket/2/checkout').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await emitter.requests(1);
    expect(emitter.only('authz_fail')).toMatchObject({ outcome: 'allowed', reason: 'foreign_basket_checkout', detail: { basketId: '2' } });
    expect(emitter.only('order_placed').detail.foreignBasket).toBe(true);
  });

  it.each([
    ['INVALID', 404, 'invalid_coupon', 'blocked'],
    ['FORGED90', 200, 'coupon_discount_above_limit', 'allowed'],
  ])('records coupon %s as input_validation_fail', async (coupon, status, reason, outcome) => {
    const { emitter, app } = setup();
    await request(app).put(`/rest/basket/1/coupon/${coupon}`).set('Authorization', `Bearer ${adminToken()}`).expect(status);
    await emitter.requests(1);
    expect(emitter.only('input_validation_fail')).toMatchObject({ reason, outcome, detail: { field: 'coupon', basketId: '1' } });
  });

  it('records nothing for a valid coupon on the own basket, authz_fail on a foreign one', async () => {
    const { emitter, app } = setup();
    await request(app).put('/rest/basket/1/coupon/VALID10').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await request(app).put('/rest/basket/3/coupon/VALID10').set('Authorization', `Bearer ${adminToken()}`).expect(200);
    await emitter.requests(2);
    expect(emitter.ofType('input_validation_fail')).toEqual([]);
    expect(emitter.only('authz_fail')).toMatchObject({ reason: 'foreign_basket_coupon', detail: { basketId: '3' } });
    expect(emitter.refused).toEqual([]);
  });
});
