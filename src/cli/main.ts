/** The `tessera` command: inspect, run and bench ONNX models from a terminal. */
import { TesseraError } from '../api/errors.js';
import '../index.js';
import { bench, printBench } from './bench.js';
import { parseDims } from './feeds.js';
import { inspect, printInspect } from './inspect.js';
import { printQuantize, quantizeFile } from './quantize.js';
import { printRun, runModel } from './run.js';

const HELP = `tessera — run ONNX models in WebAssembly

usage:
  tessera inspect <model.onnx> [--shape name=1x3x224x224]… [--json]
      inputs and outputs (dtypes, symbolic dims), opsets, op histogram, nodes tessera cannot run,
      parameters by dtype, FLOPs at the given (or default: symbolic dims = 1) input shapes
  tessera run <model.onnx> [--input name=file.npy|file.json|random[:1x3x224x224]]… [--output out.npy] [--json]
      runs once and summarises each output (shape, dtype, min/max/mean, top-5 of the first row)
  tessera bench <model.onnx> [--runs 50] [--warmup 5] [--shape name=dims]… [--vs onnxruntime-web] [--profile] [--json]
      latency percentiles, throughput, GFLOP/s; --profile lists the slowest nodes with shapes
  tessera quantize <in.onnx> <out.onnx> [--per-channel] [--json]
      dynamic int8 quantization of MatMul/Gemm weights (standard ONNX ops: DynamicQuantizeLinear →
      MatMulInteger → Cast → Mul, as onnxruntime's quantize_dynamic emits); --per-channel: one
      scale per output column
  tessera quantize <in.onnx> <out.onnx> --int4 [--block-size 32] [--symmetric|--asymmetric] [--accuracy-level N] [--json]
      4-bit weight-only quantization of MatMul weights to com.microsoft MatMulNBits, written as
      onnxruntime's MatMul4BitsQuantizer writes it (default block 32, symmetric)
  tessera --help | --version

Inputs not given are random (deterministic) with symbolic dims set to 1.
Exit status: 0 on success, 1 on a model or input error (the message says what and where), 2 on usage.`;

interface Parsed { cmd: string; file?: string; file2?: string; multi: Record<string, string[]>; flags: Set<string>; values: Record<string, string> }

function parse(argv: string[]): Parsed {
  const p: Parsed = { cmd: argv[0] ?? '--help', multi: {}, flags: new Set(), values: {} };
  const multiValued = new Set(['input', 'shape']);
  const valued = new Set(['runs', 'warmup', 'output', 'vs', 'block-size', 'accuracy-level']);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split(/=(.*)/s) as [string, string | undefined];
      if (multiValued.has(k) || valued.has(k)) {
        const v = inline ?? argv[++i];
        if (v === undefined) usage(`--${k} needs a value`);
        if (multiValued.has(k)) (p.multi[k] ??= []).push(v!);
        else p.values[k] = v!;
      } else p.flags.add(k);
    } else if (!p.file) p.file = a;
    else if (p.cmd === 'quantize' && !p.file2) p.file2 = a;
    else usage(`unexpected argument '${a}'`);
  }
  return p;
}

function usage(msg: string): never {
  console.error(`tessera: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function pairs(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) usage(`--${what} takes name=value, got '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const p = parse(argv);
  if (p.cmd === '--help' || p.cmd === '-h' || p.cmd === 'help') { console.log(HELP); return; }
  if (p.cmd === '--version') { console.log('tessera 0.1.0'); return; }
  if (!['inspect', 'run', 'bench', 'quantize'].includes(p.cmd)) usage(`unknown command '${p.cmd}'`);
  if (!p.file) usage(`${p.cmd} needs a model file`);
  const json = p.flags.has('json');
  const shapes = Object.fromEntries(Object.entries(pairs(p.multi.shape, 'shape')).map(([k, v]) => [k, parseDims(v)]));
  const int4Flags = ['int4', 'symmetric', 'asymmetric'];
  for (const f of p.flags) if (!['json', 'profile', 'quiet', 'per-channel', ...int4Flags].includes(f)) usage(`unknown option --${f}`);
  if (p.flags.has('per-channel') && p.cmd !== 'quantize') usage('--per-channel is an option of quantize');
  const int4Opts = ['symmetric', 'asymmetric', 'block-size', 'accuracy-level'].filter((o) => p.flags.has(o) || o in p.values);
  if (int4Opts.length && !p.flags.has('int4')) usage(`--${int4Opts[0]} is an option of quantize --int4`);
  if (p.cmd === 'quantize') {
    if (!p.file2) usage('quantize needs an input and an output file');
    let int4: { blockSize: number; symmetric: boolean; accuracyLevel?: number } | undefined;
    if (p.flags.has('int4')) {
      if (p.flags.has('per-channel')) usage('--per-channel is an option of int8 quantization, not --int4');
      if (p.flags.has('symmetric') && p.flags.has('asymmetric')) usage('--symmetric and --asymmetric exclude each other');
      const blockSize = Number(p.values['block-size'] ?? 32);
      if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) usage(`--block-size must be a power of two ≥ 16, got '${p.values['block-size']}'`);
      const level = p.values['accuracy-level'];
      if (level !== undefined && !/^[0-4]$/.test(level)) usage(`--accuracy-level takes 0 … 4, got '${level}'`);
      int4 = { blockSize, symmetric: !p.flags.has('asymmetric'), ...(level !== undefined ? { accuracyLevel: Number(level) } : {}) };
    }
    const r = quantizeFile(p.file!, p.file2!, p.flags.has('per-channel'), int4);
    if (json) console.log(JSON.stringify(r, null, 2)); else printQuantize(r, p.file2!, int4);
  } else if (p.cmd === 'inspect') {
    const r = await inspect(p.file!, shapes);
    if (json) console.log(JSON.stringify(r, null, 2)); else printInspect(r);
  } else if (p.cmd === 'run') {
    const r = await runModel(p.file!, pairs(p.multi.input, 'input'), p.values.output);
    if (json) console.log(JSON.stringify(r, null, 2)); else printRun(r);
  } else {
    if (p.values.vs && p.values.vs !== 'onnxruntime-web') usage(`--vs supports onnxruntime-web only`);
    const r = await bench(p.file!, {
      runs: Number(p.values.runs ?? 50), warmup: Number(p.values.warmup ?? 5), shapes,
      vsOrt: p.values.vs === 'onnxruntime-web', profile: p.flags.has('profile'), quiet: json || p.flags.has('quiet'),
    });
    if (json) console.log(JSON.stringify(r, null, 2)); else printBench(r);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof TesseraError) console.error(`tessera: ${e.code}: ${e.message}`);
  else console.error(`tessera: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
