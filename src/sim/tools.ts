/**
 * External tools (C compiler now; Verilator, iverilog, yosys later): the only module that finds and spawns
 * them. Each tool has an environment override (`CC=clang`, `VERILATOR=/opt/bin/verilator`, values may
 * carry leading arguments such as `ccache gcc`), a list of default names searched on PATH, and an
 * install hint; a missing tool is an actionable error, and `findOptionalTool` lets tests skip visibly.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { QKerasError } from '../errors.js';

/** A tool that is missing, or that failed. */
export class ToolError extends QKerasError {}

/** No executable found for a tool: says what was searched and how to fix it. */
export class ToolNotFoundError extends ToolError {
  constructor(
    readonly tool: string,
    readonly searched: readonly string[],
    readonly hint: string,
  ) {
    super(`${tool} not found (looked for ${searched.join(', ')}); ${hint}`);
  }
}

/** A tool ran and exited with a nonzero status (or was killed); carries its output. */
export class ToolRunError extends ToolError {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
    what: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-30).join('\n');
    super(`${what} failed (${code === null ? 'killed' : `exit code ${code}`}): ${command}${tail === '' ? '' : `\n${tail}`}`);
  }
}

/** How to find one kind of tool. */
export interface ToolSpec {
  /** Human name for messages, e.g. "C compiler". */
  readonly name: string;
  /** Environment variable that overrides the search (a command, optionally with leading arguments). */
  readonly env: string | null;
  /** Executable names tried on PATH, in order. */
  readonly candidates: readonly string[];
  /** What to do when it is missing. */
  readonly hint: string;
}

export const C_COMPILER: ToolSpec = {
  name: 'C compiler',
  env: 'CC',
  candidates: ['cc', 'gcc', 'clang'],
  hint: 'install one (Debian/Ubuntu: apt-get install gcc) or set CC to a compiler, e.g. CC=clang',
};

/** clang specifically (tests compile with it too when present). */
export const CLANG: ToolSpec = {
  name: 'clang',
  env: 'CLANG',
  candidates: ['clang', 'clang-19', 'clang-18', 'clang-17', 'clang-16', 'clang-15', 'clang-14'],
  hint: 'install clang (Debian/Ubuntu: apt-get install clang) or set CLANG',
};

/** Verilator (RTL simulation and lint of the generated Verilog). */
export const VERILATOR: ToolSpec = {
  name: 'Verilator',
  env: 'VERILATOR',
  candidates: ['verilator'],
  hint: 'install it (Debian/Ubuntu: apt-get install verilator) or set VERILATOR to its path',
};

/** Icarus Verilog's compiler (cross-checks Verilator on a sample of vectors). */
export const IVERILOG: ToolSpec = {
  name: 'Icarus Verilog (iverilog)',
  env: 'IVERILOG',
  candidates: ['iverilog'],
  hint: 'install it (Debian/Ubuntu: apt-get install iverilog) or set IVERILOG to its path',
};

/** Icarus Verilog's simulator runtime. */
export const VVP: ToolSpec = {
  name: 'Icarus Verilog runtime (vvp)',
  env: 'VVP',
  candidates: ['vvp'],
  hint: 'it comes with iverilog (Debian/Ubuntu: apt-get install iverilog); or set VVP to its path',
};

/** A native Yosys (faster than the bundled WebAssembly build, which is used when this is absent). */
export const YOSYS: ToolSpec = {
  name: 'Yosys',
  env: 'YOSYS',
  candidates: ['yosys'],
  hint: 'optional: the npm package @yowasp/yosys is used instead; install yosys or set YOSYS for speed',
};

/** GNU make (runs the makefiles Verilator writes). */
export const MAKE: ToolSpec = {
  name: 'make',
  env: 'MAKE',
  candidates: ['make', 'gmake'],
  hint: 'install it (Debian/Ubuntu: apt-get install make) or set MAKE',
};

