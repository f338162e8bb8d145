// Drives a running JupyterLab in headless Chromium through its own UI, as a
// person would, in two parts:
//
//  1. Saved notebooks, untrusted (as in a fresh clone: the test never trusts
//     them): opens each notebook of SAVED and checks its saved outputs as
//     JupyterLab renders them: every HTML output is a visible <img> (of an
//     SVG plot) or a styled table (its bars have a width), no output shows
//     text where a plot should be (what the sanitiser leaves of an inline
//     <svg>) or "Cannot display an untrusted SVG", and the plots and tables
//     the notebook should have are there. No news pop-up (toast) shows.
//  2. Runs: opens each notebook of NOTEBOOKS, clears its outputs (Edit
//     menu), runs all cells (Run menu), waits for the kernel to finish, and
//     checks the new outputs the same way. The check "views" also drives
//     the explorers of package views while their cells run (driveViews):
//     it changes a widget of each and checks that the view was redrawn in
//     place, then clicks Done.
//
// It takes a screenshot of each. Started by browser_test.sh, which starts
// the server and installs playwright-core; it only uses Debian's Chromium.
//
//   node browser_test.cjs   (configured by the environment:)
//     LAB_URL       http://127.0.0.1:PORT (no trailing slash)
//     LAB_TOKEN     the server's token
//     CHROMIUM      the browser binary (default /usr/bin/chromium)
//     SHOTS_DIR     where screenshots go
//     LAB_PREFIX    the folder of a notebook named without one, relative to
//                   the server's root ("" or "notebooks/")
//     SAVED         comma-separated "file.ipynb:screenshot.png" entries
//                   (part 1; the screenshot part may be empty)
//     NOTEBOOKS     comma-separated "file.ipynb:check:screenshot.png" entries
//                   (part 2), check one of "table" (a table with "Paris"),
//                   "heatmap" (a plot titled "restoring ..."), "chart"
//                   (03_das's live chart) or "views" (testdata/views.ipynb's
//                   explorers, driven)
//     RUN_TIMEOUT_S how long running all cells of one notebook may take
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');

const env = (k, d) => process.env[k] ?? d; // set but empty: empty (no notebooks)
const LAB_URL = env('LAB_URL');
const TOKEN = env('LAB_TOKEN');
const SHOTS = env('SHOTS_DIR', '.');
const RUN_TIMEOUT = 1000 * Number(env('RUN_TIMEOUT_S', '900'));
const PREFIX = env('LAB_PREFIX', '');
// A notebook's path from the server's root, and its name (what EXPECT's keys
// start).
const nbPath = (file) => (file.includes('/') ? file : PREFIX + file);
const baseName = (file) => path.basename(file);
const list = (k, d) =>
  env(k, d)
    .split(',')
    .filter((s) => s)
    .map((s) => s.split(':'));
const NOTEBOOKS = list('NOTEBOOKS', '01_patching.ipynb:table:browser.png').map(([file, check, shot]) => ({ file, check, shot }));
const SAVED = list('SAVED', '').map(([file, shot]) => ({ file, shot }));

// What each notebook's outputs must show (by its file name's prefix): plots
// (<img>, matched by their alt text, the plot's title) and tables (matched
// by their text).
const EXPECT = {
  '01_patching': { imgs: [], tables: [/Paris/] },
  '02_tracing': { imgs: [/restoring block_output/, /restoring mlp_output/, /restoring attention_output/], tables: [] },
  '03_das': { imgs: [/DAS training/], tables: [] },
  '04_positions': { imgs: [], tables: [/one position/, /several positions/] },
  '05_collect': { imgs: [], tables: [] },
  '06_steering': { imgs: [], tables: [/unsteered/] },
  '08_sae': { imgs: [], tables: [/explained variance/, /top-activating tokens/, /unsteered/], views: ['feature'] },
  // The explorers' views (the feature view is shaded tokens, no image) and
  // their widgets' outputs, empty once the widgets are removed.
  views: { imgs: [/ — L\d+H\d+$/, /^logit lens of/, /^attribution at position/], tables: [], views: ['attention', 'lens', 'feature'], empty: true },
  '07_ioi': {
    imgs: [/^heads patched clean -> corrupted/, /^heads at the last position/, /^direct logit attribution/, /^attribution vs exact patching/, /^path patching/, /^logit lens/],
    tables: [/logit\(IO\) - logit\(S\)/],
  },
};

