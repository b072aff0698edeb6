import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFilesAtomic } from '../../src/utils/atomic-file.js';

describe('atomic file writes', () => {
  it('replaces the target and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qk-atomic-'));
    const path = join(dir, 'sub', 'out.txt');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['out.txt']);
  });

  it('keeps the previous file when a write fails, and cleans up the staged ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qk-atomic-'));
    const good = join(dir, 'model.json');
    writeFileSync(good, 'previous');
    // The second target is a path under a regular file: staging it fails after the first is staged.
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    expect(() =>
      writeFilesAtomic([
        { path: good, data: 'new' },
        { path: join(blocker, 'weights.bin'), data: 'w' },
      ]),
    ).toThrow();
    expect(readFileSync(good, 'utf8')).toBe('previous');
    expect(readdirSync(dir).sort()).toEqual(['blocker', 'model.json']);
    expect(existsSync(join(blocker, 'weights.bin'))).toBe(false);
  });
});
