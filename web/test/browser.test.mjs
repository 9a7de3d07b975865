// Drives the notebook page in headless Chromium (playwright-core): run cells on a real
// Spark session, see their outputs, interrupt a long job, save. Run by
// cmd/glaux/notebook_e2e_browser_test.go, which prepares the session and checks the saved
// notebook and the calculations through the SDK afterwards.
//
// Environment: GLAUX_NOTEBOOK_URL (a presigned URL), GLAUX_REFUSED_URLS (JSON list of URLs
// that must be refused), CHROMIUM (default /usr/bin/chromium), GLAUX_SCREENSHOT (a PNG path).
import assert from 'node:assert/strict';
import { launch, step } from './chromium.mjs';

const url = process.env.GLAUX_NOTEBOOK_URL;
const refused = JSON.parse(process.env.GLAUX_REFUSED_URLS || '[]');

const { context, page, close } = await launch({ width: 1200, height: 900 });
try {
  page.setDefaultTimeout(120_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  step('expired and tampered links are refused');
  for (const bad of refused) {
    const r = await page.goto(bad);
    assert.equal(r.status(), 403, bad);
    assert.match(await page.textContent('body'), /cannot be used/);
  }
  assert.equal((await context.cookies()).length, 0);

  step('the presigned URL sets the cookie and leads to the clean URL');
  await page.goto(url);
  await page.waitForURL((u) => !u.search.includes('token'));
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, 'glaux_notebook');
  assert.ok(cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === new URL(page.url()).pathname, JSON.stringify(cookie));
  await page.waitForSelector('body.loaded');
  await page.waitForFunction(() => document.querySelector('#session-state').textContent === 'IDLE');

  const cells = page.locator('main .cell');
  // type puts code into cell i (creating cells with Shift-Enter runs) without auto-indent.
  async function type(i, code) {
    await cells.nth(i).locator('.cm-content').click();
    await page.keyboard.insertText(code);
  }
  const output = (i, sel) => cells.nth(i).locator(`.outputs ${sel}`);

  step('spark.range(5).count() shows 5');
  await type(0, 'spark.range(5).count()');
  await page.keyboard.press('Shift+Enter');
  await output(0, '.execute_result pre').filter({ hasText: /^5$/ }).waitFor();
  await cells.nth(0).locator('.calc code.uri').first().waitFor();
  assert.match(await cells.nth(0).locator('.calc code.uri').last().getAttribute('data-uri'), /^s3:\/\/.+\/result\.json$/);
  assert.match(await cells.nth(0).locator('.prompt').textContent(), /^\[\d+\]$/);

  step('a Spark table renders in a sandboxed frame');
  await type(1, "spark.sql(\"SELECT id AS trip, id * 3.5 AS miles, concat('zone-', id % 3) AS zone FROM range(1, 6)\")");
  await page.keyboard.press('Shift+Enter');
  const frame = output(1, 'iframe.html-output');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-scripts');
  await page.frameLocator('main .cell:nth-child(2) iframe').locator('table td', { hasText: 'zone-1' }).first().waitFor();

  step('a matplotlib plot shows as an image');
  await type(2, "import matplotlib.pyplot as plt\nplt.figure(figsize=(6, 3))\nplt.plot(range(10), [x * x for x in range(10)], marker='o')\nplt.title('squares')\nplt.show()");
  await page.keyboard.press('Shift+Enter');
  const img = output(2, 'img');
  await img.waitFor();
  await page.waitForFunction((el) => el.naturalWidth > 100, await img.elementHandle());

  step('an error shows its traceback');
  await type(3, "{}['missing']");
  await page.keyboard.press('Shift+Enter');
  await output(3, '.error pre').filter({ hasText: "KeyError: 'missing'" }).waitFor();

  step('a Markdown cell is rendered and sanitized');
  await cells.nth(0).click();
  await page.click('text=+ Markdown');
  await page.keyboard.insertText('# NYC taxi trips\nEvery code cell runs as a **calculation** of this Spark session.' +
    '<span onmouseover="window.pwned=1"></span><script>window.pwned=1</script>');
  await page.keyboard.press('Shift+Enter');
  await cells.nth(1).hover(); // the cell's tools show on hover
  await cells.nth(1).locator('button[title="Move up"]').click();
  await cells.nth(0).locator('.rendered h1', { hasText: 'NYC taxi trips' }).waitFor();
  assert.equal(await cells.nth(0).locator('.rendered span').getAttribute('onmouseover'), null);
  assert.equal(await cells.nth(0).locator('.rendered script').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  step('add and delete a cell');
  const before = await cells.count();
  await page.click('text=+ Code');
  assert.equal(await cells.count(), before + 1);
  await page.click('main .cell.selected button[title="Delete cell"]');
  assert.equal(await cells.count(), before);

  if (process.env.GLAUX_SCREENSHOT) {
    step('screenshot');
    await cells.nth(2).click();
    await page.screenshot({ path: process.env.GLAUX_SCREENSHOT, fullPage: true });
  }

  step('a long Spark job shows progress and is interrupted');
  const long = before - 1; // the empty cell Shift-Enter left at the end
  await type(long, 'import time\nsc.parallelize(range(400), 400).map(lambda x: time.sleep(0.25) or x).sum()');
  await page.keyboard.press('Control+Enter');
  await cells.nth(long).locator('.progress.on .text', { hasText: /tasks/ }).waitFor();
  await page.waitForFunction(() => document.querySelector('#session-state').textContent === 'BUSY');
  await page.click('text=■ Interrupt');
  await output(long, '.error pre').filter({ hasText: 'KeyboardInterrupt' }).waitFor({ timeout: 60_000 });
  await cells.nth(long).locator('.calc .state.CANCELED').waitFor();
  await page.waitForFunction(() => document.querySelector('#session-state').textContent === 'IDLE');

  step('save, reload: the notebook comes back with its outputs');
  await page.click('button.save');
  await page.locator('.saved', { hasText: /^saved$/ }).waitFor();
  await page.reload();
  await page.waitForSelector('body.loaded');
  await output(1, '.execute_result pre').filter({ hasText: /^5$/ }).waitFor();
  await output(3, 'img').waitFor();

  step('the page renews its token with its cookie');
  const renewed = await page.evaluate(async () => {
    const r = await fetch(`${document.body.dataset.base}/api/token`, { method: 'POST' });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(renewed.status, 200);
  assert.ok(renewed.body.expiresIn > 500, JSON.stringify(renewed));

  assert.deepEqual(errors, []);
  console.log('browser test passed');
} finally {
  await close();
}