/** A found tool: the executable and arguments that always precede the caller's. */
export interface Tool {
  readonly name: string;
  readonly path: string;
  readonly prefixArgs: readonly string[];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Resolves a command name or path like a shell would (PATH search for bare names). */
export function whichExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (command.includes('/')) {
    const p = isAbsolute(command) ? command : resolve(command);
    return isExecutable(p) ? p : null;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, command);
    if (isExecutable(p)) return p;
  }
  return null;
}

/** The tool, or null when it is not installed (an env override that names nothing is still an error). */
export function findOptionalTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): Tool | null {
  const override = spec.env === null ? undefined : env[spec.env]?.trim();
  if (override !== undefined && override !== '') {
    const [cmd, ...rest] = override.split(/\s+/);
    const path = whichExecutable(cmd!, env);
    if (path === null) {
      throw new ToolNotFoundError(spec.name, [`${spec.env}=${JSON.stringify(override)}`], `fix or unset ${spec.env}`);
    }
    return { name: spec.name, path, prefixArgs: rest };
  }
  for (const c of spec.candidates) {
    const path = whichExecutable(c, env);
    if (path !== null) return { name: spec.name, path, prefixArgs: [] };
  }
  return null;
}

/** The tool, or a ToolNotFoundError telling the user how to install or point to it. */
export function findTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): Tool {
  const tool = findOptionalTool(spec, env);
  if (tool === null) {
    const searched = [...(spec.env === null ? [] : [`$${spec.env}`]), ...spec.candidates.map((c) => `${c} on PATH`)];
    throw new ToolNotFoundError(spec.name, searched, spec.hint);
  }
  return tool;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Kill the process after this many milliseconds (default: no limit). */
  readonly timeoutMs?: number;
  /** Return a nonzero exit instead of throwing. */
  readonly allowFailure?: boolean;
  /** What is being done, for error messages ("compiling the model"). */
  readonly what?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The shell-like text of a command line, for messages. */
export function commandLine(tool: Tool, args: readonly string[]): string {
  return [tool.path, ...tool.prefixArgs, ...args].map(quote).join(' ');
}

/** Runs a tool with arguments (no shell), collecting its output. */
export function runTool(tool: Tool, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = [...tool.prefixArgs, ...args];
  const what = options.what ?? `running ${tool.name}`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool.path, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timer: NodeJS.Timeout | null = null;
    let timedOut = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs);
    }
    child.on('error', (e) => {
      if (timer !== null) clearTimeout(timer);
      reject(new ToolError(`${what}: cannot start ${commandLine(tool, args)}: ${e.message}`));
    });
    child.on('close', (code) => {
      if (timer !== null) clearTimeout(timer);
      const result = { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (timedOut) {
        reject(new ToolError(`${what}: ${commandLine(tool, args)} did not finish within ${options.timeoutMs! >= 1000 ? `${Math.round(options.timeoutMs! / 1000)} s` : `${options.timeoutMs} ms`} and was stopped`));
      } else if (code !== 0 && options.allowFailure !== true) {
        reject(new ToolRunError(commandLine(tool, args), code, result.stdout, result.stderr, what));
      } else {
        resolvePromise(result);
      }
    });
  });
}

const versions = new Map<string, string>();

/** First line of `<tool> --version` (cached per executable). */
export async function toolVersion(tool: Tool): Promise<string> {
  const key = [tool.path, ...tool.prefixArgs].join(' ');
  const hit = versions.get(key);
  if (hit !== undefined) return hit;
  const r = await runTool(tool, ['--version'], { allowFailure: true, what: `asking ${tool.name} for its version` });
  const line = `${r.stdout}${r.stderr}`.split('\n')[0]!.trim();
  versions.set(key, line);
  return line;
}

/** A tool given directly as an executable path (harness binaries we built). */
export function toolAt(path: string, name: string): Tool {
  return { name, path, prefixArgs: [] };
}
