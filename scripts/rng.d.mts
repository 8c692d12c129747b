/** mulberry32: a seeded PRNG in [0, 1) (scripts/rng.mjs). */
export function rng(seed: number): () => number;
