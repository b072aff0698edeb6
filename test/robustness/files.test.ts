/**
 * Nothing half-written, nothing outside what the user named. Every file the CLI and the library write
 * goes through src/utils/atomic-file.ts (temp file + rename; an audit of src/ keeps it that way); a
 * rename that fails part-way through a multi-file output (C sources, Verilog, a saved model) rolls back
 * to the previous generation, whole; a process killed while writing leaves every file either old or new,
 * never cut; and names from model content or --name never steer a path out of the output directory.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ready } from '../../src/backend/index.js';
import { emitC } from '../../src/codegen/c.js';
import { emitVerilog } from '../../src/codegen/verilog.js';
import { QDense } from '../../src/layers/index.js';
import { lowerModel } from '../../src/lower/index.js';
import { writeFileAtomic, writeFilesAtomic } from '../../src/utils/atomic-file.js';
import { saveQmodel } from '../../src/utils/save-load.js';
import { randomizeWeights, rng } from '../lower/zoo.js';

// renameSync stays the real one unless a test makes it fail.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, renameSync: vi.fn(real.renameSync) };
});

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir = '';
let realRename: typeof fs.renameSync;

beforeAll(async () => {
  await ready();
  realRename = (await vi.importActual<typeof import('node:fs')>('node:fs')).renameSync;
  dir = mkdtempSync(join(tmpdir(), 'qk-files-'));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.mocked(fs.renameSync).mockRestore();
});

/** Every file below `root` with its bytes. */
function snapshot(root: string): Map<string, string> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(root, f)).isFile());
  return new Map(files.sort().map((f) => [f, readFileSync(join(root, f), 'latin1')]));
}

/** Makes the `n`-th rename from now fail the way a full disk or a vanished directory does. */
function failRename(n: number): void {
  let calls = 0;
  vi.mocked(fs.renameSync).mockImplementation((from, to) => {
    calls += 1;
    if (calls === n) throw Object.assign(new Error(`ENOSPC: no space left on device, rename '${String(from)}' -> '${String(to)}'`), { code: 'ENOSPC' });
    realRename(from, to);
  });
}

function smallModel(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [6], name: 'x' });
  let x = new QDense({ units: 5, kernelQuantizer: 'quantized_bits(4,0,1)', biasQuantizer: 'quantized_bits(6,2,1)', activation: 'quantized_relu(4,2)', name: 'fc1' }).apply(input) as tf.SymbolicTensor;
  x = new QDense({ units: 3, kernelQuantizer: 'quantized_bits(4,0,1)', name: 'fc2' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'small' });
  randomizeWeights(model, rng(seed));
  return model;
}

