// Drives Debian's Chromium (/usr/bin/chromium, or $RISKWATCH_CHROMIUM) with playwright-core for the
// alert page tests (tests/integration/test_alert_page_browser.py). No browser is downloaded:
// playwright-core has none and is only told where the system one is.
//
//   node tests/browser/run.mjs <scenario>   < input.json   > result.json
//
// Scenarios (input → what is reported; the Python test judges):
//   alert-page  {link, note, expired, forged, screenshot}  the page from a notification at 360×740:
//               status, headers, text, layout widths, a screenshot; tap 确认收到; the link again;
//               the expired and forged links; every request's URL and console errors
//   list-page   {base, token, screenshot}  log in with a personal token, the list, a filter
// Exit 0 with the JSON report on stdout, or 1 with {"error": ...}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const EXECUTABLE = process.env.RISKWATCH_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHONE = { width: 360, height: 740 };

async function withPage(fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE, headless: true, args: ARGS, viewport: PHONE, deviceScaleFactor: 2,
    isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
  });
  const page = context.pages()[0] || await context.newPage();
  const seen = { requests: [], console: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.console.push(m.text()); });
  page.on('pageerror', (e) => seen.console.push(String(e)));
  try {
    return { ...(await fn(page)), requests: seen.requests, console: seen.console };
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function look(page, response) {
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    bodyScrollWidth: document.body.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  return {
    status: response ? response.status() : null,
    headers: response ? await response.allHeaders() : {},
    url: page.url(),
    title: await page.title(),
    h1: await page.locator('h1').first().innerText().catch(() => ''),
    text: await page.locator('body').innerText(),
    ...layout,
  };
}

const scenarios = {
  async 'alert-page'(input) {
    return withPage(async (page) => {
      const out = {};
      out.first = await look(page, await page.goto(input.link, { waitUntil: 'load' }));
      out.first.ackButtons = await page.locator('button#ack').count();
      out.first.stylesheetApplied = await page.evaluate(
        () => getComputedStyle(document.querySelector('button#ack')).backgroundColor);
      if (input.screenshot) {
        fs.mkdirSync(path.dirname(input.screenshot), { recursive: true });
        await page.screenshot({ path: input.screenshot, fullPage: false });
        if (input.fullScreenshot) await page.screenshot({ path: input.fullScreenshot, fullPage: true });
      }
      if (input.note) await page.locator('textarea#note').fill(input.note);
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.waitForURL((u) => u.pathname.endsWith('/ack'), { waitUntil: 'load' }),
        page.locator('button#ack').tap(),
      ]);
      out.afterTap = await look(page, answer);
      out.afterTap.method = answer.request().method();
      out.afterTap.postUrl = answer.url();
      out.afterTap.ackButtons = await page.locator('button#ack').count();
      out.reused = await look(page, await page.goto(input.link, { waitUntil: 'load' }));
      out.expired = await look(page, await page.goto(input.expired, { waitUntil: 'load' }));
      out.forged = await look(page, await page.goto(input.forged, { waitUntil: 'load' }));
      return out;
    });
  },

  async 'list-page'(input) {
    return withPage(async (page) => {
      const out = {};
      out.before = await look(page, await page.goto(`${input.base}/alerts`, { waitUntil: 'load' }));
      await page.locator('input#token').fill(input.token);
      await Promise.all([
        page.waitForURL(`${input.base}/alerts`, { waitUntil: 'load' }),
        page.locator('form.act button[type=submit]').tap(),
      ]);
      out.list = await look(page, null);
      out.list.links = await page.locator('ul.alerts a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      if (input.screenshot) await page.screenshot({ path: input.screenshot, fullPage: false });
      await page.locator('select[name=level]').selectOption('critical');
      await Promise.all([page.waitForURL(/level=critical/, { waitUntil: 'load' }),
        page.locator('form.filters button').tap()]);
      out.filtered = await look(page, null);
      out.filtered.links = await page.locator('ul.alerts a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      if (out.list.links.length) {
        out.opened = await look(page, await page.goto(`${input.base}${out.list.links[0]}`, { waitUntil: 'load' }));
        out.opened.ackButtons = await page.locator('button#ack').count();
      }
      return out;
    });
  },
};

async function main() {
  const name = process.argv[2];
  if (!scenarios[name]) throw new Error(`unknown scenario ${name} (one of ${Object.keys(scenarios).join(', ')})`);
  const input = JSON.parse(fs.readFileSync(0, 'utf8') || '{}');
  const result = await scenarios[name](input);
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }));
  process.exit(1);
});
