import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  C_COMPILER,
  ToolNotFoundError,
  ToolRunError,
  findOptionalTool,
  findTool,
  runTool,
  toolAt,
  whichExecutable,
  type ToolSpec,
} from '../../src/sim/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'qk-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake executable that prints its arguments. */
function fakeTool(name: string, body = 'echo "$@"'): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const FAKE: ToolSpec = { name: 'fake tool', env: 'QK_FAKE', candidates: ['qk-fake-a', 'qk-fake-b'], hint: 'install qk-fake' };

describe('finding tools', () => {
  it('searches PATH for the candidates in order', () => {
    fakeTool('qk-fake-b');
    const env = { PATH: `/nonexistent:${dir}` };
    expect(findTool(FAKE, env)).toEqual({ name: 'fake tool', path: join(dir, 'qk-fake-b'), prefixArgs: [] });
    fakeTool('qk-fake-a');
    expect(findTool(FAKE, env).path).toBe(join(dir, 'qk-fake-a'));
  });

  it('takes the environment override first, with leading arguments', () => {
    const p = fakeTool('my-cc');
    const t = findTool(FAKE, { PATH: dir, QK_FAKE: 'my-cc -m64 --flag' });
    expect(t).toEqual({ name: 'fake tool', path: p, prefixArgs: ['-m64', '--flag'] });
    expect(findTool(FAKE, { PATH: '', QK_FAKE: p }).path).toBe(p);
  });

  it('says what it searched and how to fix it when a tool is missing', () => {
    expect(findOptionalTool(FAKE, { PATH: '/nonexistent' })).toBeNull();
    expect(() => findTool(FAKE, { PATH: '/nonexistent' })).toThrow(ToolNotFoundError);
    expect(() => findTool(FAKE, { PATH: '/nonexistent' })).toThrow(
      'fake tool not found (looked for $QK_FAKE, qk-fake-a on PATH, qk-fake-b on PATH); install qk-fake',
    );
    expect(() => findTool(C_COMPILER, { PATH: '/nonexistent' })).toThrow(/set CC to a compiler/);
  });

  it('treats an override that names nothing as an error, not as "missing"', () => {
    expect(() => findOptionalTool(FAKE, { PATH: dir, QK_FAKE: 'no-such-cc' })).toThrow(
      'fake tool not found (looked for QK_FAKE="no-such-cc"); fix or unset QK_FAKE',
    );
  });

  it('resolves relative and absolute paths like a shell', () => {
    const p = fakeTool('abs-tool');
    expect(whichExecutable(p, { PATH: '' })).toBe(p);
    expect(whichExecutable(join(dir, 'missing'), { PATH: '' })).toBeNull();
  });
});

describe('running tools', () => {
  it('collects stdout and passes prefix arguments first', async () => {
    const p = fakeTool('echoer');
    const r = await runTool({ name: 'echoer', path: p, prefixArgs: ['a'] }, ['b', 'c d']);
    expect(r).toEqual({ code: 0, stdout: 'a b c d\n', stderr: '' });
  });

  it('throws a ToolRunError with the command and the end of stderr on failure', async () => {
    const p = fakeTool('failer', 'echo "bad thing happened" >&2; exit 3');
    const err = await runTool(toolAt(p, 'failer'), ['x y'], { what: 'compiling the model' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolRunError);
    expect((err as ToolRunError).message).toBe(`compiling the model failed (exit code 3): ${p} 'x y'\nbad thing happened`);
    const r = await runTool(toolAt(p, 'failer'), [], { allowFailure: true });
    expect(r.code).toBe(3);
  });

  it('stops a run that outlives its time limit and says so', async () => {
    const p = fakeTool('sleeper', 'sleep 30');
    const err = await runTool(toolAt(p, 'sleeper'), [], { what: 'synthesizing with Yosys', timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`synthesizing with Yosys: ${p} did not finish within 200 ms and was stopped`);
  });
});
