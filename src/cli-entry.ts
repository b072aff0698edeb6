/** Runs the CLI from source (`npx tsx src/cli-entry.ts ...`), as bin/qkeras.js runs the built one. */
import { main } from './cli.js';

await main(process.argv);