// What each check of part 2 scrolls to for its screenshot.
const CHECKS = {
  table: { what: 'an output table containing "Paris"', img: null, table: /Paris/ },
  chart: { what: 'a plot titled "DAS training"', img: /DAS training/, table: null },
  heatmap: { what: 'a plot titled "restoring ..."', img: /^restoring/, table: null },
  views: { what: "the explorers' views, driven", img: /^logit lens of/, table: null, drive: driveViews },
};

// Runs in the page: the open notebook's cells' trust and every output as
// JupyterLab rendered it.
function inspectOutputs() {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const model = w && w.content && w.content.model;
  const trusted = model ? Array.from(model.cells).filter((c) => c.type === 'code' && c.trusted).length : -1;
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const outs = panel ? [...panel.querySelectorAll('.jp-OutputArea-output')] : [];
  const visible = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? [Math.round(r.width), Math.round(r.height)] : null;
  };
  return {
    trusted,
    outputs: outs.map((o, k) => {
      const mime = o.getAttribute('data-mime-type') || '';
      const imgs = [...o.querySelectorAll('img')].map((i) => ({
        alt: i.getAttribute('alt') || '',
        size: visible(i),
        loaded: i.complete && i.naturalWidth > 0,
        svg: (i.getAttribute('src') || '').startsWith('data:image/svg+xml'),
      }));
      const tables = [...o.querySelectorAll('table')].map((t) => ({
        text: t.textContent.replace(/\s+/g, ' ').slice(0, 2000),
        size: visible(t),
        bars: [...t.querySelectorAll('span')].filter((s) => s.getBoundingClientRect().width >= 1).length,
        spans: t.querySelectorAll('span').length,
      }));
      // A view of package views: its kind, how many of its tokens are
      // shaded (a background color from a style attribute) and how many
      // have a tooltip (where an attention view's tokens attend).
      const v = o.querySelector('.govene-view');
      const view = v && {
        kind: [...v.classList].find((c) => c !== 'govene-view').replace(/^govene-/, ''),
        shaded: [...v.querySelectorAll('span')].filter((s) => /background:#/.test(s.getAttribute('style') || '')).length,
        titled: v.querySelectorAll('span[title]').length,
      };
      const text = imgs.length || tables.length || view ? '' : o.textContent.trim();
      return { k, mime, imgs, tables, view, text: text.slice(0, 160), textLen: text.length, untrustedSVG: /Cannot display an untrusted/.test(o.textContent) };
    }),
    toasts: [...document.querySelectorAll('.Toastify__toast')].map((t) => t.textContent.slice(0, 160)),
  };
}

