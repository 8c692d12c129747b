export function probe(a: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) acc = f32x4.add(acc, v128.load(a + (<usize>i << 2)));
  if (ASC_FEATURE_RELAXED_SIMD) acc = f32x4.relaxed_madd(acc, acc, acc);
  return f32x4.extract_lane(acc, 0);
}
