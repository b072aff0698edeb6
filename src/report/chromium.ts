/**
 * Where the headless browser is that opens reports in tests and takes the README's screenshot: Debian's
 * `chromium` (`CHROMIUM` overrides). Driving it is left to dev tooling (playwright-core); the report
 * itself never needs a browser.
 */
import { findOptionalTool, type ToolSpec } from '../sim/tools.js';

export const CHROMIUM: ToolSpec = {
  name: 'Chromium',
  env: 'CHROMIUM',
  candidates: ['chromium', 'chromium-browser', 'google-chrome'],
  hint: 'install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM to its path',
};

/** The Chromium executable, or null when none is installed. */
export function findChromium(): string | null {
  return findOptionalTool(CHROMIUM)?.path ?? null;
}

/** Flags for headless runs as root in a container (no sandbox there) without a GPU. */
export const CHROMIUM_ARGS: readonly string[] = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];
