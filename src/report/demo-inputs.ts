/**
 * What a `qkeras demo` run measured, as report inputs: its verification reports, stage times and the
 * accuracy at the end of training (on the whole test set). `demo.json` holds these fields; the demo
 * passes them directly and `qkeras report --demo demo.json` reads them back.
 */
import type { VerifyReport } from '../sim/verify.js';
import type { ReportInputs } from './build.js';
import type { AccuracyEntry, StageRow } from './types.js';

/** What `qkeras demo` writes to demo.json that a report shows. */
export interface DemoSummary {
  readonly testAccuracy?: number;
  readonly floatAccuracy?: number | null;
  readonly testImages?: number;
  readonly stages?: readonly StageRow[];
  readonly c?: VerifyReport;
  readonly verilog?: VerifyReport;
  readonly inputQuantizer?: string;
}

/** The accuracy a demo measured on the whole test set at the end of training. */
export function demoAccuracy(demo: DemoSummary): AccuracyEntry[] {
  const images = demo.testImages ?? 10000;
  const entry = (label: string, engine: AccuracyEntry['engine'], accuracy: number): AccuracyEntry => ({
    label,
    engine,
    images,
    correct: Math.round(accuracy * images),
    accuracy,
  });
  return [
    ...(typeof demo.floatAccuracy === 'number' ? [entry('float CNN at the end of training, tfjs float32', 'float', demo.floatAccuracy)] : []),
    ...(typeof demo.testAccuracy === 'number' ? [entry('quantized CNN at the end of training, tfjs float32', 'tfjs', demo.testAccuracy)] : []),
  ];
}

/** The demo's verification reports and stage times as report inputs. */
export function demoInputs(demo: DemoSummary): Pick<ReportInputs, 'verification' | 'stages' | 'measuredAccuracy'> {
  return {
    verification: [demo.c, demo.verilog].filter((r): r is VerifyReport => r !== undefined && r !== null),
    stages: demo.stages ?? [],
    measuredAccuracy: demoAccuracy(demo),
  };
}
