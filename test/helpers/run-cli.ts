/** Runs the `qkeras` CLI in-process through `main`, capturing what it prints and its exit code. */
import { vi } from 'vitest';
import { main } from '../../src/cli.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += `${a.join(' ')}\n`));
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += `${a.join(' ')}\n`));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const errw = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    await main(['node', 'qkeras', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    log.mockRestore();
    err.mockRestore();
    out.mockRestore();
    errw.mockRestore();
    process.exitCode = undefined;
  }
}
