import { DEFAULT_REDACTION, createRedactionPolicy, isSensitiveKey, normaliseKey } from '../../src/sanitize';

describe('sensitive keys', () => {
  it.each([
    'password', 'Password', 'PASSWORD', 'passwd', 'pwd', 'current', 'new', 'repeat', 'secret', 'answer', 'totp',
    'totpSecret', 'token', 'authorization', 'Authorization', 'cookie', 'set-cookie', 'Set-Cookie', 'cardNum',
    'cardNumber', 'card_number', 'card number', 'cvv', 'cvc', 'apikey', 'api_key', 'x-api-key', 'X-API-Key',
    'private key', 'private_key', 'privateKey', 'session', 'sessionId', 'session_token', 'connect.sid', 'PHPSESSID',
    'newPassword', 'password_confirmation', 'passwordRepeat', 'oldPassword', 'securityAnswer', 'tmpToken',
    'deluxeToken', 'accessToken', 'refresh_token', 'x-auth-token', 'X-CSRF-Token', 'proxy-authorization',
    'client_secret', 'credentials', 'pin', 'otp',
  ])('%s is sensitive', (key) => {
    expect(isSensitiveKey(key)).toBe(true);
  });

  it.each([
    'email', 'id', 'UserId', 'BasketId', 'quantity', 'role', 'status', 'route', 'method', 'tokenAlg', 'tokenType',
    'news', 'renewal', 'currentPage', 'repeatCount', 'username', 'description', 'code', 'message', 'stack',
  ])('%s is not sensitive', (key) => {
    expect(isSensitiveKey(key)).toBe(false);
  });

  it('normalises keys to lower-case letters and digits', () => {
    expect(normaliseKey('X-Api_Key 2')).toBe('xapikey2');
  });

  it('createRedactionPolicy adds keys to the defaults and can allow one back', () => {
    const policy = createRedactionPolicy({ keys: { exact: ['Coupon'], allow: ['session'] } });
    expect(isSensitiveKey('coupon', policy)).toBe(true);
    expect(isSensitiveKey('password', policy)).toBe(true);
    expect(isSensitiveKey('session', policy)).toBe(false);
    expect(isSensitiveKey('coupon', DEFAULT_REDACTION)).toBe(false);
  });

  it('the default policy is frozen', () => {
    expect(Object.isFrozen(DEFAULT_REDACTION)).toBe(true);
    expect(Object.isFrozen(DEFAULT_REDACTION.keys.contains)).toBe(true);
  });
});
