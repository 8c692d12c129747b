// Which taps of a (dilated) kernel window fall inside the input: shared by the direct, depthwise
// and pooling kernels, which run their scalar borders over exactly these taps.

// First tap t (step d) whose input index start + t·d is ≥ 0.
// @ts-ignore: decorator
@inline export function firstTap(start: i32, d: i32): i32 {
  return start < 0 ? (-start + d - 1) / d : 0;
}

// One past the last of k taps (step d) whose input index start + t·d is < size.
// @ts-ignore: decorator
@inline export function endTap(start: i32, k: i32, d: i32, size: i32): i32 {
  if (start + (k - 1) * d < size) return k;
  return size - 1 - start < 0 ? 0 : (size - 1 - start) / d + 1;
}
