/** `tessera quantize`: dynamic int8 or 4-bit weight-only quantization of a model file (src/quantize). */
import { readFileSync, writeFileSync } from 'node:fs';
import { quantizeDynamic, quantizeInt4, type QuantizeDynamicReport, type QuantizeInt4Options } from '../quantize/index.js';

export function quantizeFile(input: string, output: string, perChannel: boolean, int4?: QuantizeInt4Options): QuantizeDynamicReport {
  const src = readFileSync(input);
  const { bytes, report } = int4 ? quantizeInt4(src, int4) : quantizeDynamic(src, { perChannel });
  writeFileSync(output, bytes);
  return report;
}

export function printQuantize(r: QuantizeDynamicReport, output: string, int4?: QuantizeInt4Options): void {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const what = int4 ? `4-bit MatMulNBits (block ${int4.blockSize ?? 32}, ${int4.symmetric === false ? 'asymmetric' : 'symmetric'})` : 'int8 (dynamic)';
  console.log(`quantized ${r.quantized.length} node${r.quantized.length === 1 ? '' : 's'} to ${what}: ${kb(r.bytesBefore)} → ${kb(r.bytesAfter)}`);
  for (const s of r.skipped) console.log(`  kept float: ${s.node} (${s.reason})`);
  console.log(`wrote ${output}`);
}
