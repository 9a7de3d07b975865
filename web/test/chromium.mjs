// Headless Chromium for the browser tests (playwright-core): a fresh profile
// (--user-data-dir) each run, removed by close().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const step = (s) => console.log(`step: ${s}`);

// launch starts Chromium (CHROMIUM, default /usr/bin/chromium) with one page.
export async function launch(viewport) {
  const profile = mkdtempSync(join(tmpdir(), 'glaux-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport,
  });
  const page = context.pages()[0] || (await context.newPage());
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}
