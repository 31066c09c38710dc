// Browser tests: Debian's Chromium (headless, driven by playwright-core) against a real zengen
// holding the demo cohort. Fails — never skips — when the browser cannot start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { labelAndKeyboardRules, repoRoot, runAxe, startZengen, totp } from './support.mjs';

const screenshots = process.env.ZENGEN_SCREENSHOTS ?? join(repoRoot, 'build', 'screenshots');
const chromiumPath = process.env.ZENGEN_CHROMIUM ?? '/usr/bin/chromium';
const password = 'zengen-demo-passphrase';

let server;
let browser;
const contexts = [];
const cspViolations = [];
const pageErrors = [];

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  server = await startZengen();
});

after(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await server?.stop();
});

// Each test has its own context: its own cookies, so sessions never leak between tests.
async function newPage() {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 900 }, locale: 'ja-JP' });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return page;
}

async function checkAxe(page, name) {
  const violations = await runAxe(page);
  const blocking = violations.filter((v) => labelAndKeyboardRules.includes(v.id));
  const others = violations.filter((v) => !labelAndKeyboardRules.includes(v.id));
  if (others.length) console.log(`axe (${name}), reported only: ${others.map((v) => `${v.id}(${v.nodes.length})`).join(', ')}`);
  assert.deepEqual(blocking, [], `${name}: label/keyboard violations`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

// Logs in with the password, enrols TOTP from the QR page's key, passes the recovery codes.
async function logIn(page, user, screenshotPrefix) {
  await page.goto(`${server.url}/console`);
  await page.getByLabel('ユーザーID').fill(user);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent()).trim();
  await page.getByTestId('totp-qr').waitFor();
  if (screenshotPrefix) {
    await shot(page, `${screenshotPrefix}-totp-enrolment`);
    await checkAxe(page, 'TOTP enrolment');
  }
  await page.getByLabel('確認コード（6桁）').fill(totp(secret));
  await page.getByRole('button', { name: '確認' }).click();
  await page.getByRole('heading', { name: 'リカバリーコード（一度だけ表示）' }).waitFor();
  await page.getByRole('button', { name: '続ける' }).click();
  await page.getByTestId('signed-in').waitFor();
}

test('the public portal shows charts, tables with suppressed small cells, and switches language', async () => {
  const page = await newPage();
  const resp = await page.goto(`${server.url}/`);
  assert.match(resp.headers()['content-security-policy'], /default-src 'self'/);
  assert.match(resp.headers()['content-security-policy'], /frame-ancestors 'none'/);
  await page.getByRole('heading', { name: '事業の進捗' }).waitFor();
  for (const id of ['totals', 'month', 'program', 'disease', 'facility']) {
    const canvas = page.getByTestId(`chart-${id}`).locator('canvas');
    await canvas.first().waitFor();
    const box = await canvas.first().boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `chart ${id} is drawn`);
  }
  // The by-month table holds small counts, published only as "<10".
  await page.getByRole('button', { name: '表で見る' }).first().click();
  const monthTable = page.getByTestId('table-month');
  await monthTable.waitFor();
  const cells = await monthTable.locator('td').allTextContents();
  assert.ok(cells.includes('<10'), 'a suppressed small cell is shown');
  assert.ok(cells.every((c) => !/^[1-9]$/.test(c)), 'no count from 1 to 9 is shown');
  // The demo's releases: one per tier, dates from the sharing module.
  await page.getByRole('cell', { name: 'controlled', exact: true }).first().waitFor();
  assert.match(await page.getByTestId('audit-head').textContent(), /通番 \d+/);
  await shot(page, 'portal-ja');
  await checkAxe(page, 'portal');

  await page.getByLabel('表示言語').selectOption('en');
  await page.getByRole('heading', { name: 'Programme progress' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Programme progress' }).waitFor(); // the choice persists
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await shot(page, 'portal-en');
  await page.getByLabel('Language').selectOption('ja');
  await page.getByRole('heading', { name: '事業の進捗' }).waitFor();
  await page.close();
});

test('a clinician logs in with TOTP, enters a diagnosis by selection, is told of an impossible value, saves and sees it', async () => {
  const page = await newPage();
  await page.goto(`${server.url}/console`);
  await shot(page, 'console-login');
  await checkAxe(page, 'login');
  await logIn(page, 'dr-tohoku', 'console');

  const first = page.getByTestId('participant-list').locator('button').first();
  const pid = await first.getAttribute('data-participant');
  await first.click();
  await page.locator('#tab-diagnosis').click();
  await page.locator('#f-onset_age').waitFor();
  // Selection: the code system and the diagnosis status are radio buttons with definitions.
  // The code system stays as recorded (the diagnosis code is checked against it); the
  // diagnosis status is chosen anew.
  if ((await page.locator('input[name="clinical_dx_system"]:checked').count()) === 0) {
    await page.locator('input[name="clinical_dx_system"]').first().check();
  }
  // The diagnosis code is not known yet: "unknown" is one click away.
  await page.getByRole('button', { name: '臨床診断: 不明 (UNK)' }).click();
  await page.locator('fieldset', { has: page.locator('input[name="dx_status"]') }).locator('input[type=radio]').nth(1).check();
  const status = await page.locator('input[name="dx_status"]:checked').getAttribute('value');

  // An impossible onset age: the message appears next to the field as it is left.
  await page.locator('#f-onset_age').fill('200');
  await page.locator('#f-onset_age').press('Tab');
  const error = page.getByTestId('error-onset_age');
  await error.waitFor();
  assert.match(await error.textContent(), /0〜120/);
  assert.equal(await page.locator('#f-onset_age').getAttribute('aria-invalid'), 'true');
  await shot(page, 'console-clinical-validation');
  await checkAxe(page, 'clinical entry');
  // Saving is refused while the value is impossible: the server is not asked.
  await page.getByRole('button', { name: '下書き保存' }).click();
  assert.equal(await page.getByTestId('save-status').textContent(), '');

  await page.locator('#f-onset_age').fill('12');
  await page.locator('#f-onset_age').press('Tab');
  await error.waitFor({ state: 'detached' });
  await page.getByLabel('変更理由').fill('初診時の記録を修正');
  await page.getByRole('button', { name: '下書き保存' }).click();
  await page.getByTestId('save-status').filter({ hasText: '下書きを保存しました' }).or(page.getByTestId('server-problems')).first().waitFor();
  assert.equal(await page.getByTestId('server-problems').count(), 0, await page.getByTestId('server-problems').textContent().catch(() => ''));

  // See it: a fresh page load (same session) shows the saved values.
  await page.reload();
  await page.locator(`[data-participant="${pid}"]`).click();
  await page.locator('#tab-diagnosis').click();
  await page.locator('#f-onset_age').waitFor();
  await page.waitForFunction(() => document.querySelector('#f-onset_age')?.value === '12');
  assert.equal(await page.locator('input[name="dx_status"]:checked').getAttribute('value'), status);
  assert.match(await page.getByTestId('record-status').textContent(), /下書き/);
  await shot(page, 'console-clinical-saved');

  // Keyboard: the category tabs and fields are reachable with Tab.
  await page.locator('#tab-diagnosis').focus();
  await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => document.activeElement && document.activeElement !== document.body));
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await page.getByLabel('ユーザーID').waitFor();
  await page.close();
});

test("the security officer's audit view and administration", async () => {
  const page = await newPage();
  await logIn(page, 'security');
  const table = page.getByTestId('audit-table');
  await table.locator('tbody tr').first().waitFor();
  await shot(page, 'console-audit');
  await checkAxe(page, 'audit');
  await page.getByRole('button', { name: '管理' }).click();
  await page.getByRole('table', { name: 'ユーザー' }).waitFor();
  await shot(page, 'console-admin');
  await checkAxe(page, 'administration');
  await page.close();
});

test('no page broke the Content-Security-Policy or threw', () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
