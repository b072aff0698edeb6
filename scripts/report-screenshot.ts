/**
 * Screenshot of an HTML report in headless Chromium (Debian `chromium`, or `CHROMIUM`), for the README.
 *
 * Usage: npx tsx scripts/report-screenshot.ts <report.html> <out.png> [--width 1400] [--height 1600]
 *        [--scroll <css selector>] [--full]
 * `--scroll` starts the shot at an element (e.g. `#layers`); `--full` captures the whole page.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, findChromium } from '../src/report/chromium.js';

interface Options {
  html: string;
  png: string;
  width: number;
  height: number;
  scroll: string | null;
  full: boolean;
}

function parse(argv: readonly string[]): Options {
  const positional: string[] = [];
  const o = { width: 1400, height: 1600, scroll: null as string | null, full: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    if (a === '--full') o.full = true;
    else if (a === '--width' || a === '--height') o[a.slice(2) as 'width' | 'height'] = Number(argv[++i]);
    else if (a === '--scroll') o.scroll = argv[++i] ?? null;
    else positional.push(a);
  }
  if (positional.length !== 2 || !(o.width > 0) || !(o.height > 0)) {
    throw new Error('usage: report-screenshot <report.html> <out.png> [--width N] [--height N] [--scroll SELECTOR] [--full]');
  }
  return { html: positional[0]!, png: positional[1]!, ...o };
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(`${CHROMIUM.name} not found; ${CHROMIUM.hint}`);
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage({ viewport: { width: o.width, height: o.height } });
    await page.goto(pathToFileURL(resolve(o.html)).href);
    if (o.scroll !== null) await page.locator(o.scroll).first().evaluate((el) => el.scrollIntoView());
    await page.screenshot({ path: o.png, fullPage: o.full });
    console.log(`${o.png} (${o.width}x${o.full ? 'full page' : o.height})`);
  } finally {
    await browser.close();
  }
}

await main();
