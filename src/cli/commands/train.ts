/**
 * `qkeras train`: the lab book's MNIST recipes on real MNIST, saving the trained model as a tfjs model
 * directory that every other command accepts.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { ready } from '../../backend/index.js';
import { createProgress } from '../../train/progress.js';
import { LABBOOK_RECIPES, LABBOOK_RUNS, runLabbook, type LabbookRun } from '../../train/labbook.js';
import { saveQmodel } from '../../utils/save-load.js';
import { UsageError } from '../errors.js';
import { parseCount } from '../options.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the QKeras lab book models on MNIST (float, qmodel, quantize) and save them')
    .option('-r, --recipe <names>', `comma-separated runs: ${LABBOOK_RUNS.join(', ')}`, 'qmodel')
    .option('-e, --epochs <n>', "epochs per run (default: the lab book's: float 3, qmodel 10, quantize 10)")
    .option('--train-samples <n>', 'training samples to use (default all 60000)')
    .option('--test-samples <n>', 'test images to evaluate (default all 10000)')
    .option('--batch-size <n>', 'batch size', '128')
    .option('--seed <n>', 'seed for shuffling and stochastic quantizers', '1')
    .option('--workers <n>', 'threads per training step (data-parallel; 2 uses both cores of a 2-core machine)', '1')
    .option('-o, --out <dir>', 'directory for the trained models (<dir>/<run>/model.json)', 'out/train')
    .addHelpText(
      'after',
      `\nRecipes:\n${LABBOOK_RUNS.map((r) => `  ${r.padEnd(9)} ${LABBOOK_RECIPES[r].description}`).join('\n')}\n\n` +
        'Example:\n  qkeras train --recipe qmodel --epochs 2 --train-samples 20000 --out out/train',
    )
    .action(async (opts: Record<string, string>) => {
      const runs = opts.recipe!.split(',').map((s) => s.trim()) as LabbookRun[];
      for (const r of runs) {
        if (!LABBOOK_RUNS.includes(r)) throw new UsageError(`--recipe: unknown run ${JSON.stringify(r)}; expected ${LABBOOK_RUNS.join(', ')}`);
      }
      await ready();
      const results = await runLabbook({
        runs,
        ...(opts.epochs !== undefined ? { epochs: parseCount('--epochs', opts.epochs) } : {}),
        ...(opts.trainSamples !== undefined ? { trainCount: parseCount('--train-samples', opts.trainSamples, 60000) } : {}),
        ...(opts.testSamples !== undefined ? { testCount: parseCount('--test-samples', opts.testSamples, 10000) } : {}),
        batchSize: parseCount('--batch-size', opts.batchSize!),
        seed: parseCount('--seed', opts.seed!, Number.MAX_SAFE_INTEGER, 0),
        workers: parseCount('--workers', opts.workers!, 64),
        progress: createProgress(),
        log: (line) => console.log(line),
      });
      for (const r of results) {
        const dir = join(opts.out!, r.run);
        await saveQmodel(r.model, dir);
        console.log(`saved ${r.run} (test accuracy ${(r.testAccuracy * 100).toFixed(2)}%) to ${dir}`);
      }
    });
}
