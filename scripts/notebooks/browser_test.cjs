// Drives a running JupyterLab in headless Chromium through its own UI, as a
// person would: opens a notebook, clears its outputs (Edit menu), runs all
// cells (Run menu), waits for the kernel to finish, checks what the page
// shows, and takes a screenshot. Started by browser_test.sh, which starts
// the server and installs playwright-core; it only uses Debian's Chromium.
//
//   node browser_test.cjs   (configured by the environment:)
//     LAB_URL       http://127.0.0.1:PORT (no trailing slash)
//     LAB_TOKEN     the server's token
//     CHROMIUM      the browser binary (default /usr/bin/chromium)
//     SHOTS_DIR     where screenshots go
//     NOTEBOOKS     comma-separated "file.ipynb:check:screenshot.png" entries,
//                   check one of "table" (a table with "Paris"), "heatmap"
//                   (an svg with "restoring") or "chart" (03_das's live chart)
//     RUN_TIMEOUT_S how long running all cells of one notebook may take
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');

const env = (k, d) => process.env[k] || d;
const LAB_URL = env('LAB_URL');
const TOKEN = env('LAB_TOKEN');
const SHOTS = env('SHOTS_DIR', '.');
const RUN_TIMEOUT = 1000 * Number(env('RUN_TIMEOUT_S', '900'));
const NOTEBOOKS = env('NOTEBOOKS', '01_patching.ipynb:table:browser.png')
  .split(',')
  .map((s) => {
    const [file, check, shot] = s.split(':');
    return { file, check, shot };
  });

// What each check looks for in the notebook's rendered outputs.
const CHECKS = {
  table: {
    what: 'an output table containing "Paris"',
    find: () => {
      const t = [...document.querySelectorAll('.jp-OutputArea-output table')].find((t) =>
        t.textContent.includes('Paris'),
      );
      return t ? t.closest('.jp-OutputArea-output') : null;
    },
  },
  chart: {
    what: 'an output svg chart containing "DAS training"',
    find: () => {
      const s = [...document.querySelectorAll('.jp-OutputArea-output svg')].find((s) =>
        s.textContent.includes('DAS training'),
      );
      return s ? s.closest('.jp-OutputArea-output') : null;
    },
  },
  heatmap: {
    what: 'an output svg containing "restoring"',
    find: () => {
      const s = [...document.querySelectorAll('.jp-OutputArea-output svg')].find((s) =>
        s.textContent.includes('restoring'),
      );
      return s ? s.closest('.jp-OutputArea-output') : null;
    },
  },
};

function log(...a) {
  console.log(`[browser ${new Date().toISOString().slice(11, 19)}]`, ...a);
}

