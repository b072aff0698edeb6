/**
 * `npm run bench:estimate`: time of `estimateHardware` (the lowered graph in hand) on the jet taggers
 * (parallel, with and without `share`), the MNIST CNNs in the stream architecture and a few calibration
 * grid designs — warm (median after warm-up calls) and first call in a fresh process (median over
 * BENCH_COLD_RUNS child processes, each loading the model, then timing its one estimate: what
 * `qkeras estimate` pays). With `-- --baseline <src dir>` (a copy of an older `src/`, e.g. extracted with
 * `git archive <commit> src | tar -x -C /tmp/old`) the same cases run on that tree's estimator in the
 * same run, and the table prints the speed-ups. Writes bench/results/estimate.json. Not a test: figures
 * on a shared machine are noisy; read the ratios.
 *
 *   npm run bench:estimate [-- --baseline /tmp/old/src] [--only NAME]
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ready } from '../src/backend/index.js';
import type { Graph } from '../src/ir/graph.js';
import { LoadedModel } from '../src/engines/index.js';
import { createQModel } from '../src/models/labbook.js';
import { setSeed } from '../src/quantizers/phase.js';
import { estimateHardware, type HardwareEstimate, type HardwareOptions } from '../src/ops/hw-cost/index.js';
import { buildDesign, calibrationGrid } from '../test/ops/hw-cost-grid.js';
import { communityModel, loadCommunityModel, loadJetTaggerQ6 } from '../test/import/community-models.js';
import { measure, writeResult } from './harness.js';

type Estimator = (graph: Graph, options: HardwareOptions) => HardwareEstimate;

interface Case {
  readonly name: string;
  readonly load: () => Promise<Graph>;
  readonly options: HardwareOptions;
}

const GRID = ['wide_bits6_16x8x5_in16', 'scnn_b4_same_r3', 'sdense_bits3_24x24x16x10_in2u_r1'];

function gridDesign(name: string): () => Promise<Graph> {
  return () => {
    const spec = calibrationGrid().find((s) => s.name === name);
    if (spec === undefined) throw new Error(`no calibration grid design ${name}`);
    return Promise.resolve(buildDesign(spec));
  };
}

function gridOptions(name: string): HardwareOptions {
  const spec = calibrationGrid().find((s) => s.name === name)!;
  return { arch: spec.arch, ...(spec.reuse === undefined ? {} : { reuse: spec.reuse }) };
}

const jet3 = async (): Promise<Graph> => (await loadCommunityModel(communityModel('qkeras_3layer'))).graph();
const jetQ6 = async (): Promise<Graph> => (await loadJetTaggerQ6()).graph();
const CASES: readonly Case[] = [
  { name: 'qkeras_3layer parallel', load: jet3, options: { arch: 'parallel' } },
  { name: 'qkeras_3layer parallel share', load: jet3, options: { arch: 'parallel', share: true } },
  { name: 'KERAS_3layer_q6 parallel', load: jetQ6, options: { arch: 'parallel' } },
  { name: 'KERAS_3layer_q6 parallel share', load: jetQ6, options: { arch: 'parallel', share: true } },
  { name: 'qkeras_mnist_cnn stream', load: async () => (await loadCommunityModel(communityModel('qkeras_mnist_cnn'))).graph(), options: { arch: 'stream' } },
  {
    // The lab book's CNN (seeded initial weights; the trained one has the same structure).
    name: 'labbook QModel stream',
    load: () => {
      setSeed(1);
      return Promise.resolve(new LoadedModel('labbook_qmodel', createQModel(), 'quantized_bits(16,0,1)').graph());
    },
    options: { arch: 'stream' },
  },
  ...GRID.map((name) => ({ name: `grid ${name}`, load: gridDesign(name), options: gridOptions(name) })),
];

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 3);
const WARM_REPS = Number(process.env.BENCH_WARM_REPS ?? 7);

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function estimatorOf(srcDir: string | undefined): Promise<Estimator> {
  if (srcDir === undefined) return estimateHardware;
  const mod = (await import(join(resolve(srcDir), 'ops', 'hw-cost', 'index.ts'))) as { estimateHardware: Estimator };
  return mod.estimateHardware;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Child mode: load one case, time its first estimate, print the milliseconds. */
async function child(name: string, srcDir: string | undefined): Promise<void> {
  await ready();
  const c = CASES.find((x) => x.name === name)!;
  const graph = await c.load();
  const estimate = await estimatorOf(srcDir);
  const t0 = performance.now();
  estimate(graph, c.options);
  console.log(`ms=${performance.now() - t0}`);
}

/** First-call milliseconds of a case: the median over fresh processes. */
function firstCall(name: string, srcDir: string | undefined): number {
  const runs: number[] = [];
  for (let i = 0; i < COLD_RUNS; i += 1) {
    const args = ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', name, ...(srcDir === undefined ? [] : ['--baseline', srcDir])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const m = /ms=([\d.]+)/.exec(r.stdout);
    if (r.status !== 0 || m === null) throw new Error(`child run of ${name} failed: ${r.stderr.slice(-500)}`);
    runs.push(Number(m[1]));
  }
  return median(runs);
}

async function warm(c: Case, graph: Graph, estimate: Estimator): Promise<number> {
  const m = await measure(c.name, () => estimate(graph, c.options), { itemsPerCall: 1, unit: 'estimates/s', warmupCalls: 2, repetitions: WARM_REPS });
  return 1000 / m.rate;
}

async function main(): Promise<void> {
  const baseline = flag('baseline');
  const childCase = flag('child');
  if (childCase !== undefined) {
    await child(childCase, baseline);
    return;
  }
  await ready();
  const only = flag('only');
  const cases = CASES.filter((c) => only === undefined || c.name.includes(only));
  const fresh = await estimatorOf(undefined);
  const old = baseline === undefined ? null : await estimatorOf(baseline);
  const rows: Record<string, number | string | null>[] = [];
  const fmt = (v: number | null): string => (v === null ? '-' : v.toFixed(1)).padStart(9);
  const head = `${'case'.padEnd(50)}${'first ms'.padStart(9)}${'warm ms'.padStart(9)}`;
  console.log(old === null ? head : `${head}${'old 1st'.padStart(9)}${'old warm'.padStart(9)}${'x 1st'.padStart(8)}${'x warm'.padStart(8)}`);
  for (const c of cases) {
    const graph = await c.load();
    const w = await warm(c, graph, fresh);
    const f = firstCall(c.name, undefined);
    const ow = old === null ? null : await warm(c, graph, old);
    const of = old === null ? null : firstCall(c.name, baseline);
    const ratio = (a: number | null, b: number): string => (a === null ? '' : `${(a / b).toFixed(1)}x`.padStart(8));
    console.log(`${c.name.padEnd(50)}${fmt(f)}${fmt(w)}${old === null ? '' : `${fmt(of)}${fmt(ow)}${ratio(of, f)}${ratio(ow, w)}`}`);
    rows.push({ case: c.name, firstMs: f, warmMs: w, baselineFirstMs: of, baselineWarmMs: ow });
  }
  const load = (await import('node:os')).loadavg();
  console.log(`\nfirst: median of ${COLD_RUNS} fresh processes (the model loaded, then one estimate); warm: median of ${WARM_REPS} after 2 warm-up calls; load average ${load.map((x) => x.toFixed(2)).join(' ')}`);
  writeResult(join(import.meta.dirname, 'results', 'estimate.json'), { baseline: baseline ?? null, coldRuns: COLD_RUNS, warmReps: WARM_REPS, loadavg: load, rows });
}

await main();
