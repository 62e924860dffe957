import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CollectorService } from '../../src/dashboard';
import { TOKEN, loginFail, newSource, sendEvents, serviceErrors, startTestService, tempDir } from './helpers';

// What the functions run in the page use, typed here (module scope) rather than pulling the DOM lib into the project.
declare const window: Record<string, unknown>;
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
  scripts: ArrayLike<{ getAttribute(name: string): string | null }>;
};

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // Visible in the jest output: the browser tests did not run here.
  console.warn(`SKIPPED: dashboard browser tests need Chromium at ${CHROMIUM} (Debian package 'chromium')`);
}
const describeInBrowser = haveChromium ? describe : describe.skip;

/** Attacker-written text in event fields: it must show as text, run nothing, add no element. */
const XSS_URL = '/rest/user/login?next=<img src=x onerror="window.__xss=1">';
const XSS_REASON = '<script>window.__xss=2</script><svg onload="window.__xss=3">';

describeInBrowser('the dashboard in Chromium', () => {
  jest.setTimeout(90_000);
  const dir = tempDir();
  let service: CollectorService;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    service = await startTestService(dir.file('browser.db'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    dir.remove();
  });

  it('refuses a wrong token: the login form says so and the API answers 401', async () => {
    await page.goto(service.url);
    await page.fill('#token', 'wrong-token-wrong-token-wrong');
    await page.click('#connect');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.textContent('#login-error')).toMatch(/refused/);
    expect(await page.isHidden('#main')).toBe(true);
    const statuses = await page.evaluate(async () => {
      const plain = await fetch('/api/alerts');
      const wrong = await fetch('/api/alerts', { headers: { Authorization: 'Bearer wrong-token-wrong-token-wrong' } });
      const stream = await fetch('/api/stream?ticket=made-up');
      return [plain.status, wrong.status, stream.status];
    });
    expect(statuses).toEqual([401, 401, 401]);
    // Those refusals are the only errors the console may show.
    expect(pageErrors.every((text) => text.includes('401'))).toBe(true);
    pageErrors.length = 0;
  });

  it('shows an alert raised over syslog without a reload, and its count as it grows', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#connect');
    await page.waitForSelector('#status.on');
    // A marker that a reload or navigation would wipe.
    await page.evaluate(() => Object.assign(window, { __marker: 'same page' }));

    const shop = newSource();
    const tcp = service.addresses.tcp?.port ?? 0;
    const fails = Array.from({ length: 5 }, () =>
      loginFail(shop, 'jim@juice-sh.op', {
        reason: XSS_REASON,
        who: { ip: '203.0.113.66', userAgent: '<iframe src="javascript:window.__xss=4"></iframe>' },
        where: { method: 'POST', url: XSS_URL, route: '/rest/user/login', requestId: 'req-x', status: 401 },
      }),
    );
    await sendEvents(tcp, fails);
    await page.waitForFunction(() => document.querySelector('#alerts tbody tr td.alert-count')?.textContent === '5');
    expect(await page.locator('#alerts tbody tr').count()).toBe(1);
    expect(await page.locator('#alerts tbody tr td.key').textContent()).toBe(`email:${fails[0].who.emailId}`);
    expect(await page.locator('#alerts tbody tr td.state').textContent()).toBe('open');

    await sendEvents(tcp, [loginFail(shop, 'jim@juice-sh.op', { reason: XSS_REASON, who: { ip: '203.0.113.66' }, where: { method: 'POST', url: XSS_URL, requestId: 'req-y', status: 401 } })]);
    await page.waitForFunction(() => document.querySelector('#alerts tbody tr td.alert-count')?.textContent === '6');
    expect(await page.locator('#alerts tbody tr').count()).toBe(1);
    expect(await page.evaluate(() => window.__marker)).toBe('same page');
  });

  it('shows the events behind an alert on click, attacker text as text: no script runs, no element is added', async () => {
    await page.click('#alerts tbody tr');
    await page.waitForSelector('#detail:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#detail-table tbody tr').length >= 5);
    const requests = await page.locator('#detail-table tbody td.request').allTextContents();
    expect(requests[0]).toContain(XSS_URL);
    const descriptions = await page.locator('#detail-table tbody td.description').allTextContents();
    expect(descriptions[0]).toContain(XSS_REASON);
    // The raw record, also as text.
    await page.click('#detail-table tbody tr.event-row');
    expect(await page.locator('#detail-table pre').first().textContent()).toContain('<iframe src=');

    const injected = await page.evaluate(() => ({
      xss: window.__xss,
      elements: document.querySelectorAll('img, svg, iframe, object, embed, body script:not([src])').length,
      scripts: Array.from(document.scripts).map((script) => script.getAttribute('src')),
    }));
    expect(injected).toEqual({ xss: undefined, elements: 0, scripts: ['/app.js'] });
    expect(pageErrors).toEqual([]);
  });

  it('filters events and shows per-source health', async () => {
    await page.fill('#e-type', 'authn_login_fail');
    await page.fill('#e-actor', 'ip:203.0.113.66');
    await page.click('#e-search');
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr.event-row').length === 6);
    await page.fill('#e-type', 'sys_error');
    await page.click('#e-search');
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr.event-row').length === 0);

    await page.waitForFunction(() => document.querySelectorAll('#sources tbody tr').length === 1);
    // The panel refreshes on its own: under load it can still show the count from before the last commit.
    await page.waitForFunction(() => document.querySelector('#sources tbody tr td:nth-child(5)')?.textContent === '6', undefined, { timeout: 10000 });
    const cells = await page.locator('#sources tbody tr td').allTextContents();
    expect(cells[0]).toBe('shop-1');
    expect(cells[4]).toBe('6');
    expect(cells[10]).toBe('ok');
    // The alert filter hides and shows rows without asking the server.
    await page.selectOption('#f-state', 'closed');
    expect(await page.locator('#alerts tbody tr:visible').count()).toBe(0);
    await page.selectOption('#f-state', '');
    expect(await page.locator('#alerts tbody tr:visible').count()).toBe(1);
    expect(pageErrors).toEqual([]);
    expect(serviceErrors).toEqual([]);
  });
});

if (!haveChromium) {
  it.skip(`dashboard browser tests: SKIPPED, no Chromium at ${CHROMIUM}`, () => undefined);
}
