// browser.cjs — opens each report in headless Chromium (Debian's, a fresh profile, driven by
// puppeteer-core from the build folder's npm install) and fails on any console error, page
// error or request that leaves the file (a report must open offline), on a chart that did not
// draw (no ECharts instance, fewer series than its data holds, or a canvas with almost no ink),
// and saves a full-page PNG of each beside it. Run by tests/browser.sh.
//   node browser.cjs NPM_DIR CHROMIUM OUT_DIR REPORT.html...
'use strict';
const path = require('path');
const [npmDir, chromium, outDir, ...reports] = process.argv.slice(2);
const puppeteer = require(path.join(npmDir, 'node_modules', 'puppeteer-core'));

// Inside the page: each chart's expected and drawn series, and how many of its canvas pixels
// are not background (white or transparent).
function inspect() {
  const out = [];
  document.querySelectorAll('.plot').forEach((div) => {
    const inst = echarts.getInstanceByDom(div);
    const r = {id: div.id, kind: div.dataset.kind, expected: +div.dataset.series, series: -1,
               points: 0, ink: 0};
    if (inst) {
      const opt = inst.getOption();
      r.series = opt.series.length;
      opt.series.forEach((s) => { r.points += (s.data || []).length; });
    }
    const cv = div.querySelector('canvas');
    if (cv && cv.width > 0 && cv.height > 0) {
      const ctx = cv.getContext('2d');
      const img = ctx.getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 0; i < img.length; i += 4)
        if (img[i + 3] > 0 && (img[i] < 235 || img[i + 1] < 235 || img[i + 2] < 235)) r.ink++;
    }
    out.push(r);
  });
  return out;
}

(async () => {
  let passed = 0, failed = 0;
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
           '--hide-scrollbars', '--font-render-hinting=none'],
  });
  for (const file of reports) {
    const name = path.basename(file, '.html');
    const errors = [];
    const page = await browser.newPage();
    await page.setViewport({width: 1400, height: 900});
    page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
    page.on('pageerror', (e) => errors.push('page error: ' + e.message));
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const u = req.url();
      if (u.startsWith('file:') || u.startsWith('data:') || u.startsWith('blob:')) req.continue();
      else {
        errors.push('request leaves the file: ' + u);
        req.abort();
      }
    });
    await page.goto('file://' + path.resolve(file), {waitUntil: 'load'});
    const charts = await page.evaluate(inspect);
    if (!charts.length) errors.push('no chart on the page');
    for (const c of charts) {
      if (c.series < 0) errors.push(`${c.id} (${c.kind}): no ECharts instance`);
      else if (c.series !== c.expected)
        errors.push(`${c.id} (${c.kind}): ${c.series} series drawn, ${c.expected} in the data`);
      if (c.points === 0) errors.push(`${c.id} (${c.kind}): no data points`);
      if (c.ink < 500) errors.push(`${c.id} (${c.kind}): canvas nearly blank (${c.ink} pixels)`);
    }
    const png = path.join(outDir, name + '.png');
    await page.screenshot({path: png, fullPage: true});
    await page.close();
    if (errors.length) {
      failed++;
      console.log(`FAIL ${file}:`);
      for (const e of errors) console.log('  ' + e);
    } else {
      passed++;
      const series = charts.reduce((a, c) => a + c.series, 0);
      console.log(`ok   ${file}: ${charts.length} charts drew (${series} series), no console ` +
                  `error, nothing fetched; screenshot ${png}`);
    }
  }
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log('browser test: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
