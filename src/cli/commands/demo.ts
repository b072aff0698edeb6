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
  readonly float: boolean;
  readonly synth?: boolean;
  readonly reportImages?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train the lab book QModel on MNIST, print its costs, emit C and Verilog, verify both bit-exactly, write report.html')
    .option('-o, --out <dir>', 'output directory (model, qstats.txt, c/, verilog/, demo.json, report.html, report.json)', 'out/demo')
    .option('--full', "the lab book's full training (60k images; QModel 10 epochs, float CNN 3) instead of 1 epoch each")
    .option('--epochs <n>', 'training epochs of each model (default 1; with --full the lab book\'s)')
    .option('--train-samples <n>', 'training images (default 60000)')
    .option('--c-images <n>', 'MNIST test images verified through the C back-end', '10000')
    .option('--verilog-images <n>', 'MNIST test images streamed through the Verilog simulation', '20')
    .option('--no-float', "skip training the lab book's float CNN (the report then compares the quantized model with the integer IR only)")
    .option('--synth', 'also synthesize the streaming Verilog with Yosys (slow: many minutes for the MNIST CNN)')
    .option('--report-images <n>', 'MNIST test images the report runs through the integer IR and the tfjs models', '1000')
    .addHelpText('after', '\nExample:\n  qkeras demo --out out/demo    # then open out/demo/report.html')
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
        float: flags.float,
        synth: flags.synth === true,
        reportImages: parseCount('--report-images', flags.reportImages ?? '1000', 10000, 0),
        progress: createProgress(),
        log: (line) => console.log(line),
      });
      const float = result.floatAccuracy === null ? '' : ` (float CNN ${(result.floatAccuracy * 100).toFixed(2)}%)`;
      console.log(`\nquantized CNN test accuracy ${(result.testAccuracy * 100).toFixed(2)}%${float}; C and Verilog equal the golden model on every checked image`);
      console.log(`stages: ${result.stages.map((s) => `${s.stage} ${s.seconds.toFixed(1)} s`).join(', ')}`);
      console.log(`results in ${flags.out}/demo.json; report in ${result.report.html}`);
    });
}
