import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, intWeightsFromValues, runPipeline } from '../../src/ir/index.js';
import { emitC } from '../../src/codegen/c.js';
import { STRICT_C_FLAGS, buildC, locateMismatch, renderGlue } from '../../src/sim/c-runner.js';
import { C_COMPILER, ToolRunError, findOptionalTool, toolAt } from '../../src/sim/tools.js';
import { ACT, IN } from '../codegen/c-graphs.js';

const dir = mkdtempSync(join(tmpdir(), 'qk-crun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cc = findOptionalTool(C_COMPILER);

function twoInTwoOut() {
  const b = new GraphBuilder('two');
  const x = b.input({ id: 'x', shape: [3], quant: IN.q8_3 });
  const y = b.input({ id: 'y', shape: [2, 2], quant: IN.relu4 });
  const w = intWeightsFromValues('dense', [1, -1, 0.5, 2, -2, 1], [3, 2], { mode: 'fixed', bits: 4, signed: true });
  const d = b.dense(x, { id: 'd', weights: w, requant: ACT.bits6_2 });
  return runPipeline(b.build([d, y])).graph;
}

describe('the harness glue', () => {
  it('lays the inputs and outputs of the API out back to back with their C ranges', () => {
    const r = emitC(twoInTwoOut(), join(dir, 'glue'));
    const glue = renderGlue(r.api);
    expect(glue).toContain('#define QK_GLUE_IN_WIDTH 7');
    expect(glue).toContain('#define QK_GLUE_OUT_WIDTH 6');
    expect(glue).toContain('two_in0_t in0[3];');
    expect(glue).toContain('two_in1_t in1[4];');
    expect(glue).toContain('if (v < -128LL || v > 127LL) return 0 + i + 1;');
    expect(glue).toContain('if (v < 0LL || v > 255LL) return 3 + i + 1;');
    expect(glue).toContain('two_predict(s->in0, s->in1, o->out0, o->out1);');
  });
});

describe.skipIf(cc === null)('building and running', () => {
  it('uses the strict flags and returns the outputs and the predict time', async () => {
    const r = emitC(twoInTwoOut(), join(dir, 'run'));
    const exe = await buildC(r, { buildDir: join(dir, 'run-build') });
    expect(exe.flags).toEqual(['-O2', ...STRICT_C_FLAGS]);
    const run = await exe.run({ count: 2, width: 7, data: Float64Array.from([16, -16, 127, 0, 1, 14, 15, -128, 0, 0, 15, 15, 15, 15]) }, { repeat: 3 });
    expect(run.samples).toBe(2);
    expect(run.repeat).toBe(3);
    expect(run.seconds).toBeGreaterThanOrEqual(0);
    expect(run.outputs.width).toBe(6);
    // Output 1 is input y copied through.
    expect(Array.from(run.outputs.data.subarray(2, 6))).toEqual([0, 1, 14, 15]);
    expect(Array.from(run.outputs.data.subarray(8, 12))).toEqual([15, 15, 15, 15]);
  });

  it('refuses input codes outside their C type, naming the sample and position', async () => {
    const r = emitC(twoInTwoOut(), join(dir, 'bad'));
    const exe = await buildC(r, { buildDir: join(dir, 'bad-build') });
    const err = await exe.run({ count: 1, width: 7, data: Float64Array.from([0, 0, 0, 0, 300, 0, 0]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolRunError);
    expect((err as Error).message).toContain('qk-harness: an input code is outside its C type: sample 0, code 4: 300');
  });

  it('reports a failing compiler with its command line and messages', async () => {
    const fake = join(dir, 'broken-cc');
    writeFileSync(fake, '#!/bin/sh\necho "model.c:1: error: something" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const r = emitC(twoInTwoOut(), join(dir, 'broken'));
    const err = await buildC(r, { compiler: toolAt(fake, 'C compiler'), buildDir: join(dir, 'broken-build') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolRunError);
    expect((err as Error).message).toMatch(/^compiling the generated C in .* failed \(exit code 1\): .*broken-cc -O2 -std=c99 -Wall -Wextra -Werror -pedantic -Wconversion /);
    expect((err as Error).message).toContain('model.c:1: error: something');
  });
});

describe.skipIf(cc === null)('locating a mismatch', () => {
  it('finds no node that differs when the C is right', async () => {
    const g = twoInTwoOut();
    const inputs = { count: 3, width: 7, data: Float64Array.from([16, -16, 127, 0, 1, 14, 15, -128, 0, 0, 15, 15, 15, 15, 1, 2, 3, 4, 5, 6, 7]) };
    expect(await locateMismatch(g, inputs)).toBeNull();
  });
});
