/**
 * Word schedules of the stream architecture: for every stream, how many words of the graph input must
 * have entered before each of its words (of one sample) can exist. Where streams meet (an element-wise
 * add, a concatenation), the branch that delivers earlier must hold its words until the later branch
 * catches up; otherwise the fork that feeds both stalls (it releases a word only when every consumer
 * took it) and the design deadlocks. `joinFifoDepth` sizes that buffer from the two schedules.
 *
 * The schedules follow the hand-written modules exactly: `qk_stream_window` presents output (oh, ow)
 * once the input pixel at its clamped bottom-right corner has arrived; a MAC over k words, global
 * average pooling and the like present their word after their last input word; element-wise stages
 * word for word. Stages never refuse input while their output drains, so a branch with enough room at
 * its end always makes progress.
 */
import type { AvgPoolNode, Conv1dNode, Conv2dNode, DepthwiseNode, MaxPoolNode, Node } from '../ir/nodes.js';
import { windowAxes } from './verilog-plan.js';

/** Per output word of one sample: the graph input words (a count) it needs. Non-decreasing. */
export type WordNeed = readonly number[];

/** The graph input's own schedule: word m is there after m + 1 words. */
export function inputNeed(beats: number): WordNeed {
  return Array.from({ length: beats }, (_, m) => m + 1);
}

/**
 * The schedule of a stage whose output word m needs its input words 0..last(m) (last(m) < 0: none),
 * made non-decreasing because every stage emits its words in order.
 */
export function stageNeed(outBeats: number, last: (m: number) => number, inNeed: WordNeed): WordNeed {
  const need: number[] = [];
  let running = 0;
  for (let m = 0; m < outBeats; m += 1) {
    const i = last(m);
    if (i >= inNeed.length) throw new Error(`internal: output word ${m} needs input word ${i} of ${inNeed.length}`);
    running = Math.max(running, i < 0 ? 0 : inNeed[i]!);
    need.push(running);
  }
  return need;
}

/** Word m of every input makes word m of the output. */
export function lockstepNeed(inNeeds: readonly WordNeed[]): WordNeed {
  return stageNeed(inNeeds[0]!.length, (m) => m, inNeeds[0]!.map((_, m) => Math.max(...inNeeds.map((n) => n[m]!))));
}

type WindowNode = Conv1dNode | Conv2dNode | DepthwiseNode | MaxPoolNode | AvgPoolNode;

/** Windows in raster order, each waiting for the pixel at its bottom-right corner (clamped to the image). */
export function windowNeed(node: WindowNode, input: Node, inNeed: WordNeed): WordNeed {
  const [gh, gw] = windowAxes(node, input.shape);
  return stageNeed(
    gh.outSize * gw.outSize,
    (m) => {
      const oh = Math.floor(m / gw.outSize);
      const ow = m % gw.outSize;
      const bot = Math.min(oh * gh.stride - gh.padBefore + (gh.kernel - 1) * gh.dilation, gh.inSize - 1);
      const right = Math.min(ow * gw.stride - gw.padBefore + (gw.kernel - 1) * gw.dilation, gw.inSize - 1);
      // The window module compares the count of pixels received with bot·W + right (raster order).
      return bot * gw.inSize + right;
    },
    inNeed,
  );
}

/** One output word per `k` input words (a MAC over a flattened stream, global pooling). */
export function blockNeed(outBeats: number, k: number, inNeed: WordNeed): WordNeed {
  return stageNeed(outBeats, (m) => (m + 1) * k - 1, inNeed);
}

/**
 * Words a FIFO must hold on one input of a lockstep join. When the join waits for its word m, the
 * graph input must get to the `join[m]` words that word needs, and every branch must take them all
 * (the fork between the branches releases a word only when each branch has it). A branch stage that
 * holds an output word has taken every input that word needs; so the branch has taken `n` input words
 * once it holds its first word e with `branch[e] >= n` (e may be the next sample's: a window stage
 * takes its image's last pixels only after its last window left). Its words m..e-1 must then sit in
 * the FIFO while word e waits at the branch's end. `period` is the graph input's words per sample.
 * 0 means the branch never runs ahead (it is the one the join waits for) and needs no FIFO.
 */
export function joinFifoDepth(branch: WordNeed, join: WordNeed, period: number): number {
  const twoSamples = [...branch, ...branch.map((x) => x + period)];
  let depth = 0;
  let e = 0;
  join.forEach((n, m) => {
    while (twoSamples[e]! < n) e += 1;
    depth = Math.max(depth, e - m);
  });
  return depth;
}
