/**
 * The seeded random number generator of sampling: Mulberry32 (Tommy Ettinger's 32-bit generator,
 * public domain: one 32-bit state word, period 2³²), seeded by the user's `seed` through one round
 * of SplitMix32 so that nearby seeds do not start nearby. Same seed → same draws on every platform,
 * since it uses only 32-bit integer arithmetic (Math.imul). Not for cryptography.
 */

/** A reproducible stream of uniform numbers in [0, 1). */
export class Mulberry32 {
  private state: number;

  /** `seed`: any integer (taken modulo 2³²); the same seed always gives the same stream. */
  constructor(seed: number) {
    let z = (Math.trunc(seed) >>> 0) + 0x9e3779b9 | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.state = (z ^ (z >>> 16)) >>> 0;
  }

  /** The next number in [0, 1), with 32 bits of randomness. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
