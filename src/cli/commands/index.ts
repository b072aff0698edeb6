/** Every CLI command, in the order `--help` lists them. */
import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerTrain } from './train.js';
import { registerQstats } from './qstats.js';
import { registerQuantize } from './quantize.js';
import { registerPredict } from './predict.js';
import { registerCompile } from './compile.js';
import { registerVerify } from './verify.js';
import { registerSynth } from './synth.js';
import { registerEstimate } from './estimate.js';
import { registerReport } from './report.js';
import { registerImport } from './import.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerDemo, registerTrain, registerQstats, registerQuantize, registerPredict, registerCompile, registerVerify, registerSynth, registerEstimate, registerReport, registerImport];