// Checks the outputs of a notebook as inspectOutputs saw them; returns the
// problems found and a summary.
function judge(file, seen, { saved }) {
  const problems = [];
  const key = Object.keys(EXPECT).find((k) => baseName(file).startsWith(k));
  if (!key) return { problems: [`${file}: no expectations (add them to EXPECT in browser_test.cjs)`], summary: '' };
  if (saved && seen.trusted !== 0) problems.push(`${file}: ${seen.trusted} code cells are trusted; the saved notebook must be checked untrusted`);
  if (seen.toasts.length) problems.push(`${file}: a pop-up (toast) shows: ${seen.toasts.join(' | ')}`);
  let nImg = 0,
    nTable = 0;
  for (const o of seen.outputs) {
    const where = `${file}: output ${o.k} (${o.mime})`;
    if (o.untrustedSVG) problems.push(`${where} shows "Cannot display an untrusted SVG"`);
    if (o.mime !== 'text/html') continue;
    if (o.view && !o.view.shaded) problems.push(`${where}: the ${o.view.kind} view has no shaded token`);
    if (o.view && !o.view.titled) problems.push(`${where}: the ${o.view.kind} view's tokens have no tooltips`);
    if (EXPECT[key].empty && !o.imgs.length && !o.tables.length && !o.view && o.textLen === 0) continue; // removed widgets
    if (!o.imgs.length && !o.tables.length && !o.view) {
      problems.push(`${where} shows text where a plot or table should be (${o.textLen} chars): ${JSON.stringify(o.text)}`);
    }
    for (const i of o.imgs) {
      nImg++;
      if (!i.svg || !i.loaded || !i.size) problems.push(`${where}: image "${i.alt}" is not a loaded, visible SVG (loaded ${i.loaded}, size ${i.size})`);
    }
    for (const t of o.tables) {
      nTable++;
      if (!t.size) problems.push(`${where}: table "${t.text.slice(0, 40)}" is not visible`);
      if (t.spans && !t.bars) problems.push(`${where}: table "${t.text.slice(0, 40)}" lost its styling: none of its ${t.spans} bars has a width`);
    }
  }
  const alts = seen.outputs.flatMap((o) => o.imgs.filter((i) => i.loaded && i.size).map((i) => i.alt));
  const tables = seen.outputs.flatMap((o) => o.tables.map((t) => t.text));
  for (const rx of EXPECT[key].imgs) {
    if (!alts.some((a) => rx.test(a))) problems.push(`${file}: no visible plot titled ${rx} (plots: ${JSON.stringify(alts)})`);
  }
  for (const rx of EXPECT[key].tables) {
    if (!tables.some((t) => rx.test(t))) problems.push(`${file}: no table matching ${rx}`);
  }
  const kinds = seen.outputs.filter((o) => o.view).map((o) => o.view.kind);
  for (const kind of EXPECT[key].views || []) {
    const n = kinds.filter((k) => k === kind).length;
    if (n !== 1) problems.push(`${file}: ${n} ${kind} views, want 1 (views: ${JSON.stringify(kinds)})`);
  }
  const sizes = seen.outputs.flatMap((o) => o.imgs.map((i) => `${i.size ? i.size.join('x') : 'hidden'}`));
  return { problems, summary: `${nImg} plot(s) ${sizes.join(' ')}, ${nTable} table(s)` };
}

// Scrolls the first output matching an image alt or table text into view.
async function scrollTo(page, img, table) {
  await page.evaluate(
    ([imgSrc, tableSrc]) => {
      const imgRx = imgSrc && new RegExp(imgSrc);
      const tableRx = tableSrc && new RegExp(tableSrc);
      const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
      const e =
        (imgRx && [...panel.querySelectorAll('.jp-OutputArea-output img')].find((i) => imgRx.test(i.getAttribute('alt') || ''))) ||
        (tableRx && [...panel.querySelectorAll('.jp-OutputArea-output table')].find((t) => tableRx.test(t.textContent))) ||
        panel.querySelector('.jp-OutputArea-output[data-mime-type="text/html"]'); // none: the first HTML output
      if (e) e.scrollIntoView({ block: 'center' });
    },
    [img && img.source, table && table.source],
  );
  await page.waitForTimeout(500);
}

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

let opened = 0;

async function openNotebook(page, nb) {
  const t0 = Date.now();
  // A new workspace each time: JupyterLab would otherwise reopen the
  // notebooks opened before as tabs, each with a kernel.
  opened++;
  const tree = nbPath(nb.file).split('/').map(encodeURIComponent).join('/');
  const url = `${LAB_URL}/lab/workspaces/test${opened}/tree/${tree}?token=${TOKEN}`;
  log(`opening ${url.replace(TOKEN, '<token>')}`);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first().waitFor({ timeout: 120000 });
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
  // The saved outputs are rendered with the notebook; give images a moment.
  await page.waitForFunction(() => [...document.querySelectorAll('.jp-OutputArea-output img')].every((i) => i.complete), null, { timeout: 30000 });
  await page.waitForTimeout(1000);
  return t0;
}

// Part 1: the saved notebook, untrusted.
async function checkSaved(page, nb) {
  await openNotebook(page, nb);
  // The news pop-up, when enabled, shows a few seconds after the page loads.
  await page.waitForTimeout(3000);
  const { problems, summary } = judge(nb.file, await page.evaluate(inspectOutputs), { saved: true });
  log(`saved ${nb.file}, untrusted: ${summary}`);
  if (nb.shot) {
    const key = Object.keys(EXPECT).find((k) => baseName(nb.file).startsWith(k));
    const e = key && EXPECT[key];
    await scrollTo(page, e && e.imgs[0], e && e.tables[0]);
    const shot = path.join(SHOTS, nb.shot);
    await page.screenshot({ path: shot });
    log(`screenshot ${shot}`);
  }
  return problems;
}

