// CPU time per decode token: what a generation step costs this process, when the machine is too
// loaded for wall times to mean anything (shared by other jobs, a 100 ms step can take 500 ms of
// wall time while it is descheduled). Process CPU time counts every thread, and memory stalls, but
// not time spent waiting for a core. After `npm run build`:
//   node [--experimental-wasm-relaxed-simd] bench/decode-cpu.mjs [--dir bench/out/qwen3-0.6b-8l]
//        [--format q4i8|q4|q8|fp32] [--threads 1] [--tokens 12] [--dist .]
// q4i8 is the q4 file with `q4Compute: 'int8'`. `--dist` points at another checkout's build (A/B).
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const dir = arg('dir', `${root}bench/out/qwen3-0.6b-8l`);
const format = arg('format', 'q4i8');
const threads = Number(arg('threads', '1'));
const tokens = Number(arg('tokens', '12'));
const dist = resolve(arg('dist', root));
const FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx', q4i8: 'model_q4.onnx' };

const { GenerationSession } = await import(`${dist}/dist/node/index.js`);
const gen = await GenerationSession.create(`${dir}/onnx/${FILE[format]}`, { threads, maxLength: 128 + tokens + 8, ...(format === 'q4i8' ? { q4Compute: 'int8' } : {}) });
let s = 7;
const prompt = Array.from({ length: 128 }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return 1000 + (s % 50000); });
const cpu = [], wall = [];
let c0, w0;
const streamer = {
  put: () => {
    const c = process.cpuUsage(), w = performance.now();
    if (c0) { cpu.push((c.user + c.system - c0.user - c0.system) / 1000); wall.push(w - w0); }
    c0 = c; w0 = w;
  },
  end: () => {},
};
await gen.generate(prompt, { max_new_tokens: tokens + 1, min_new_tokens: tokens + 1, streamer });
await gen.release();
// cpu[0] is the 128-token prefill (with the session's one-time packing), cpu[1] the first decode
// step (which makes the decode plan): the medians are over the steps after it.
const steady = cpu.slice(2), steadyWall = wall.slice(2);
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${dist} ${format}, ${threads} thread(s): decode CPU ms/token median ${med(steady).toFixed(1)}, min ${Math.min(...steady).toFixed(1)}; ` +
  `wall median ${med(steadyWall).toFixed(1)}, min ${Math.min(...steadyWall).toFixed(1)}; prefill CPU ${cpu[0].toFixed(0)} ms, first decode step ${cpu[1].toFixed(0)} ms; ` +
  `steps ${cpu.slice(1).map((v) => v.toFixed(0)).join(' ')}`);
