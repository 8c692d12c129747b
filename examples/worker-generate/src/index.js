// Streamed text generation on tessera's Workers build, as Server-Sent Events:
//   POST / {"prompt": "…"} or {"messages": [{"role", "content"}, …]}, with optional generation
//   options (max_new_tokens ≤ 1024, min_new_tokens, do_sample, temperature, top_k, top_p, seed, repetition_penalty)
//   → text/event-stream: one `data: {"text": "…"}` event per decoded piece, then
//   `event: done` with `{"tokens": n, "ms": t}` (or `event: error` with `{"error": "…"}`).
//   GET /status → {"recent": [{"tokens", "ms", "cancelled"}, …]}: this isolate's last generations.
// The client closing the connection cancels the stream, which stops generation between tokens.
// The model (models/decoders/toy-lm, a 1 M-parameter toy) is bundled as a Data module and its
// JSON files as JSON: there is no filesystem in a Worker, so the pipeline is built from parts.
import { pipeline } from 'tessera';
import model from '../../../models/decoders/toy-lm/onnx/model.onnx';
import config from '../../../models/decoders/toy-lm/config.json';
import generationConfig from '../../../models/decoders/toy-lm/generation_config.json';
import tokenizer from '../../../models/decoders/toy-lm/tokenizer.json';
import tokenizerConfig from '../../../models/decoders/toy-lm/tokenizer_config.json';

const MAX_NEW_TOKENS = 1024;
const OPTIONS = ['max_new_tokens', 'min_new_tokens', 'do_sample', 'temperature', 'top_k', 'top_p', 'seed', 'repetition_penalty'];

let generator; // built on the first request, reused while the isolate lives
let queue = Promise.resolve(); // one generation at a time: the session's KV cache is single
const recent = []; // the last few generations, newest last (GET /status)

const encoder = new TextEncoder();
const event = (name, data) => encoder.encode(`${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`);

function badRequest(error) {
  return Response.json({ error }, { status: 400 });
}

/** The request's input and generation options, or an error message. */
function parse(body) {
  if (!body || typeof body !== 'object') return 'expected a JSON object {"prompt": "…"} or {"messages": [...]}';
  const { prompt, messages } = body;
  let input;
  if (typeof prompt === 'string' && prompt.length) input = prompt;
  else if (Array.isArray(messages) && messages.length && messages.every((m) => m && typeof m.role === 'string' && typeof m.content === 'string')) input = messages;
  else return 'expected "prompt" (a non-empty string) or "messages" (a list of {"role", "content"} strings)';
  const options = { max_new_tokens: 64 };
  for (const key of OPTIONS) {
    if (body[key] === undefined) continue;
    if (typeof body[key] !== (key === 'do_sample' ? 'boolean' : 'number')) return `"${key}" has the wrong type`;
    options[key] = body[key];
  }
  if (!(Number.isInteger(options.max_new_tokens) && options.max_new_tokens >= 1 && options.max_new_tokens <= MAX_NEW_TOKENS)) {
    return `"max_new_tokens" must be an integer from 1 to ${MAX_NEW_TOKENS}`;
  }
  return { input, options };
}

async function generate(request, ctx) {
  let body;
  try {
    body = await request.json();
  } catch {
    return badRequest('expected a JSON body');
  }
  const parsed = parse(body);
  if (typeof parsed === 'string') return badRequest(parsed);
  generator ??= await pipeline('text-generation', {
    model: new Uint8Array(model), tokenizer, tokenizer_config: tokenizerConfig, config, generation_config: generationConfig,
  });
  // Wait for the previous request's generation to end (or be cancelled) before starting this one.
  let release;
  const turn = queue;
  queue = new Promise((r) => { release = r; });
  await turn;
  let tokens = -1; // the first put() is the prompt
  const counter = { put: () => { tokens++; }, end: () => {} };
  const started = Date.now();
  const pieces = generator.stream(parsed.input, { ...parsed.options, streamer: counter });
  let cancelled = false;
  // A hang-up reaches the Worker two ways: the response stream's cancel(), which workerd calls when
  // a write to the gone client fails (SSE events are small: a whole generation can fit in the
  // socket's buffers, and then no write fails), and the request's signal (compatibility flag
  // enable_request_signal), which aborts when the client disconnects. Either stops the loop.
  request.signal?.addEventListener?.('abort', () => { cancelled = true; });
  // Generation runs on its own (the stream buffers what the client has not read yet) so that the
  // next request's turn comes when this generation ends, whether or not the client reads to the end.
  const stream = new ReadableStream({
    start(controller) {
      // waitUntil: workerd drops a request's pending work once its response is cancelled, which
      // would leave the session mid-generation; this keeps the loop alive until it has stopped.
      ctx.waitUntil((async () => {
        try {
          for await (const text of pieces) {
            if (cancelled) break;
            controller.enqueue(event(undefined, { text }));
          }
          if (!cancelled) controller.enqueue(event('done', { tokens: Math.max(0, tokens), ms: Date.now() - started }));
        } catch (e) {
          if (!cancelled) controller.enqueue(event('error', { error: String(e?.message ?? e) }));
        } finally {
          recent.push({ tokens: Math.max(0, tokens), ms: Date.now() - started, cancelled });
          if (recent.length > 8) recent.shift();
          release();
          if (!cancelled) controller.close();
        }
      })());
    },
    cancel() {
      cancelled = true; // the for-await loop's exit calls pieces.return(): generation stops between tokens
    },
  });
  return new Response(stream, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } });
}

export default {
  async fetch(request, env, ctx) {
    if (request.method === 'GET' && new URL(request.url).pathname === '/status') return Response.json({ recent });
    if (request.method !== 'POST') return new Response('POST {"prompt": "…"} or {"messages": [...]} to / for a text/event-stream of generated text\n', { status: 405 });
    return generate(request, ctx);
  },
};
