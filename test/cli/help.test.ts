/**
 * The CLI's surface, command by command: `--help` (usage, description and an example) and one bad
 * argument or missing file each, which must end with exit code 1 and a one-line error — no stack trace.
 * Every registered command needs a case here: a new command without one fails the first test.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { runCli } from '../helpers/run-cli.js';

const MISSING = '/nonexistent/qkeras-model';

/** Per command: arguments that are wrong, and the one error line they must produce. */
const BAD: Readonly<Record<string, { readonly args: readonly string[]; readonly error: RegExp }>> = {
  demo: { args: ['--epochs', '0'], error: /^error: --epochs: "0" is not allowed; expected a whole number from 1 to 1000$/ },
  train: { args: ['--recipe', 'float,bogus'], error: /^error: --recipe: unknown run "bogus"; expected float, qmodel, quantize$/ },
  qstats: { args: [MISSING], error: /^error: model \/nonexistent\/qkeras-model does not exist$/ },
  quantize: { args: [MISSING, '--config', '/nonexistent/cfg.json', '--out', '/tmp/never'], error: /^error: --config: \/nonexistent\/cfg\.json does not exist$/ },
  predict: { args: [MISSING, '--engine', 'ir', '--input', '/nonexistent/in.json', '--out', '/tmp/never.json'], error: /^error: input file \/nonexistent\/in\.json does not exist$/ },
  compile: { args: [MISSING, '--target', 'c', '--out', '/tmp/never'], error: /^error: model \/nonexistent\/qkeras-model does not exist$/ },
  verify: { args: [MISSING, '--target', 'fpga'], error: /^error: --target must be one of c, verilog, got "fpga"$/ },
  synth: { args: [MISSING, '--family', 'asic'], error: /^error: --family must be one of generic, xilinx, ice40, got "asic"$/ },
  estimate: { args: [MISSING, '--family', 'asic'], error: /^error: --family must be one of [a-z0-9, ]+, got "asic"$/ },
  report: { args: [MISSING, '--images', 'many'], error: /^error: --images: "many" is not allowed; expected a whole number from 0 to 60000$/ },
  import: { args: [MISSING, '--out', '/tmp/never'], error: /^error: model \/nonexistent\/qkeras-model does not exist$/ },
};

const names = buildProgram().commands.map((c) => c.name());

describe('qkeras --help', () => {
  it('lists every command, and every command has a bad-argument case here', async () => {
    const r = await runCli('--help');
    expect(r.code).toBe(0);
    for (const name of names) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect([...names].sort()).toEqual(Object.keys(BAD).sort());
  });

  it('an unknown command is a one-line error with exit code 1', async () => {
    const r = await runCli('bogus');
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe("error: unknown command 'bogus'");
  });
});

describe.each(names)('qkeras %s', (name) => {
  it('--help shows the usage, the description and an example', async () => {
    const r = await runCli(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: qkeras ${name} `);
    const description = buildProgram().commands.find((c) => c.name() === name)!.description();
    expect(description.length).toBeGreaterThan(20);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(description); // commander wraps long lines
    expect(r.stdout).toMatch(/^Example/m);
    expect(r.stdout).toMatch(new RegExp(`qkeras ${name}\\b.*$`, 'm'));
  });

  it('a bad argument or missing file is one error line, exit code 1', async () => {
    const bad = BAD[name];
    expect(bad, `no bad-argument case for ${name}`).toBeDefined();
    const r = await runCli(name, ...bad!.args);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(bad!.error);
  }, 60_000);

  it('an unknown option is rejected before anything runs', async () => {
    // After otherwise complete arguments, so that no missing required option is reported instead.
    const r = await runCli(name, ...BAD[name]!.args, '--no-such-option');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    // commander's line, then the hint the program adds after every usage error
    expect(r.stderr.trimEnd().split('\n')).toEqual(["error: unknown option '--no-such-option'", '(run with --help for usage)']);
  });
});
