/**
 * Child-process entry of backend-select.test.ts: selects the backend under the inherited QKERAS_BACKEND and
 * prints one JSON line, `backendInfo()` or the error, on stdout.
 */
import { backendInfo, ready } from '../../src/backend/index.js';

try {
  await ready();
  console.log(JSON.stringify(backendInfo()));
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}
