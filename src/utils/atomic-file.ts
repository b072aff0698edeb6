/**
 * Writing files so that nothing half-written is ever left behind: data goes to a temp file beside the
 * target (same filesystem, so the rename is atomic), then replaces it. An interrupted run leaves the
 * previous file intact.
 */
import { copyFileSync, linkSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

function tempPathFor(path: string): string {
  counter++;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
}

/** Writes `data` to `path` atomically, creating the parent directory if needed. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes several files so that either all are replaced or none is: every temp file is written first, then
 * all are renamed into place. Each target that existed is first hard-linked (or copied) to a backup, so a
 * rename that fails part-way is rolled back: the files already replaced get their previous contents again
 * and the new ones are removed. (A process killed between two renames can still mix generations, each
 * file whole; its temp and backup files stay behind, named `.<file>.tmp-*` and `.<file>.bak-*`.)
 */
export function writeFilesAtomic(files: ReadonlyArray<{ path: string; data: string | Uint8Array }>): void {
  const staged: Array<{ tmp: string; path: string; backup: string | null }> = [];
  const renamed: typeof staged = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = tempPathFor(f.path);
      writeFileSync(tmp, f.data);
      staged.push({ tmp, path: f.path, backup: null });
    }
    for (const s of staged) s.backup = backupOf(s.path);
    for (const s of staged) {
      renameSync(s.tmp, s.path);
      renamed.push(s);
    }
  } catch (err) {
    for (const s of renamed.reverse()) {
      try {
        if (s.backup !== null) renameSync(s.backup, s.path);
        else rmSync(s.path, { force: true });
      } catch {
        // Best effort: the original error is what the caller needs to see.
      }
    }
    for (const s of staged) {
      rmSync(s.tmp, { force: true });
      if (s.backup !== null && !renamed.includes(s)) rmSync(s.backup, { force: true });
    }
    throw err;
  }
  for (const s of staged) if (s.backup !== null) rmSync(s.backup, { force: true });
}

/** A second name for an existing file or symlink (a hard link, else a copy), or null when there is none. */
function backupOf(path: string): string | null {
  let isDirectory: boolean;
  try {
    isDirectory = lstatSync(path).isDirectory();
  } catch {
    return null; // no previous file
  }
  if (isDirectory) return null; // the rename fails; nothing was replaced
  counter++;
  const backup = join(dirname(path), `.${basename(path)}.bak-${process.pid}-${counter}`);
  try {
    linkSync(path, backup);
  } catch {
    copyFileSync(path, backup);
  }
  return backup;
}
