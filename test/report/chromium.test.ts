/**
 * The HTML report in a real browser: headless Debian Chromium (`CHROMIUM` overrides) driven by
 * playwright-core opens report.html from disk and must load it without console errors or page errors,
 * request nothing but the file itself, run no script (the model name carries one), and show the tables
 * with one row per layer and every plot as a rendered SVG. Skipped, saying so, without Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { CHROMIUM_ARGS, findChromium } from '../../src/report/chromium.js';
import { writeReport } from '../../src/report/build.js';
import { buildFixture, HOSTILE, HOSTILE_SOURCE } from './fixture.js';

const executablePath = findChromium();
const dir = mkdtempSync(join(tmpdir(), 'qk-report-browser-'));
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(executablePath === null)('report.html in headless Chromium (skipped: Chromium not installed; apt-get install chromium)', () => {
  beforeAll(async () => {
    await ready();
    browser = await chromium.launch({ executablePath: executablePath!, args: [...CHROMIUM_ARGS] });
  }, 120_000);

  it('loads without errors or requests and shows the tables and plots', async () => {
    const { data } = buildFixture();
    const html = join(dir, 'report.html');
    writeReport(data, html);
    const page = await browser!.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(html).href;
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.ok()).toBe(true);

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.title()).toBe(`qkeras-ts report: ${HOSTILE}`);
    expect(await page.locator('header .meta code').nth(1).textContent()).toBe(HOSTILE_SOURCE);

    expect(await page.locator('#layers-model tbody tr').count()).toBe(data.layers.length);
    expect(await page.locator('#layers-hw tbody tr').count()).toBe(data.layers.length);
    expect(await page.locator('#layers-model tbody tr td:first-child').allTextContents()).toEqual(data.layers.map((l) => l.name));
    expect(await page.locator('#accuracy-table tbody tr').count()).toBe(data.accuracy!.entries.length);

    const plots = data.quantizerFigures.length + data.seedFigures!.length + data.weightHistograms.length + data.activationHistograms.length;
    const svgs = page.locator('figure svg');
    expect(await svgs.count()).toBe(plots);
    const sizes = await svgs.evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.width, r.height]));
    expect(sizes.filter(([w, h]) => !(w! > 100 && h! > 50))).toEqual([]);
    // Each line plot draws its curves; each histogram at least one bar.
    expect(await page.locator('figure svg polyline').count()).toBe(
      data.quantizerFigures.reduce((s, f) => s + f.series.length, 0) + data.seedFigures!.reduce((s, f) => s + f.series.length, 0),
    );
    await page.close();
  }, 120_000);
});
