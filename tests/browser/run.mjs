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
//   phone-flow  {link, note, progress, reason, expired, forged, screenshot, flowScreenshot}  the leader's
//               phone flow at 360×740 from one link: read, 确认收到, 记录进展, 关闭 (reason), the link
//               again, expired and forged links
//   workspace   {base, token, week, ledger, kind, shots: {brief, ledger, phone}}  the analyst's workspace
//               at 1280×900 (log in, caseloads, brief, a case and a note, ledger check and import), then
//               the same pages at 360×740
// Exit 0 with the JSON report on stdout, or 1 with {"error": ...}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const EXECUTABLE = process.env.RISKWATCH_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHONE = { width: 360, height: 740 };

const DESKTOP = { width: 1280, height: 900 };

async function withPage(fn, viewport = PHONE) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-chromium-'));
  const phone = viewport.width <= 480;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE, headless: true, args: ARGS, viewport, deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone, hasTouch: phone, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
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

async function shot(page, file, fullPage, height) {
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const clip = height ? { x: 0, y: 0, width: page.viewportSize().width, height } : undefined;
  await page.screenshot({ path: file, fullPage: !!fullPage, clip });
}

async function submit(page, selector, tap) {
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.waitForEvent('load'),
    tap ? page.locator(selector).tap() : page.locator(selector).click(),
  ]);
  const out = await look(page, answer);
  out.postUrl = answer.url();
  return out;
}

async function login(page, base, token, tap) {
  await page.goto(`${base}/login`, { waitUntil: 'load' });
  await page.locator('input#token').fill(token);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login'), { waitUntil: 'load' }),
    tap ? page.locator('form.act button[type=submit]').tap() : page.locator('form.act button[type=submit]').click()]);
}

scenarios['phone-flow'] = async (input) => withPage(async (page) => {
  const out = {};
  out.first = await look(page, await page.goto(input.link, { waitUntil: 'load' }));
  out.first.buttons = await page.locator('button[type=submit]').evaluateAll((bs) => bs.map((b) => b.id));
  await shot(page, input.screenshot, false);
  await page.locator('textarea#note').fill(input.note);
  out.ack = await submit(page, 'button#ack', true);
  await page.locator('textarea#text').fill(input.progress);
  out.note = await submit(page, 'button#addnote', true);
  await shot(page, input.flowScreenshot, true, 1180);
  await page.locator('details.closebox summary').tap();
  await page.locator('textarea#reason').fill(input.reason);
  out.close = await submit(page, 'button#close', true);
  out.close.buttons = await page.locator('button[type=submit]').evaluateAll((bs) => bs.map((b) => b.id));
  out.again = await look(page, await page.goto(input.link, { waitUntil: 'load' }));
  out.again.buttons = await page.locator('button[type=submit]').evaluateAll((bs) => bs.map((b) => b.id));
  out.expired = await look(page, await page.goto(input.expired, { waitUntil: 'load' }));
  out.forged = await look(page, await page.goto(input.forged, { waitUntil: 'load' }));
  return out;
});

scenarios.workspace = async (input) => {
  const desk = await withPage(async (page) => {
    const out = {};
    await login(page, input.base, input.token, false);
    out.home = await look(page, null);
    out.brief = await look(page, await page.goto(`${input.base}/w/brief?week=${input.week}`, { waitUntil: 'load' }));
    out.brief.caseLinks = await page.locator('#overdue a.id').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    await shot(page, input.shots.brief, true);
    out.case = await look(page, await page.goto(`${input.base}${out.brief.caseLinks[0]}`, { waitUntil: 'load' }));
    await page.locator('textarea#ntext').fill(input.note);
    out.noted = await submit(page, 'button#addnote', false);
    await page.goto(`${input.base}/w/ledgers`, { waitUntil: 'load' });
    await page.locator('select#kind').selectOption(input.kind);
    await page.locator('input#file').setInputFiles(input.ledger);
    out.report = await submit(page, 'button#check', false);
    await shot(page, input.shots.ledger, true);
    if (await page.locator('input#skipbad').count()) await page.locator('input#skipbad').check();
    out.imported = await submit(page, 'button#import', false);
    return out;
  }, DESKTOP);
  const phone = await withPage(async (page) => {
    const out = {};
    await login(page, input.base, input.token, true);
    out.home = await look(page, null);
    out.brief = await look(page, await page.goto(`${input.base}/w/brief?week=${input.week}`, { waitUntil: 'load' }));
    out.case = await look(page, await page.goto(`${input.base}${desk.brief.caseLinks[0]}`, { waitUntil: 'load' }));
    await shot(page, input.shots.phone, false);
    out.decisions = await look(page, await page.goto(`${input.base}/w/decisions`, { waitUntil: 'load' }));
    out.ledgers = await look(page, await page.goto(`${input.base}/w/ledgers`, { waitUntil: 'load' }));
    return out;
  });
  return { desk, phone, requests: [...desk.requests, ...phone.requests], console: [...desk.console, ...phone.console] };
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
