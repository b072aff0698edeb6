/** Every CLI command, in the order `--help` lists them. */
import type { Command } from 'commander';
import { registerTrain } from './train.js';
import { registerPredict } from './predict.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerTrain, registerPredict];
