import { describe, expect, it } from 'vitest';
import { addHistogram, emptyHistogram, histogramQuantile, latencyBucket, LATENCY_BUCKET_COUNT } from './latency';

describe('latency histogram', () => {
  it('puts a latency in the first bucket whose upper bound holds it (bounds inclusive), past the last in +Inf', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1)).toBe(0);
    expect(latencyBucket(1.01)).toBe(1);
    expect(latencyBucket(2.5)).toBe(1);
    expect(latencyBucket(30_000)).toBe(13);
    expect(latencyBucket(30_001)).toBe(LATENCY_BUCKET_COUNT - 1);
  });

  it('reads quantiles as the upper bound of the bucket that holds them; null when empty or in +Inf', () => {
    const h = emptyHistogram();
    expect(histogramQuantile(h, 0.5)).toBeNull();
    h[3] = 98; // <= 10 ms
    h[6] = 2; // <= 100 ms
    expect(histogramQuantile(h, 0.5)).toBe(10);
    expect(histogramQuantile(h, 0.98)).toBe(10);
    expect(histogramQuantile(h, 0.99)).toBe(100);
    const slow = emptyHistogram();
    slow[LATENCY_BUCKET_COUNT - 1] = 1;
    expect(histogramQuantile(slow, 0.5)).toBeNull();
  });

  it('adds histograms bucket by bucket', () => {
    const a = emptyHistogram();
    a[0] = 1;
    const b = emptyHistogram();
    b[0] = 2;
    b[14] = 5;
    addHistogram(a, b);
    expect(a[0]).toBe(3);
    expect(a[14]).toBe(5);
  });
});
