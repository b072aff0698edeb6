/**
 * The Verilog back-end's templates: thin Handlebars files under `templates/verilog/` for the generated
 * top and per-layer modules (the logic lives in the hand-written `qk_*.v` modules beside them), rendered
 * with the shared strict renderer, plus the list of hand-written modules copied into every design.
 */
import { join } from 'node:path';
import { IdentifierPool } from './identifiers.js';
import { listAssets, packageVersion, readAsset, Renderer, templatePath } from './render.js';
import { VERILOG_RULES } from './verilog-names.js';
import { commentText } from './identifiers.js';

export interface GeneratedFile {
  readonly name: string;
  readonly text: string;
}

export interface LayerContext {
  readonly module: string;
  readonly comment: string;
  readonly ports: readonly string[];
  readonly body: readonly string[];
}

export interface TopParallelContext {
  readonly top: string;
  readonly inMsb: number;
  readonly outMsb: number;
  readonly latency: number;
  readonly stages: number;
  readonly body: readonly string[];
}

export interface TopStreamContext {
  readonly top: string;
  readonly inMsb: number;
  readonly outMsb: number;
  readonly body: readonly string[];
}

export interface RomContext {
  readonly module: string;
  readonly comment: string;
  readonly addrMsb: number;
  readonly dataMsb: number;
  readonly words: readonly string[];
}

/** Renders the Verilog templates for one design (the header names the graph and architecture). */
export class TemplateSet {
  private readonly renderer = new Renderer();
  private readonly base: { version: string; arch: string; graph: string };

  constructor(graphName: string, arch: string) {
    this.base = { version: packageVersion(), arch, graph: commentText(graphName) };
    this.renderer.partial('header', templatePath('verilog', 'header.hbs'));
  }

  /** A pool for signal names inside the generated top (separate from module names). */
  signalPool(): IdentifierPool {
    return new IdentifierPool(VERILOG_RULES);
  }

  layer(ctx: LayerContext): string {
    return this.renderer.render(templatePath('verilog', 'layer.v.hbs'), { ...this.base, ...ctx });
  }

  topParallel(ctx: TopParallelContext): string {
    return this.renderer.render(templatePath('verilog', 'top-parallel.v.hbs'), { ...this.base, ...ctx });
  }

  topStream(ctx: TopStreamContext): string {
    return this.renderer.render(templatePath('verilog', 'top-stream.v.hbs'), { ...this.base, ...ctx });
  }

  rom(ctx: RomContext): string {
    return this.renderer.render(templatePath('verilog', 'rom.v.hbs'), { ...this.base, ...ctx });
  }
}

/** The hand-written modules (`templates/verilog/qk_*.v`), sorted, with their text. */
export function handWrittenModules(): GeneratedFile[] {
  const dir = templatePath('verilog');
  return listAssets(dir, /^qk_[a-z0-9_]+\.v$/).map((name) => ({ name, text: readAsset(join(dir, name)) }));
}
