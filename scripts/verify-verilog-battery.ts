/**
 * The Verilog back-end on every model of the IR issue's lowering battery (test/lower/battery.test.ts):
 * each model lowered, emitted in the parallel and the stream architecture (where one does not apply,
 * the reason is printed), linted with `verilator --lint-only -Wall`, built with the Verilator harness and
 * run on 2 x N generated inputs (verify's generator and the battery's sampler: rounding ties, saturating
 * values) with random input gaps and back-pressure; every output code is compared with the golden
 * model. Prints one row per model and architecture — inputs, mismatching samples, lint, build and run
 * seconds, latency and the interval between samples in a free run — and the total wall time. Exits 1 on
 * any mismatch or lint message.
 *
 *   npm run verify:verilog-battery -- [--per-kind 500] [--only convStack_1,residual_2] [--arch parallel|stream]
 *                                     [--jobs 2] [--seed 1] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { ready } from '../src/backend/index.js';
import type { VerilogArch } from '../src/codegen/verilog-manifest.js';
import { cpuSeconds } from './cpu-time.js';
import { batteryEntries, batteryModel, verifyBatteryArch, type ArchResult, type BatteryModel } from '../test/sim/verilog-battery.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt;
}

const perKind = Number(flag('per-kind', '500'));
const jobs = Math.max(1, Number(flag('jobs', '2')));
const seed = Number(flag('seed', '1'));
const only = flag('only', '');
const archFlag = flag('arch', '');
const jsonOut = flag('json', '');
const archs: VerilogArch[] = archFlag === '' ? ['parallel', 'stream'] : [archFlag as VerilogArch];

await ready();
const started = performance.now();
const cpuStarted = cpuSeconds();

// Lowering (and the two trainings) run first, in this process; builds and simulations then overlap.
const models: BatteryModel[] = [];
for (const e of batteryEntries()) {
  const m = await batteryModel(e);
  if (only === '' || only.split(',').includes(m.name)) models.push(m);
}
const tasks = models.flatMap((m) => archs.map((arch) => ({ m, arch })));
const results: ArchResult[] = new Array(tasks.length);
let next = 0;
async function worker(): Promise<void> {
  while (next < tasks.length) {
    const k = next;
    next += 1;
    const { m, arch } = tasks[k]!;
    const r = await verifyBatteryArch(m, arch, { perKind, seed: seed + k });
    results[k] = r;
    const what = r.skipped ?? r.error ?? `${r.mismatches} mismatching of ${r.inputs}, lint ${r.lintClean ? 'clean' : 'NOT clean'}`;
    process.stderr.write(`[${k + 1}/${tasks.length}] ${m.name} ${arch}: ${what}\n`);
  }
}
await Promise.all(Array.from({ length: jobs }, () => worker()));
const wall = (performance.now() - started) / 1000;
const cpu = cpuSeconds() - cpuStarted;

const header = ['model', 'arch', 'inputs', 'mismatches', 'lint', 'build s', 'run s', 'latency', 'cycles/sample', 'fifo words'];
const rows = results.map((r) =>
  r.skipped !== null || r.error !== null
    ? [r.model, r.arch, '-', '-', r.skipped === null ? (r.lintClean ? 'clean' : 'WARN') : '-', '-', '-', '-', '-', r.skipped === null ? `FAILED: ${r.error}` : `n/a: ${r.skipped}`]
    : [
        r.model,
        r.arch,
        String(r.inputs),
        String(r.mismatches),
        r.lintClean ? 'clean' : 'WARN',
        r.buildSeconds.toFixed(1),
        r.runSeconds.toFixed(1),
        String(r.latency),
        r.arch === 'parallel' ? `II ${r.interval}` : r.interval.toFixed(1),
        r.arch === 'stream' ? String(r.fifoWords) : '-',
      ],
);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));

const ran = results.filter((r) => r.skipped === null);
const bad = ran.filter((r) => r.mismatches > 0 || !r.lintClean || r.error !== null);
const sum = (f: (r: ArchResult) => number): number => ran.reduce((a, r) => a + f(r), 0);
console.log(
  `\n${models.length} models, ${ran.length} designs (${results.length - ran.length} not applicable), ${sum((r) => r.inputs)} inputs simulated, ` +
    `${sum((r) => r.mismatches)} mismatching samples, ${ran.filter((r) => !r.lintClean).length} designs with lint messages; ` +
    `build ${sum((r) => r.buildSeconds).toFixed(0)} s, run ${sum((r) => r.runSeconds).toFixed(0)} s; total wall time ${wall.toFixed(0)} s, CPU ${cpu.toFixed(0)} s (${jobs} jobs)`,
);
for (const r of bad) {
  console.log(`FAILED ${r.model} ${r.arch}: ${r.error ?? r.firstMismatch ?? ''} ${r.lintClean ? '' : r.lintMessages}`);
}
if (jsonOut !== '') writeFileSync(jsonOut, `${JSON.stringify({ perKind, seed, wall, cpu, results }, null, 2)}\n`);
process.exit(bad.length > 0 ? 1 : 0);
