/**
 * The `qkeras` command line: a thin shell over the library. Each command lives in src/cli/commands and is
 * added to the program here; `main` owns exit codes and error printing.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT_OK, reportFailure } from './cli/errors.js';
import { commands } from './cli/commands/index.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('qkeras')
    .description('QKeras in TypeScript: quantization-aware training, hardware cost, bit-exact C and Verilog')
    .version(packageVersion())
    .option('--debug', 'print stack traces of errors')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and exits with the documented code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  let code = EXIT_OK;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const debug = argv.includes('--debug');
    code = reportFailure(err, debug, { error: (line) => console.error(line) });
  }
  process.exitCode = code;
}