describe('atomic outputs', () => {
  it('src/ writes files only through atomic-file.ts, or into scratch and cache directories it creates itself', () => {
    // Files allowed to write directly, and why: each writes into a mkdtemp scratch directory or a cache
    // entry it renames into place itself.
    const allowed = new Set([
      'src/utils/atomic-file.ts', // the helper itself
      'src/backend/wasm-threads.ts', // a cached worker script: temp file + rename
      'src/sim/iverilog-runner.ts', // testbench and vectors in a mkdtemp directory
      'src/sim/verilator-runner.ts', // design copies and vectors in mkdtemp / cache directories renamed into place
      'src/sim/yosys.ts', // synthesis scripts in a mkdtemp directory
    ]);
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
        const rel = `${d}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (rel.endsWith('.ts') && !allowed.has(rel)) {
          const text = readFileSync(join(ROOT, rel), 'utf8');
          if (/\b(writeFileSync|appendFileSync|createWriteStream|writeFile|appendFile)\s*\(/.test(text)) offenders.push(rel);
        }
      }
    };
    walk('src');
    expect(offenders, 'write outputs with writeFileAtomic / writeFilesAtomic').toEqual([]);
  });

  it('a failed rename part-way through rolls every output back to the previous generation', async () => {
    const g1 = lowerModel(smallModel(1), { inputQuantizer: 'quantized_bits(8,2,1)' });
    const g2 = lowerModel(smallModel(2), { inputQuantizer: 'quantized_bits(8,2,1)' });
    const outputs: Array<{ name: string; write: (g: typeof g1, out: string) => Promise<unknown> | unknown }> = [
      { name: 'C sources', write: (g, out) => emitC(g, out) },
      { name: 'Verilog', write: (g, out) => emitVerilog(g, out, { arch: 'parallel' }) },
      {
        name: 'saved model',
        write: (g, out) => {
          const m = smallModel(g === g1 ? 1 : 2);
          return saveQmodel(m, out).finally(() => m.dispose());
        },
      },
    ];
    for (const o of outputs) {
      const out = join(dir, o.name.replace(' ', '-'));
      await o.write(g1, out);
      const before = snapshot(out);
      for (let n = 1; n <= Math.min(before.size, 4); n += 1) {
        failRename(n);
        await expect(Promise.resolve().then(() => o.write(g2, out)), `${o.name}, rename ${n}`).rejects.toThrow(/ENOSPC/);
        vi.mocked(fs.renameSync).mockRestore();
        // Every file as before, and no temp or backup file left behind.
        expect(snapshot(out), `${o.name}, rename ${n}`).toEqual(before);
      }
      await o.write(g2, out);
      expect(snapshot(out)).not.toEqual(before);
    }
  });

  it('a single file (out.json, report files) keeps its previous contents when the rename fails', () => {
    const path = join(dir, 'single', 'out.json');
    writeFileAtomic(path, 'previous');
    failRename(1);
    expect(() => writeFileAtomic(path, 'next')).toThrow(/ENOSPC/);
    vi.mocked(fs.renameSync).mockRestore();
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(dirname(path))).toEqual(['out.json']);
  });

  it('a target that is a directory fails the write and leaves the other targets as they were', () => {
    const out = join(dir, 'blocked');
    writeFilesAtomic([
      { path: join(out, 'a.txt'), data: 'a1' },
      { path: join(out, 'b.txt'), data: 'b1' },
    ]);
    fs.mkdirSync(join(out, 'c.txt', 'inner'), { recursive: true });
    expect(() =>
      writeFilesAtomic([
        { path: join(out, 'a.txt'), data: 'a2' },
        { path: join(out, 'b.txt'), data: 'b2' },
        { path: join(out, 'c.txt'), data: 'c2' },
      ]),
    ).toThrow();
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('a1');
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).toBe('b1');
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
  });

  it('a process killed while writing leaves every file whole: old or new, never cut', async () => {
    const out = join(dir, 'killed');
    const generation = (k: number, f: number): string => `${k}:${f}:`.padEnd(4 << 20, String.fromCharCode(97 + ((k + f) % 26)));
    writeFilesAtomic([0, 1, 2].map((f) => ({ path: join(out, `f${f}.bin`), data: generation(0, f) })));
    const script = join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { writeFilesAtomic } from ${JSON.stringify(join(ROOT, 'src', 'utils', 'atomic-file.ts'))};\n` +
        `const gen = ${generation.toString()};\n` +
        `for (let k = 1; ; k += 1) {\n` +
        `  writeFilesAtomic([0, 1, 2].map((f) => ({ path: ${JSON.stringify(out)} + '/f' + f + '.bin', data: gen(k, f) })));\n` +
        `  console.log('generation', k);\n` +
        `}\n`,
    );
    let written = 0;
    for (const delay of [0, 5]) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      // Once a generation is complete the writer is inside the next one: kill it there.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (const f of [0, 1, 2]) {
        const text = readFileSync(join(out, `f${f}.bin`), 'latin1');
        const k = Number(text.split(':')[0]);
        expect(text === generation(k, f), `f${f}.bin after a kill at ${delay} ms`).toBe(true);
        written = Math.max(written, k);
      }
    }
    // The writer got through generations before it was killed.
    expect(written).toBeGreaterThan(0);
  }, 120_000);
});

describe('output paths', () => {
  it('names from model content or --name never leave the output directory', () => {
    const model = smallModel(3);
    const g = lowerModel(model, { inputQuantizer: 'quantized_bits(8,2,1)' });
    model.dispose();
    const evil = { ...g, name: '../../../evil', nodes: g.nodes.map((n) => ({ ...n, origin: { ...n.origin, layer: `/tmp/../../${n.origin.layer}/..` } })) };
    const root = join(dir, 'paths');
    const out = join(root, 'out');
    emitC(evil, join(out, 'c'), { name: '../../escape' });
    emitVerilog(evil, join(out, 'v'), { arch: 'parallel', name: '../escape' });
    emitVerilog(evil, join(out, 's'), { arch: 'stream' });
    expect(readdirSync(root)).toEqual(['out']);
    for (const f of snapshot(out).keys()) {
      expect(relative(out, join(out, f)).startsWith('..')).toBe(false);
      expect(f).toMatch(/^[cvs]\/[A-Za-z0-9_.]+$/);
    }
  });
});
