import { describe, expect, it } from 'vitest';
import { formatTick, linePlotSvg, niceTicks } from '../../src/report/svg-plot.js';

describe('niceTicks', () => {
  it('uses steps of 1, 2 or 5 times a power of ten inside the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.0163, 0.0163, 8)).toEqual([-0.015, -0.01, -0.005, 0, 0.005, 0.01, 0.015]);
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(niceTicks(10, -10, 4)).toEqual([-10, -5, 0, 5, 10]);
  });

  it('rejects non-finite ranges', () => {
    expect(() => niceTicks(0, Infinity)).toThrow(RangeError);
  });
});

describe('formatTick', () => {
  it('prints as many decimals as the step needs', () => {
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(-0.015, 0.005)).toBe('-0.015');
    expect(formatTick(20, 5)).toBe('20');
    expect(formatTick(0, 0.001)).toBe('0');
  });
});

describe('linePlotSvg', () => {
  const series = [
    { name: 'a<b', x: [0, 1, 2], y: [0, 1, 4] },
    { name: 'c & d', x: [0, 1, 2], y: [4, 1, 0], color: 'red' },
  ];

  it('writes a self-contained SVG with one polyline per series, a legend and escaped text', () => {
    const svg = linePlotSvg({ series, title: 'T "1"', xLabel: 'x', yLabel: 'y' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)?.length).toBe(2);
    expect(svg).toContain('stroke="red"');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('c &amp; d');
    expect(svg).toContain('T &quot;1&quot;');
    expect(svg).not.toMatch(/<script|href=/);
  });

  it('maps data to the plot area (first point bottom-left, x extremes on the frame)', () => {
    const svg = linePlotSvg({ series: [series[0]!], width: 400, height: 300, legend: 'none' });
    const points = /points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(points[0]![0]).toBe(80); // left margin
    expect(points[2]![0]).toBe(400 - 24); // right margin
    expect(points[0]![1]).toBeGreaterThan(points[2]![1]!); // larger y is higher up
  });

  it('grows the canvas for a legend below the plot', () => {
    const svg = linePlotSvg({ series, legend: 'below', height: 300 });
    expect(svg).toMatch(/height="352"/); // 300 + 2 entries * 18 + 16
  });

  it('rejects empty input and mismatched series', () => {
    expect(() => linePlotSvg({ series: [] })).toThrow(/no series/);
    expect(() => linePlotSvg({ series: [{ name: 's', x: [1, 2], y: [1] }] })).toThrow(/2 x values but 1 y values/);
  });
});
