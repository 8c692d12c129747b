/** `tessera quantize`: dynamic int8 quantization of a model file (src/quantize). */
import { readFileSync, writeFileSync } from 'node:fs';
import { quantizeDynamic, type QuantizeDynamicReport } from '../quantize/index.js';

export function quantizeFile(input: string, output: string, perChannel: boolean): QuantizeDynamicReport {
  const { bytes, report } = quantizeDynamic(readFileSync(input), { perChannel });
  writeFileSync(output, bytes);
  return report;
}

export function printQuantize(r: QuantizeDynamicReport, output: string): void {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`quantized ${r.quantized.length} node${r.quantized.length === 1 ? '' : 's'} to int8 (dynamic): ${kb(r.bytesBefore)} → ${kb(r.bytesAfter)}`);
  for (const s of r.skipped) console.log(`  kept float: ${s.node} (${s.reason})`);
  console.log(`wrote ${output}`);
}
