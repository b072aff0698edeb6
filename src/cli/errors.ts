/**
 * How the CLI ends: 0 on success, 1 on a user error (one line, no stack trace), 2 on an internal error
 * (a bug: the message and, with --debug, the stack).
 */
import { CommanderError } from 'commander';
import { QKerasError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_USER = 1;
export const EXIT_INTERNAL = 2;

/** A CLI-level user error (bad flag combination, missing file) that is not from the library. */
export class UsageError extends QKerasError {}

export interface Reporter {
  error(line: string): void;
}

/** Maps a thrown value to the exit code and prints what the user needs. */
export function reportFailure(err: unknown, debug: boolean, out: Reporter): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (unknown option, missing argument, --help).
    return err.exitCode === 0 ? EXIT_OK : EXIT_USER;
  }
  if (err instanceof QKerasError) {
    out.error(`error: ${err.message}`);
    if (debug && err.stack) out.error(err.stack);
    return EXIT_USER;
  }
  if (isNodeFsError(err)) {
    out.error(`error: ${err.message}`);
    return EXIT_USER;
  }
  const message = err instanceof Error ? err.message : String(err);
  out.error(`internal error: ${message}${debug ? '' : ' (run with --debug for the stack trace)'}`);
  if (debug && err instanceof Error && err.stack) out.error(err.stack);
  return EXIT_INTERNAL;
}

function isNodeFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' &&
    ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOSPC'].includes((err as NodeJS.ErrnoException).code!);
}
