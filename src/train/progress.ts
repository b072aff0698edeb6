/**
 * Progress reporting for long loops (training epochs, verification vectors, synthesis). A bar on a TTY,
 * nothing when output is piped or under CI, so logs stay readable.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  update(done: number, info?: string): void;
  stop(): void;
}

class BarProgress implements Progress {
  private bar: cliProgress.SingleBar | null = null;

  start(total: number, label: string): void {
    this.bar = new cliProgress.SingleBar(
      { format: `${label.padEnd(18)} [{bar}] {percentage}% | {value}/{total} | {info}`, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { info: '' });
  }

  update(done: number, info = ''): void {
    this.bar?.update(done, { info });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

const silent: Progress = { start() {}, update() {}, stop() {} };

/** A bar when stderr is a terminal and not under CI; otherwise silent. */
export function createProgress(enabled = Boolean(process.stderr.isTTY) && !process.env.CI): Progress {
  return enabled ? new BarProgress() : silent;
}
