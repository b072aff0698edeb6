/**
 * Word schedules of the stream architecture and the FIFO depths they give joins: the words a same-padded
 * 3x3 window waits for, the W + 1 words a branch straight from the input must hold beside it, no FIFO on
 * the branch the join waits for, and the next sample's words counted when a valid pooling window skips
 * the image's last row and column while the other branch reads them.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, inputRequant, type Node } from '../../src/ir/index.js';
import { blockNeed, inputNeed, joinFifoDepth, lockstepNeed, windowNeed } from '../../src/codegen/verilog-stream-schedule.js';

const origin = (layer: string) => ({ id: layer, origin: { layer, className: 'test' } });

/** An input node and a window node over it (max pooling: the schedule depends only on the geometry). */
function window(h: number, w: number, pool: number, stride: number, padding: 'same' | 'valid'): { input: Node; node: Node } {
  const b = new GraphBuilder('w');
  const x = b.input({ ...origin('x'), shape: [h, w, 1], quant: inputRequant({ className: 'quantized_bits', config: { bits: 4, integer: 1 } }) });
  b.maxpool(x, { ...origin('p'), pool: [pool, pool], strides: [stride, stride], padding });
  const g = b.current;
  return { input: g.nodes[0]!, node: g.nodes[1]! };
}

function need(h: number, w: number, pool: number, stride: number, padding: 'same' | 'valid'): readonly number[] {
  const { input, node } = window(h, w, pool, stride, padding);
  if (node.kind !== 'maxpool') throw new Error('maxpool expected');
  return windowNeed(node, input, inputNeed(h * w));
}

describe('stream word schedules', () => {
  it('a same-padded 3x3 window waits for the pixel below and right of its centre', () => {
    // 4 x 5 image: window (oh, ow) needs pixel (min(oh+1, 3), min(ow+1, 4)), counted in raster order.
    expect(need(4, 5, 3, 1, 'same')).toEqual([7, 8, 9, 10, 10, 12, 13, 14, 15, 15, 17, 18, 19, 20, 20, 20, 20, 20, 20, 20]);
  });

  it('blocks and lockstep joins', () => {
    expect(blockNeed(2, 3, [1, 2, 2, 5, 6, 9])).toEqual([2, 9]);
    expect(lockstepNeed([[1, 4, 4], [2, 2, 6]])).toEqual([2, 4, 6]);
  });

  it('a branch straight from the input holds W + 1 words beside a 3x3 same convolution; the convolution none', () => {
    const direct = inputNeed(20);
    const conv = need(4, 5, 3, 1, 'same');
    const join = lockstepNeed([direct, conv]);
    expect(joinFifoDepth(direct, join, 20)).toBe(6);
    expect(joinFifoDepth(conv, join, 20)).toBe(0);
  });

  it("a valid 2x2 pool that skips the last row and column holds words until the strided 3x3 window's image ends", () => {
    const pool = need(5, 5, 2, 2, 'valid');
    const conv = need(5, 5, 3, 2, 'valid');
    expect(pool).toEqual([7, 9, 17, 19]);
    expect(conv).toEqual([13, 15, 23, 25]);
    // At the last window the pool must have let every word of its image go to take the image's last pixels.
    expect(joinFifoDepth(pool, lockstepNeed([pool, conv]), 25)).toBe(2);
    expect(joinFifoDepth(conv, lockstepNeed([pool, conv]), 25)).toBe(0);
  });
});
