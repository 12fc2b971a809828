// Opens a notebook in Debian's jupyter-notebook (classic Notebook 6) with
// headless Chromium driven by playwright-core, runs all cells through the
// menu as a user would, waits until every code cell has finished, saves a
// screenshot, and prints what the page shows as one JSON object on stdout.
// The Go test (browser_test.go) makes the assertions.
//
// Environment: PLAYWRIGHT_CORE (the playwright-core package directory),
// CHROMIUM (executable), NOTEBOOK_URL (with token), SCREENSHOT (PNG path),
// USER_DATA_DIR (a fresh Chromium profile directory), TIMEOUT_MS.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`browser.mjs: ${k} is not set`);
  return v;
};

const { chromium } = await import(pathToFileURL(path.join(env('PLAYWRIGHT_CORE'), 'index.mjs')).href);
const timeout = Number(process.env.TIMEOUT_MS || 120000);
const log = (...a) => console.error('[browser]', ...a);

const context = await chromium.launchPersistentContext(env('USER_DATA_DIR'), {
  executablePath: env('CHROMIUM'),
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1200, height: 1400 },
});
const result = { consoleErrors: [] };
try {
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.consoleErrors.push(String(e)));

  log('opening', env('NOTEBOOK_URL').replace(/token=[^&]+/, 'token=…'));
  await page.goto(env('NOTEBOOK_URL'), { waitUntil: 'load' });
  // The kernel is started and connected: the indicator shows idle.
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected(), null, { timeout });
  await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout });
  result.kernelName = await page.evaluate(() => Jupyter.notebook.kernel.name);
  result.kernelDisplayName = await page.locator('.kernel_indicator_name').innerText();
  log('kernel', result.kernelName, 'connected and idle');

  // Cell > Run All, through the menu.
  await page.click('#celllink');
  await page.click('#run_all_cells > a');
  log('clicked Cell > Run All');

  // Every code cell has an execution count and the kernel is idle again.
  await page.waitForFunction(() => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
    return cells.length > 0 && cells.every((c) => typeof c.input_prompt_number === 'number');
  }, null, { timeout, polling: 200 });
  await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout });
  // Outputs of the last cell may still be arriving over the websocket.
  await page.waitForTimeout(500);
  log('all cells executed');

  result.promptNumbers = await page.evaluate(() => Jupyter.notebook.get_cells()
    .filter((c) => c.cell_type === 'code').map((c) => c.input_prompt_number));
  result.tableHeaders = await page.$$eval('.output_area table th', (els) => els.map((e) => e.textContent.trim()));
  result.tableCells = await page.$$eval('.output_area table td', (els) => els.map((e) => e.textContent.trim()));
  result.svgs = await page.$$eval('.output_area svg', (els) => els.map((e) => ({
    width: e.getBoundingClientRect().width,
    height: e.getBoundingClientRect().height,
    text: e.textContent.replace(/\s+/g, ' ').trim().slice(0, 400),
    paths: e.querySelectorAll('path').length,
  })));
  result.progress = await page.$$eval('.output_area .gopherlab-progress', (els) => els.map((e) => ({
    state: e.getAttribute('data-state'),
    value: e.getAttribute('data-value'),
    total: e.getAttribute('data-total'),
    text: e.textContent.trim(),
  })));
  result.errors = await page.$$eval('.output_area .output_error', (els) => els.map((e) => e.textContent.trim()));
  result.stdout = await page.$$eval('.output_area .output_stdout', (els) => els.map((e) => e.textContent));

  await page.screenshot({ path: env('SCREENSHOT'), fullPage: true });
  result.screenshot = env('SCREENSHOT');
} catch (e) {
  result.error = String(e && e.stack || e);
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: env('SCREENSHOT'), fullPage: true });
    result.screenshot = env('SCREENSHOT');
  } catch (_) { /* nothing more to show */ }
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
