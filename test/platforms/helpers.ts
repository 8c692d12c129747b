/** Shared by the platform tests: the repo root, a static file server, MNIST digits as JSON, example Workers bundled as wrangler does. */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.u8': 'application/octet-stream', '.json': 'application/json',
};

/**
 * Serves `dir` on a free localhost port; resolves to its base URL. `isolated` adds COOP/COEP, which
 * makes pages cross-origin isolated (SharedArrayBuffer, so threads).
 */
export async function serve(dir: string, { isolated = false } = {}): Promise<{ url: string; server: Server; requests: string[] }> {
  const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    let file = normalize(join(dir, path));
    if (!file.startsWith(normalize(dir))) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...isolation }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, requests };
}

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (the browser tests never skip)`);
}

/** The first n held-out digits as arrays of 784 bytes, with their labels. */
export function digits(n: number): { images: number[][]; labels: number[] } {
  const images = readFileSync(join(root, 'models/mnist/heldout-images.u8'));
  const labels = readFileSync(join(root, 'models/mnist/heldout-labels.u8'));
  return {
    images: Array.from({ length: n }, (_, i) => Array.from(images.subarray(i * 784, (i + 1) * 784))),
    labels: Array.from(labels.subarray(0, n)),
  };
}

/**
 * An example Worker bundled the way wrangler bundles it (esbuild, conditions workerd/worker/browser,
 * `.wasm` and `.onnx` left as module imports, JSON inlined), against the built package linked as
 * `tessera` from a temporary node_modules. Returns the bundle's path and a cleanup.
 */
export async function bundleWorkerExample(example: string): Promise<{ bundled: string; cleanup: () => void }> {
  const deps = mkdtempSync(join(tmpdir(), 'tessera-worker-'));
  const bundled = join(root, `examples/${example}/src/.bundled-by-test.mjs`);
  mkdirSync(join(deps, 'node_modules'));
  symlinkSync(root, join(deps, 'node_modules', 'tessera'), 'dir');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, `examples/${example}/src/index.js`)],
    outfile: bundled,
    bundle: true,
    format: 'esm',
    conditions: ['workerd', 'worker', 'browser'],
    nodePaths: [join(deps, 'node_modules')],
    logLevel: 'silent',
    plugins: [{
      name: 'modules-stay-imports',
      setup(b) {
        b.onResolve({ filter: /\.(wasm|onnx)$/ }, (a) => ({ path: './' + relative(dirname(bundled), resolve(a.resolveDir, a.path)), external: true }));
      },
    }],
  });
  return { bundled, cleanup: () => { rmSync(deps, { recursive: true, force: true }); rmSync(bundled, { force: true }); } };
}

/**
 * An example Worker, bundled as wrangler would, running in workerd (miniflare); cleanup disposes both.
 * `bindings`: the Worker's `env` variables (wrangler.toml's [vars]).
 */
export async function startWorkerExample(example: string, bindings?: Record<string, string>): Promise<{ worker: import('miniflare').Miniflare; bundled: string; cleanup: () => Promise<void> }> {
  const { Miniflare } = await import('miniflare');
  const { bundled, cleanup } = await bundleWorkerExample(example);
  // wrangler.toml's compatibility flags, as wrangler passes them.
  const toml = readFileSync(join(root, 'examples', example, 'wrangler.toml'), 'utf8');
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1]?.match(/"[^"]+"/g)?.map((f) => f.slice(1, -1)) ?? [];
  const worker = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: bundled,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'Data', include: ['**/*.onnx'] },
    ],
    compatibilityDate: '2024-09-23',
    compatibilityFlags: flags,
    ...(bindings ? { bindings } : {}),
  });
  await worker.ready;
  return { worker, bundled, cleanup: async () => { await worker.dispose(); cleanup(); } };
}
