/**
 * fold-batchnorm: a batch-norm whose input is a MAC node used by nothing else (no fused requantizer in
 * between) becomes part of that node: per output channel c, `w' = w · scale_c` and
 * `bias' = bias · scale_c + offset_c`. With integer codes times powers of two this is exact, so the
 * folded graph computes the same values; the batch-norm's requantizer moves to the MAC node. A fold whose
 * codes would leave the exact integer range is skipped.
 */
import type { Graph } from '../graph.js';
import { removeNode, replaceNode, useCount } from '../graph.js';
import type { BatchNormNode, IntVector, IntWeights, MacNode, Node } from '../nodes.js';
import { isMacNode, outChannels } from '../nodes.js';
import { assertSafeInt, pow2 } from '../fixed.js';
import { channelCodes, normalizeIntWeights, weightCodeBits } from '../weights.js';
import { rederive } from '../builder.js';
import { IRError } from '../errors.js';

function foldWeights(mac: MacNode, bn: BatchNormNode): IntWeights {
  const { codes, exps } = channelCodes(mac.kind, mac.weights);
  const channels = outChannels(mac.kind, mac.weights.shape);
  const s = bn.scale.codes;
  const newCodes = codes.map((c, i) => {
    const v = c * s[i % channels]!;
    assertSafeInt(v, 'folded weight');
    return v + 0;
  });
  const draft: IntWeights = normalizeIntWeights(mac.kind, {
    kind: 'int',
    shape: [...mac.weights.shape],
    codes: newCodes,
    exps: exps.map((e) => e + bn.scale.exp),
    quant: mac.weights.quant,
  });
  // A power-of-two scale keeps the weights' nature (binary stays binary); any other scale makes them fixed.
  const po2Scale = s.every((x) => x === 0 || Math.abs(x) === 1);
  return po2Scale
    ? draft
    : { ...draft, quant: { mode: 'fixed', bits: weightCodeBits(mac.kind, draft), signed: true } };
}

function foldBias(mac: MacNode, bn: BatchNormNode): IntVector {
  const channels = bn.offset.codes.length;
  const be = mac.bias === null ? bn.offset.exp : mac.bias.exp + bn.scale.exp;
  const e = Math.min(be, bn.offset.exp);
  const codes = Array.from({ length: channels }, (_, c) => {
    const b = mac.bias === null ? 0 : mac.bias.codes[c]! * bn.scale.codes[c]! * pow2(be - e);
    const v = b + bn.offset.codes[c]! * pow2(bn.offset.exp - e);
    assertSafeInt(v, 'folded bias');
    return v + 0;
  });
  return { codes, exp: e };
}

export function foldBatchnorm(g: Graph): Graph {
  let out = g;
  // Walk by id and read each node from the current graph: earlier rewrites may have redirected its input.
  for (const id of g.nodes.map((n) => n.id)) {
    const node = out.nodes.find((n) => n.id === id);
    if (node === undefined || node.kind !== 'batchnorm') continue;
    const mac = out.nodes.find((n) => n.id === node.inputs[0]);
    if (mac === undefined || !isMacNode(mac) || mac.requant !== null) continue;
    if (useCount(out, mac.id) !== 1) continue;
    let folded: Node;
    try {
      folded = { ...mac, weights: foldWeights(mac, node), bias: foldBias(mac, node), requant: node.requant, acc: null } as Node;
    } catch (e) {
      if (e instanceof IRError) continue;
      throw e;
    }
    out = removeNode(replaceNode(out, mac.id, folded), node.id, mac.id);
  }
  return out === g ? g : rederive(out);
}
