// tests/browser.cjs - drive the search page in headless Chromium (run by
// tests/browser.sh, which starts the server).
//
//   node tests/browser.cjs BASE_URL OUT_DIR NPM_DIR
//
// A person's session: open the page, type a query, see the tiles, open a
// photo from the keyboard, step through and close it, run a blocked query
// and see the banner, go back and forward, reload a shared URL; plus the
// empty and error states (the API answer replaced for those two only).
// Every console error or CSP violation fails the test.  Screenshots go to
// OUT_DIR.  Prints "N passed, N failed"; exit status 1 on any failure.
'use strict';

const path = require('path');
const fs = require('fs');

const [base, outDir, npmDir] = process.argv.slice(2);
if (!base || !outDir || !npmDir) {
  console.error('usage: node browser.cjs BASE_URL OUT_DIR NPM_DIR');
  process.exit(2);
}
const { chromium } = require(path.join(npmDir, 'node_modules', 'playwright-core'));

const QUERY = process.env.BROWSER_QUERY || 'a dog running on the grass';
const BLOCKED = process.env.BROWSER_BLOCKED_QUERY || 'kids playing in the park';
const CHROMIUM = process.env.PICSEEK_CHROMIUM || '/usr/bin/chromium';

let passed = 0, failed = 0;
function check(name, cond, detail) {
  if (cond) { passed++; return; }
  failed++;
  console.log(`FAIL: ${name}${detail !== undefined ? ': ' + detail : ''}`);
}