async function runNotebook(page, nb) {
  const t0 = await openNotebook(page, nb);
  await menu(page, 'Edit', 'Clear Outputs of All Cells');
  await page.waitForFunction(() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output').length === 0, null, { timeout: 10000 });
  log('cleared the saved outputs');

  const tRun = Date.now();
  await menu(page, 'Run', 'Run All Cells');
  log('Run > Run All Cells');
  const c = CHECKS[nb.check];
  if (!c) throw new Error(`${nb.file}: unknown check ${nb.check}`);
  if (c.drive) await c.drive(page, nb);
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

  await page.waitForTimeout(1000);
  const { problems, summary } = judge(nb.file, await page.evaluate(inspectOutputs), { saved: false });
  if (problems.length) throw new Error(`${nb.file} after running:\n  ${problems.join('\n  ')}`);
  log(`${nb.file} after running: ${summary}`);
  await scrollTo(page, c.img, c.table);
  const shot = path.join(SHOTS, nb.shot);
  await page.screenshot({ path: shot });
  log(`screenshot ${shot}`);
  return { file: nb.file, runS, totalS: (Date.now() - t0) / 1000 };
}

// The explorers driveViews changes, in the notebook's order: the view's
// kind, the data attribute that names its selection, and the widget changed
// (the index of the control in the explorer's widgets, and its new value).
const VIEW_STEPS = [
  { kind: 'attention', attr: 'head', control: 1, value: '1', hover: true },
  { kind: 'lens', attr: 'position', control: 0, value: '2' },
  { kind: 'feature', attr: 'feature', control: 0, value: '5' },
];

// Runs in the page: the state of the view of a kind and of its cell: the
// views of that kind in the notebook, the cell's outputs, the selection
// (the view's data attribute), its HTML, whether the cell's widgets are
// all there (the Done button is the last made), and the error outputs.
// With mark, it marks the cell's control-th widget and its Done button
// (data-govene-test) for the test to use.
function viewState([kind, attr, control, mark]) {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const views = panel ? [...panel.querySelectorAll(`.govene-view.govene-${kind}`)] : [];
  const v = views[0];
  const cell = v && v.closest('.jp-CodeCell');
  const widgets = cell ? [...cell.querySelectorAll('.govene-controls select, .govene-controls input')] : [];
  const done = cell && cell.querySelector('.govene-controls button');
  if (mark) document.querySelectorAll('[data-govene-test]').forEach((e) => e.removeAttribute('data-govene-test'));
  if (mark && widgets[control] && done) {
    widgets[control].setAttribute('data-govene-test', 'widget');
    done.setAttribute('data-govene-test', 'done');
  }
  const errors = panel
    ? [...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map((o) => o.textContent.slice(0, 400))
    : [];
  return {
    views: views.length,
    outputs: cell ? cell.querySelectorAll('.jp-OutputArea-output').length : 0,
    value: v ? v.getAttribute(`data-${attr}`) : null,
    html: v ? v.outerHTML : '',
    widgets: widgets.map((w) => w.tagName.toLowerCase() + (w.type ? `:${w.type}` : '')),
    ready: !!done,
    prompt: cell ? cell.querySelector('.jp-InputArea-prompt').textContent.trim() : '',
    errors: errors.filter((t) => /^panic: |exit status [1-9]|error: /m.test(t)),
  };
}

// Polls viewState until ok(state) holds; fails on a cell's error or after
// timeoutS.
async function waitView(page, step, what, timeoutS, ok) {
  const t0 = Date.now();
  for (;;) {
    const s = await page.evaluate(viewState, [step.kind, step.attr, step.control, false]);
    if (s.errors.length) throw new Error(`${step.kind} explorer: a cell failed:\n${s.errors.join('\n---\n')}`);
    if (ok(s)) return s;
    if (Date.now() - t0 > timeoutS * 1000) {
      throw new Error(`${step.kind} explorer: no ${what} after ${timeoutS}s (views ${s.views}, selection ${s.value}, widgets ${s.widgets.join(' ')}, done button ${s.ready})`);
    }
    await page.waitForTimeout(250);
  }
}

// Hovers the last token of the attention view and checks that the tokens
// it attends to show (the view's <style> rule, which a live output keeps),
// with a screenshot (views-hover.png).
async function hoverToken(page, step) {
  const q = page.locator(`.govene-view.govene-${step.kind} .gv-q`).last();
  await q.scrollIntoViewIfNeeded();
  await q.hover();
  const keys = q.locator('.gv-keys');
  await keys.waitFor({ state: 'visible', timeout: 5000 });
  const shaded = await keys.evaluate((e) => [...e.children].filter((s) => /background:#/.test(s.getAttribute('style') || '')).length);
  if (!shaded) throw new Error(`${step.kind} explorer: hovering a token shows no shaded keys`);
  const shot = path.join(SHOTS, 'views-hover.png');
  await page.screenshot({ path: shot });
  log(`  ${step.kind}: hovering the last token shows ${shaded} shaded keys; screenshot ${shot}`);
  await page.mouse.move(0, 0);
}

// Drives testdata/views.ipynb's explorers while its cells run: for each
// step, waits for the view and its widgets, changes the widget as a person
// would (Playwright's selectOption on a <select>; the value and the input
// and change events the browser sends for a moved slider), and checks that
// the view was redrawn in place: the selection it names is the new one,
// its HTML differs, the cell has as many outputs as before and the
// notebook one view of the kind. Then clicks Done and checks the widgets
// go and the last view stays.
async function driveViews(page) {
  for (const step of VIEW_STEPS) {
    const t0 = Date.now();
    const before = await waitView(page, step, 'view with its widgets', 300, (s) => {
      if (s.views > 0 && !s.ready && /^\[\d+\]:$/.test(s.prompt)) {
        throw new Error(`${step.kind} explorer: the cell ended without its widgets (the page's connection to GoNB failed)`);
      }
      return s.views > 0 && s.ready;
    });
    log(`  ${step.kind} explorer ready after ${((Date.now() - t0) / 1000).toFixed(1)}s: ${step.attr} ${before.value}, widgets ${before.widgets.join(' ')}, ${before.outputs} outputs`);
    if (before.value === step.value) throw new Error(`${step.kind} explorer: already at ${step.attr} ${step.value}`);
    await page.evaluate(viewState, [step.kind, step.attr, step.control, true]);
    const widget = page.locator('[data-govene-test="widget"]');
    const t1 = Date.now();
    if (before.widgets[step.control].startsWith('select')) {
      await widget.selectOption(step.value);
    } else {
      await widget.evaluate((e, v) => {
        e.value = v;
        e.dispatchEvent(new Event('input', { bubbles: true }));
        e.dispatchEvent(new Event('change', { bubbles: true }));
      }, step.value);
    }
    const after = await waitView(page, step, `redraw at ${step.attr} ${step.value}`, 60, (s) => s.value === step.value);
    const problems = [];
    if (after.views !== 1) problems.push(`${after.views} views of the kind, want 1`);
    if (after.outputs !== before.outputs) problems.push(`the cell has ${after.outputs} outputs, ${before.outputs} before: the redraw was not in place`);
    if (after.html === before.html) problems.push('the view did not change');
    if (problems.length) throw new Error(`${step.kind} explorer after ${step.attr} ${step.value}: ${problems.join('; ')}`);
    log(`  ${step.kind}: ${step.attr} ${before.value} -> ${after.value} redrawn in place in ${((Date.now() - t1) / 1000).toFixed(1)}s (${before.html.length} -> ${after.html.length} chars, ${after.outputs} outputs)`);
    if (step.hover) await hoverToken(page, step);
    await page.locator('[data-govene-test="done"]').click();
    const end = await waitView(page, step, 'end after Done', 60, (s) => !s.ready && /^\[\d+\]:$/.test(s.prompt));
    if (end.views !== 1 || end.value !== step.value) throw new Error(`${step.kind} explorer after Done: ${end.views} views at ${step.attr} ${end.value}, want 1 at ${step.value}`);
    log(`  ${step.kind}: Done, the cell ended with its last view (${step.attr} ${end.value})`);
  }
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
    const savedProblems = [];
    for (const nb of SAVED) {
      savedProblems.push(...(await checkSaved(page, nb)));
      await page.goto('about:blank');
    }
    if (savedProblems.length) throw new Error(`saved notebooks, untrusted:\n  ${savedProblems.join('\n  ')}`);
    if (SAVED.length) log(`saved notebooks: all ${SAVED.length} show their plots and tables untrusted`);
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