// Clicks a top menu (e.g. "Run") then one of its items (e.g. "Run All Cells").
async function menu(page, top, item) {
  await page.locator('.lm-MenuBar-item', { hasText: new RegExp(`^${top}$`) }).first().click();
  const entry = page.locator('.lm-Menu-item:not(.lm-mod-hidden)', {
    has: page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${item}$`) }),
  });
  await entry.first().waitFor({ state: 'visible', timeout: 10000 });
  await entry.first().click();
}

// The state of the notebook's code cells: their prompts ("[3]:", "[*]:",
// "[ ]:") and the kernel status shown in the toolbar.
function cellState() {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map((p) =>
    p.textContent.trim(),
  );
  const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const status = ind ? ind.getAttribute('data-status') : null;
  const errors = [...panel.querySelectorAll('.jp-OutputArea-output')]
    .filter(
      (o) =>
        o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr' &&
        /^panic: |exit status [1-9]|\[\[ Cell \[\d+\] Line/m.test(o.textContent),
    )
    .map((o) => o.textContent.slice(0, 400));
  return { prompts, status, errors };
}

async function runNotebook(page, nb) {
  const t0 = Date.now();
  const url = `${LAB_URL}/lab/tree/${encodeURIComponent(nb.file)}?token=${TOKEN}`;
  log(`opening ${url.replace(TOKEN, '<token>')}`);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.locator('.jp-NotebookPanel .jp-Cell').first().waitFor({ timeout: 120000 });
  // Wait for the kernel: cells run before a kernel is attached are silently
  // skipped. The server exposes the app (expose_app_in_browser, as
  // JupyterLab's own UI tests do) so the test can ask the notebook's session
  // whether its kernel is connected; the toolbar alone can show "Go (gonb)"
  // before. GoNB leaves the state "unknown" until the first cell runs (it
  // sends no status for JupyterLab's history_request), so "unknown" counts as
  // ready.
  await page.waitForFunction(
    (file) => {
      const app = window.jupyterapp;
      const w = app && app.shell.currentWidget;
      const sc = w && w.sessionContext;
      const k = sc && sc.session && sc.session.kernel;
      return (
        !!k &&
        w.context.path.endsWith(file) &&
        sc.isReady &&
        k.name === 'gonb' &&
        k.connectionStatus === 'connected' &&
        ['idle', 'unknown'].includes(k.status)
      );
    },
    nb.file,
    { timeout: 120000, polling: 500 },
  );
  log(`notebook open, GoNB kernel attached after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const stale = await page.evaluate(CHECKS[nb.check].find);
  await menu(page, 'Edit', 'Clear Outputs of All Cells');
  await page.waitForFunction(() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output').length === 0, null, { timeout: 10000 });
  log(`cleared the saved outputs (the saved notebook ${stale ? 'had' : 'lacked'} ${CHECKS[nb.check].what})`);

  const tRun = Date.now();
  await menu(page, 'Run', 'Run All Cells');
  log('Run > Run All Cells');
  let last = '';
  for (;;) {
    const s = await page.evaluate(cellState);
    const line = s ? `${s.status} ${s.prompts.join(' ')}` : 'no notebook';
    if (line !== last) {
      log(`  ${line}`);
      last = line;
    }
    if (s && s.errors.length) {
      throw new Error(`${nb.file}: a cell failed:\n${s.errors.join('\n---\n')}`);
    }
    if (s && s.status === 'idle' && s.prompts.length && s.prompts.every((p) => /^\[\d+\]:$/.test(p))) break;
    if (Date.now() - tRun > RUN_TIMEOUT) throw new Error(`${nb.file}: cells still running after ${RUN_TIMEOUT / 1000}s: ${line}`);
    await page.waitForTimeout(1000);
  }
  const runS = (Date.now() - tRun) / 1000;
  log(`all ${last.split(' ').length - 1} code cells ran in ${runS.toFixed(1)}s`);

  const found = await page.evaluateHandle(CHECKS[nb.check].find);
  const el = found.asElement();
  if (!el) throw new Error(`${nb.file}: the page shows no ${CHECKS[nb.check].what}`);
  const title = await el.evaluate((e) => {
    const t = e.querySelector('caption') || e.querySelector('svg text');
    return t ? t.textContent.trim() : '';
  });
  log(`found ${CHECKS[nb.check].what}, titled "${title}"`);
  await el.evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await page.waitForTimeout(500);
  const shot = path.join(SHOTS, nb.shot);
  await page.screenshot({ path: shot });
  log(`screenshot ${shot}`);
  return { file: nb.file, runS, totalS: (Date.now() - t0) / 1000 };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    chromiumSandbox: false, // --no-sandbox: the test runs as root
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  let code = 0;
  try {
    log(`chromium ${browser.version()}`);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(60000);
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    page.on('dialog', (d) => d.accept()); // "leave the page?" on unsaved changes
    const results = [];
    for (const nb of NOTEBOOKS) {
      results.push(await runNotebook(page, nb));
      // Leave without saving: the test must not write the notebook back.
      await page.goto('about:blank');
    }
    for (const r of results) log(`${r.file}: run all ${r.runS.toFixed(1)}s, with opening ${r.totalS.toFixed(1)}s`);
    log('ok');
  } catch (e) {
    log(`FAILED: ${e.message}`);
    code = 1;
    try {
      const pages = browser.contexts().flatMap((c) => c.pages());
      if (pages.length) await pages[0].screenshot({ path: path.join(SHOTS, 'browser-failure.png') });
      log(`failure screenshot ${path.join(SHOTS, 'browser-failure.png')}`);
    } catch (_) {
      /* best effort */
    }
  } finally {
    await browser.close();
  }
  process.exit(code);
})();