async function apiResults(q) {
  const res = await fetch(`${base}api/search?` + new URLSearchParams({ q, k: '48' }));
  return res.json();
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(outDir, 'profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const consoleErrors = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    // ---- the start page ----
    await page.goto(base);
    check('empty state shown', await page.isVisible('#empty'));
    check('search box focused', await page.evaluate(() => document.activeElement.id === 'q'));
    await page.screenshot({ path: path.join(outDir, 'start.png') });

    // ---- type a query, press Enter ----
    const want = await apiResults(QUERY);
    const n = want.results.length;
    const nMasked = want.results.filter((r) => r.restricted).length;
    check('the API found photos for the query', n > 0, JSON.stringify(want).slice(0, 200));
    await page.type('#q', QUERY);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#grid .tile');
    const tiles = await page.locator('#grid .tile').count();
    check(`${n} result tiles`, tiles === n, `saw ${tiles}`);
    check('masked tiles for restricted photos',
      (await page.locator('#grid .tile.masked').count()) === nMasked);
    if (nMasked > 0) {
      const txt = await page.locator('#grid .tile.masked').first().innerText();
      check('masked tile carries the legal text', txt.includes('unavailable in your country'), txt);
      check('masked tile has no image', (await page.locator('#grid .tile.masked img').count()) === 0);
    }
    check('the query is in the URL', new URL(page.url()).searchParams.get('q') === QUERY, page.url());
    check('status line counts the photos',
      (await page.innerText('#status')).startsWith(`${n} photo`));
    check('scores shown', /^\d+\.\d\d$/.test(await page.locator('#grid .score').first().innerText()));
    // thumbnails of the first row really loaded
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll('#grid .tile img')].slice(0, 4);
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });
    const thumbW = await page.evaluate(() => document.querySelector('#grid .tile img').naturalWidth);
    check('thumbnail decoded and small', thumbW > 0 && thumbW <= 400, thumbW);
    await page.screenshot({ path: path.join(outDir, 'grid.png') });

    // ---- keyboard: Tab to the first tile, Enter opens it ----
    let onTile = false;
    for (let i = 0; i < 8 && !onTile; i++) {
      await page.keyboard.press('Tab');
      onTile = await page.evaluate(() => document.activeElement.classList.contains('tile-btn'));
    }
    check('Tab reaches the first tile', onTile);
    const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check('focused tile shows a focus ring', focusVisible !== 'none', focusVisible);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#viewer[open]');
    await page.waitForFunction(() => {
      const i = document.getElementById('viewer-img');
      return i.complete && i.naturalWidth > 0;
    });
    const big = await page.evaluate(() => document.getElementById('viewer-img').naturalWidth);
    check('the photo opens large', big > thumbW, `${big} vs thumbnail ${thumbW}`);
    // Under the photo, why it matched: reasons from /api/explain.
    let why = '';
    try {
      await page.waitForFunction(() => document.getElementById('viewer-why').textContent.length > 0,
        null, { timeout: 10000 });
      why = await page.textContent('#viewer-why');
    } catch (e) { /* checked below */ }
    check('the viewer says why the photo matched',
      /^Matched: \S/.test(why) && (await page.$$('#viewer-why .why-item b')).length > 0, why);
    await page.screenshot({ path: path.join(outDir, 'viewer.png') });
    const src1 = await page.getAttribute('#viewer-img', 'src');
    if (n - nMasked > 1) {
      await page.keyboard.press('ArrowRight');
      const src2 = await page.getAttribute('#viewer-img', 'src');
      check('ArrowRight shows the next photo', src2 && src2 !== src1, `${src1} -> ${src2}`);
    }
    await page.keyboard.press('Escape');
    await page.waitForSelector('#viewer', { state: 'hidden' });
    check('Esc closes the viewer', !(await page.evaluate(() => document.getElementById('viewer').open)));
    check('focus returns to a tile',
      await page.evaluate(() => document.activeElement.classList.contains('tile-btn')));

    // ---- a blocked query ----
    await page.fill('#q', BLOCKED);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#banner:not([hidden])');
    const banner = await page.innerText('#banner');
    check('the disclaimer banner', banner.includes('guardian'), banner);
    check('no tiles for a blocked query', (await page.locator('#grid .tile').count()) === 0);
    await page.screenshot({ path: path.join(outDir, 'blocked.png') });

    // ---- back and forward ----
    await page.goBack();
    await page.waitForSelector('#grid .tile');
    check('Back returns to the first search', (await page.inputValue('#q')) === QUERY);
    check('Back hides the banner', await page.isHidden('#banner'));
    check('Back shows the tiles again', (await page.locator('#grid .tile').count()) === n);
    await page.goForward();
    await page.waitForSelector('#banner:not([hidden])');
    check('Forward shows the banner again', (await page.inputValue('#q')) === BLOCKED);

    // ---- a shared URL opens on its results ----
    await page.goto(`${base}?` + new URLSearchParams({ q: QUERY }));
    await page.waitForSelector('#grid .tile');
    check('a bookmarked URL shows its results', (await page.locator('#grid .tile').count()) === n);

    check('no console errors or CSP violations', consoleErrors.length === 0, consoleErrors.join(' | '));
    consoleErrors.length = 0;

    // ---- empty and error states (API answers replaced) ----
    await page.route('**/api/search?*', (r) => r.fulfill({
      status: 200, contentType: 'application/json',
      body: JSON.stringify({ query: 'x', blocked: false, disclaimer: null, results: [] }),
    }));
    await page.fill('#q', 'nothing at all');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#noresults:not([hidden])');
    check('empty state for no results', (await page.locator('#grid .tile').count()) === 0);
    await page.unroute('**/api/search?*');
    await page.route('**/api/search?*', (r) => r.fulfill({
      status: 500, contentType: 'application/json',
      body: JSON.stringify({ error: 'the index is on fire', status: 500 }),
    }));
    await page.fill('#q', 'anything');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#error:not([hidden])');
    check('error state shows the reason', (await page.innerText('#error')).includes('the index is on fire'));
    await page.screenshot({ path: path.join(outDir, 'error.png') });
    await page.unroute('**/api/search?*');
    // Chrome logs the (mocked) 500 as a console error: expected here.
    const unexpected = consoleErrors.filter((m) => !m.includes('status of 500'));
    check('only the mocked 500 in the console', unexpected.length === 0, unexpected.join(' | '));
    consoleErrors.length = 0;
    await page.click('#retry');
    await page.waitForSelector('#grid .tile, #noresults:not([hidden])');
    check('Retry recovers', await page.isHidden('#error'));

    // ---- a narrow screen: the grid reflows ----
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${base}?` + new URLSearchParams({ q: QUERY }));
    await page.waitForSelector('#grid .tile');
    const cols = await page.evaluate(() =>
      getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length);
    check('two columns on a phone', cols === 2, cols);
    await page.screenshot({ path: path.join(outDir, 'phone.png') });

    check('no console errors afterwards', consoleErrors.length === 0, consoleErrors.join(' | '));
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}, (e) => {
  console.log(`FAIL: ${e && e.stack ? e.stack : e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
