/**
 * Small HTML building blocks for the report: escaping (every string that comes from a model — layer
 * names, quantizer strings, paths — goes through `esc`), number formatting and tables. No templates, no
 * scripts: the page is static.
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** An integer with thousands separators; `—` for null. */
export function int(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US');
}

/** A decimal with `digits` places and thousands separators; `—` for null. */
export function dec(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A fraction as a percentage with two decimals. */
export function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

/** A shape without its batch axis: `[null, 26, 26, 18]` → `26×26×18`. */
export function shape(s: readonly (number | null)[], dropBatch = true): string {
  const dims = dropBatch ? s.slice(1) : s;
  return dims.length === 0 ? 'scalar' : dims.map((d) => (d === null ? '?' : String(d))).join('×');
}

/** A cell: raw HTML content (already escaped) and an optional class. */
export interface Cell {
  readonly html: string;
  readonly cls?: string;
}

export function cell(html: string, cls?: string): Cell {
  return cls === undefined ? { html } : { html, cls };
}

/** A numeric (right-aligned) cell. */
export function num(text: string): Cell {
  return { html: esc(text), cls: 'num' };
}

function row(cells: readonly Cell[], tag: 'td' | 'th'): string {
  return `<tr>${cells.map((c) => `<${tag}${c.cls ? ` class="${c.cls}"` : ''}>${c.html}</${tag}>`).join('')}</tr>`;
}

/** A table with a header row, body rows and optional footer rows, in a horizontally scrolling box. */
export function table(id: string, head: readonly string[], body: readonly (readonly Cell[])[], foot: readonly (readonly Cell[])[] = []): string {
  return (
    `<div class="scroll"><table id="${esc(id)}">` +
    `<thead>${row(head.map((h) => cell(esc(h))), 'th')}</thead>` +
    `<tbody>${body.map((r) => row(r, 'td')).join('\n')}</tbody>` +
    (foot.length > 0 ? `<tfoot>${foot.map((r) => row(r, 'td')).join('')}</tfoot>` : '') +
    '</table></div>'
  );
}

/**
 * An SVG document made embeddable: the plot writers give every clip path the same id, which must be
 * unique within one HTML page, so each plot's becomes `id`; the namespace declaration, implied in HTML,
 * goes (the page then holds no URL at all).
 */
export function inlineSvg(svg: string, id: string): string {
  return svg
    .replace(' xmlns="http://www.w3.org/2000/svg"', '').replace(/id="plot-area"/g, `id="${id}"`).replace(/url\(#plot-area\)/g, `url(#${id})`).trim();
}
