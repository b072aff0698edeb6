/** The SVG histogram writer: numpy's binning and a self-contained document. */
import { describe, expect, it } from 'vitest';
import { binnedHistogramSvg, countTick, histogram, histogramSvg } from '../../src/report/svg-histogram.js';

describe('histogram', () => {
  it('bins like numpy.histogram: equal widths over [min, max], last bin closed', () => {
    const h = histogram([0, 1, 2, 3, 4], 4);
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(h.counts).toEqual([1, 1, 1, 2]);
  });

  it('a constant input spans [v - 0.5, v + 0.5]; non-finite values are left out', () => {
    const h = histogram([2, 2, Number.NaN, Infinity], 2);
    expect(h.edges).toEqual([1.5, 2, 2.5]);
    expect(h.counts).toEqual([0, 2]);
  });

  it('renders one bar per non-empty bin, with an escaped title', () => {
    const svg = histogramSvg([0, 0, 1], { bins: 2, title: 'a<b>(output)' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>a&lt;b&gt;(output)</text>');
    expect([...svg.matchAll(/<title>/g)]).toHaveLength(2);
  });
});

describe('binnedHistogramSvg and count ticks', () => {
  it('draws precomputed bins exactly as histogramSvg draws the values they came from', () => {
    const values = [0, 0.1, 0.5, 0.5, 0.9, 1];
    expect(binnedHistogramSvg(histogram(values, 5))).toBe(histogramSvg(values, { bins: 5 }));
    expect(() => binnedHistogramSvg({ edges: [0, 1], counts: [1, 2] })).toThrow(RangeError);
  });

  it('shortens large counts so they fit the margin', () => {
    expect(countTick(400000, 100000)).toBe('400k');
    expect(countTick(1500000, 500000)).toBe('1.5M');
    expect(countTick(20000, 5000)).toBe('20k');
    expect(countTick(5000, 1000)).toBe('5000');
  });
});
