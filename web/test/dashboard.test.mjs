// Opens a session's Spark UI through GetResourceDashboard's URL in headless Chromium
// (playwright-core): the Jobs page lists the calculation's job, the job, executors, stage and
// SQL execution pages render (the executors and stage tables from Spark's REST API, by its
// JavaScript), and no request the pages make leaves glaux's /sparkui/<session id>/ path. Run by
// cmd/glaux/dashboard_e2e_browser_test.go, which runs the calculation first.
//
// Environment: GLAUX_DASHBOARD_URL (the Url), GLAUX_JOB_TEXT (what the job's row says),
// GLAUX_REFUSED_URLS (JSON list of URLs that must be refused), CHROMIUM (default
// /usr/bin/chromium), GLAUX_SCREENSHOT (a PNG path).
import assert from 'node:assert/strict';
import { launch, step } from './chromium.mjs';

const url = process.env.GLAUX_DASHBOARD_URL;
const jobText = process.env.GLAUX_JOB_TEXT;
const refused = JSON.parse(process.env.GLAUX_REFUSED_URLS || '[]');
const base = new URL(url);
const root = `${base.origin}${base.pathname.replace(/\/$/, '')}/`; // http://host/sparkui/<id>/

const { context, page, close } = await launch({ width: 1400, height: 1000 });
try {
  page.setDefaultTimeout(60_000);
  const errors = [];
  const requests = [];
  const failed = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.url()}: ${r.status()}`); });

  step('expired and tampered links are refused');
  for (const bad of refused) {
    const r = await page.goto(bad);
    assert.equal(r.status(), 403, bad);
    assert.match(await page.textContent('body'), /Spark UI/);
  }
  assert.equal((await context.cookies()).length, 0);
  failed.length = 0;
  requests.length = 0;

  step('the URL sets the cookie and leads to the Jobs page, without the token');
  await page.goto(url);
  await page.waitForURL((u) => u.pathname.endsWith('/jobs/') && !u.search.includes('token'));
  const cookies = await context.cookies();
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  const [cookie] = cookies;
  assert.ok(cookie.name === 'glaux_sparkui' && cookie.httpOnly && cookie.sameSite === 'Lax' && `${cookie.path}/` === new URL(root).pathname, JSON.stringify(cookie));
  await page.locator('h3', { hasText: 'Spark Jobs' }).waitFor();

  step('the Jobs page lists the job');
  const row = page.locator('#completedJob-table tbody tr', { hasText: jobText });
  await row.first().waitFor();
  assert.match(await row.first().textContent(), /\d+\/\d+/); // tasks succeeded/total

  step('the job page, from its link');
  await row.first().locator('a[href*="/jobs/job/"]').first().click();
  await page.waitForURL((u) => u.pathname.endsWith('/jobs/job/'));
  await page.locator('h3', { hasText: /Details for Job \d+/ }).waitFor();

  step('the executors page fills its table from the REST API');
  await page.locator('.navbar a', { hasText: 'Executors' }).click();
  await page.waitForURL((u) => u.pathname.endsWith('/executors/'));
  await page.locator('#active-executors-table tbody tr', { hasText: 'driver' }).first().waitFor();

  step('a stage page fills its task table from the REST API');
  await page.locator('.navbar a', { hasText: 'Stages' }).click();
  await page.waitForURL((u) => u.pathname.endsWith('/stages/'));
  await page.locator('a[href*="/stages/stage/?id="]').first().click();
  await page.waitForURL((u) => u.pathname.endsWith('/stages/stage/'));
  await page.locator('#active-tasks-table tbody tr td').first().waitFor();
  await page.locator('#summary-metrics-table tbody tr').first().waitFor();
  await page.waitForLoadState('networkidle');

  step('a SQL execution page draws its plan; its SVG download fetches the style sheet under the path');
  await page.locator('.navbar a', { hasText: 'SQL' }).click();
  await page.waitForURL((u) => u.pathname.endsWith('/SQL/'));
  await page.locator('a[href*="/SQL/execution/?id="]').first().click();
  await page.waitForURL((u) => u.pathname.endsWith('/SQL/execution/'));
  await page.locator('#plan-viz-graph svg').first().waitFor();
  await page.selectOption('#plan-viz-format-select', 'svg');
  const [css] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/static/sql/spark-sql-viz.css') && r.request().resourceType() === 'fetch'),
    page.locator('#plan-viz-download-btn').click(),
  ]);
  assert.equal(css.status(), 200, css.url());
  await page.waitForLoadState('networkidle');

  step('back to the Jobs page with its own link');
  await page.locator('.navbar a', { hasText: 'Jobs' }).click();
  await page.waitForURL((u) => u.pathname.endsWith('/jobs/'));
  await row.first().waitFor();
  await page.waitForLoadState('networkidle');
  if (process.env.GLAUX_SCREENSHOT) await page.screenshot({ path: process.env.GLAUX_SCREENSHOT, fullPage: false });

  step('every request stayed under glaux\'s path for the session');
  const outside = requests.filter((u) => !u.startsWith(root));
  assert.deepEqual(outside, [], `requests outside ${root}`);
  assert.ok(requests.some((u) => u.includes('/api/v1/applications/')), 'no REST API request was seen');
  assert.ok(requests.some((u) => u.includes('/static/')), 'no static asset was requested');
  assert.deepEqual(failed, [], 'failed requests');
  assert.deepEqual(errors, [], 'page errors');
  console.log(`ok: ${requests.length} requests, all under ${root}`);
} finally {
  await close();
}
