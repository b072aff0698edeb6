/**
 * Where every tensor of the generated C lives: model inputs are the caller's `in` arrays, graph outputs
 * are written straight into the caller's `out` arrays, reshapes alias their input, and every other
 * tensor gets a static buffer slot. Slots are reused as soon as their last reader has run (never for a
 * node's own inputs, since kernels are not in-place), so a chain of layers ping-pongs between two slots.
 * A slot is a union of typed arrays, sized at compile time for the largest tensor of each element type.
 */
import type { Node } from '../ir/nodes.js';
import { C_TYPES, C_TYPE_ORDER, typeBytes, type CType } from './c-types.js';

export type Storage =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'output'; readonly index: number }
  | { readonly kind: 'slot'; readonly slot: number };

export interface Slot {
  /** Elements needed per element type. */
  readonly members: ReadonlyMap<CType, number>;
  /** sizeof the union: the largest member, rounded up to the strictest alignment. */
  readonly bytes: number;
}

/** A graph output that cannot be computed in place (an input, a reshape, or an id listed twice). */
export interface OutputCopy {
  readonly from: string;
  readonly output: number;
}

export interface BufferPlan {
  readonly storage: ReadonlyMap<string, Storage>;
  readonly slots: readonly Slot[];
  readonly copies: readonly OutputCopy[];
}

export interface TensorSpec {
  readonly ctype: CType;
  readonly elems: number;
}

export function planBuffers(
  nodes: readonly Node[],
  inputs: readonly string[],
  outputs: readonly string[],
  tensorOf: (node: Node) => TensorSpec,
): BufferPlan {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const root = (id: string): string => {
    let n = byId.get(id)!;
    while (n.kind === 'reshape') n = byId.get(n.inputs[0]!)!;
    return n.id;
  };
  const storage = new Map<string, Storage>();
  inputs.forEach((id, index) => storage.set(id, { kind: 'input', index }));

  const copies: OutputCopy[] = [];
  outputs.forEach((id, index) => {
    const node = byId.get(id)!;
    if (node.kind !== 'input' && node.kind !== 'reshape' && !storage.has(id)) storage.set(id, { kind: 'output', index });
    else copies.push({ from: id, output: index });
  });

  // Last step at which each stored tensor is read (through any chain of reshapes).
  const lastUse = new Map<string, number>();
  nodes.forEach((n, t) => {
    for (const i of n.inputs) lastUse.set(root(i), Math.max(lastUse.get(root(i)) ?? -1, t));
  });
  for (const c of copies) lastUse.set(root(c.from), Infinity);

  const slots: { members: Map<CType, number>; bytes: number; freeAfter: number }[] = [];
  const need = (spec: TensorSpec): number => spec.elems * typeBytes(spec.ctype);
  nodes.forEach((n, t) => {
    if (n.kind === 'input' || n.kind === 'reshape' || storage.has(n.id)) return;
    const spec = tensorOf(n);
    const bytes = need(spec);
    const free = slots.map((s, i) => ({ s, i })).filter(({ s }) => s.freeAfter < t);
    // Best fit: the smallest free slot that is large enough, else the largest free one (it grows).
    const fits = free.filter(({ s }) => s.bytes >= bytes).sort((a, b) => a.s.bytes - b.s.bytes || a.i - b.i);
    const grow = free.sort((a, b) => b.s.bytes - a.s.bytes || a.i - b.i);
    let k: number;
    if (fits.length > 0) k = fits[0]!.i;
    else if (grow.length > 0) k = grow[0]!.i;
    else {
      slots.push({ members: new Map(), bytes: 0, freeAfter: -1 });
      k = slots.length - 1;
    }
    const slot = slots[k]!;
    slot.members.set(spec.ctype, Math.max(slot.members.get(spec.ctype) ?? 0, spec.elems));
    slot.bytes = Math.max(slot.bytes, bytes);
    slot.freeAfter = lastUse.get(n.id) ?? t;
    storage.set(n.id, { kind: 'slot', slot: k });
  });
  for (const n of nodes) if (n.kind === 'reshape') storage.set(n.id, storage.get(root(n.id))!);

  return {
    storage,
    slots: slots.map((s) => {
      const members = new Map(C_TYPE_ORDER.filter((t) => s.members.has(t)).map((t) => [t, s.members.get(t)!] as const));
      const align = Math.max(...[...members.keys()].map((t) => C_TYPES[t].bytes));
      const raw = Math.max(...[...members].map(([t, e]) => e * typeBytes(t)));
      return { members, bytes: Math.ceil(raw / align) * align };
    }),
    copies,
  };
}
