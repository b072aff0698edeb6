#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled package (dist/cli.js, built by `npm install`'s prepare step).
import('../dist/cli.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err && err.message ? err.message : String(err));
  process.exit(2);
});
