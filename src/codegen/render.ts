/**
 * Template loading and rendering shared by the code generators (C now, Verilog next). Templates are thin
 * Handlebars files under the package's `templates/` directory, compiled in strict mode (a missing field is
 * an error, never an empty string) and without HTML escaping (the output is source code). Hand-written
 * assets (kernels, modules) are read from the same tree and copied verbatim.
 */
import Handlebars from 'handlebars';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QKerasError } from '../errors.js';

/** A template or asset that is missing or does not render. */
export class TemplateError extends QKerasError {}

/** The package root (works from `src/codegen` under tsx/vitest and from `dist/codegen` once built). */
export const PACKAGE_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));

/** `templates/<...segments>` inside the package. */
export function templatePath(...segments: readonly string[]): string {
  return join(PACKAGE_ROOT, 'templates', ...segments);
}

/** `hw-sim/<...segments>` inside the package (simulation harnesses). */
export function simAssetPath(...segments: readonly string[]): string {
  return join(PACKAGE_ROOT, 'hw-sim', ...segments);
}

/** The package version, for generated-by headers. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function readAsset(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TemplateError(`cannot read template asset ${path}: ${(err as Error).message}; is the package installed completely?`);
  }
}

/** Names of the files in an asset directory that match `pattern`, sorted (deterministic output). */
export function listAssets(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new TemplateError(`cannot list template directory ${dir}: ${(err as Error).message}`);
  }
  return names.filter((n) => pattern.test(n) && statSync(join(dir, n)).isFile()).sort();
}

export type TemplateContext = Readonly<Record<string, unknown>>;

/**
 * A Handlebars environment of its own (helpers and partials never leak between back-ends) with compiled
 * templates cached by path.
 */
export class Renderer {
  private readonly hb: typeof Handlebars = Handlebars.create();
  private readonly cache = new Map<string, HandlebarsTemplateDelegate>();

  constructor(helpers: Readonly<Record<string, Handlebars.HelperDelegate>> = {}) {
    for (const [name, fn] of Object.entries(helpers)) this.hb.registerHelper(name, fn);
  }

  /** Registers a partial from a file, usable as `{{> name}}`. */
  partial(name: string, path: string): this {
    this.hb.registerPartial(name, readAsset(path));
    return this;
  }

  private compiled(path: string): HandlebarsTemplateDelegate {
    let t = this.cache.get(path);
    if (t === undefined) {
      t = this.hb.compile(readAsset(path), { strict: true, noEscape: true });
      this.cache.set(path, t);
    }
    return t;
  }

  /** Renders the template at `path`; a field the template uses but the context lacks is an error. */
  render(path: string, context: TemplateContext): string {
    try {
      return this.compiled(path)(context);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError(`template ${path}: ${(err as Error).message}`);
    }
  }

  /** Renders template source given inline (small glue); compiled with the same strict settings. */
  renderString(source: string, context: TemplateContext): string {
    try {
      return this.hb.compile(source, { strict: true, noEscape: true })(context);
    } catch (err) {
      throw new TemplateError(`inline template: ${(err as Error).message}`);
    }
  }
}
