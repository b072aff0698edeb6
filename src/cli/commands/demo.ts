/** `qkeras demo`: the whole flow on MNIST in one command (see src/demo.ts). */
import type { Command } from 'commander';
import { ready } from '../../backend/index.js';
import { runDemo } from '../../demo.js';
import { createProgress } from '../../train/progress.js';
import { parseCount } from '../options.js';

interface DemoFlags {
  readonly out: string;
  readonly full?: boolean;
  readonly epochs?: string;
  readonly trainSamples?: string;
  readonly cImages?: string;
  readonly verilogImages?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train the lab book QModel on MNIST, print its costs, emit C and Verilog, and verify both bit-exactly')
    .option('-o, --out <dir>', 'output directory (model, qstats.txt, c/, verilog/, demo.json)', 'out/demo')
    .option('--full', "the lab book's full training (10 epochs on 60k images) instead of 1 epoch")
    .option('--epochs <n>', 'training epochs (default 1, or 10 with --full)')
    .option('--train-samples <n>', 'training images (default 60000)')
    .option('--c-images <n>', 'MNIST test images verified through the C back-end', '10000')
    .option('--verilog-images <n>', 'MNIST test images streamed through the Verilog simulation', '20')
    .addHelpText('after', '\nExample:\n  qkeras demo --out out/demo')
    .action(async (flags: DemoFlags) => {
      const backend = await ready();
      console.log(`backend: ${backend}`);
      const result = await runDemo({
        out: flags.out,
        ...(flags.full ? { full: true } : {}),
        ...(flags.epochs !== undefined ? { epochs: parseCount('--epochs', flags.epochs, 1000) } : {}),
        ...(flags.trainSamples !== undefined ? { trainSamples: parseCount('--train-samples', flags.trainSamples, 60000) } : {}),
        cImages: parseCount('--c-images', flags.cImages ?? '10000', 10000),
        verilogImages: parseCount('--verilog-images', flags.verilogImages ?? '20', 10000),
        progress: createProgress(),
        log: (line) => console.log(line),
      });
      console.log(`\nquantized CNN test accuracy ${(result.testAccuracy * 100).toFixed(2)}%; C and Verilog equal the golden model on every checked image`);
      console.log(`stages: ${result.stages.map((s) => `${s.stage} ${s.seconds.toFixed(1)} s`).join(', ')}`);
      console.log(`results in ${flags.out}/demo.json`);
    });
}
