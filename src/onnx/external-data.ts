/**
 * Tensors whose bytes live outside the model (`data_location: EXTERNAL`, written by onnx's
 * `save_model(..., save_as_external_data=True)`): the `location` / `offset` / `length` entries
 * are checked here, and a source hands back the bytes — from files given as bytes (the
 * `externalData` session option, any platform) or read from disk beside the model (Node).
 */
import { TesseraError } from '../api/errors.js';

/** Where external tensors come from: a file's size, and its bytes (all at once or read on demand). */
export interface ExternalFiles {
  /** Size in bytes of `location` (already checked to stay inside the model's directory), or undefined when absent. */
  size(location: string): number | undefined;
  /** The bytes [offset, offset + length) as a view, or a reader that writes them into `dest`. */
  slice(location: string, offset: number, length: number): Uint8Array | ((dest: Uint8Array) => void);
  /** What the files are, for error messages ("beside /models/x.onnx", "given in externalData"). */
  describe(): string;
}

export interface ExternalEntry {
  key?: string | null;
  value?: string | null;
}

/**
 * Normalises a relative location and refuses one that is absolute or climbs out of the model's
 * directory: a model must not be able to read arbitrary files.
 */
export function safeLocation(location: string, label: string): string {
  const bad = (why: string) => new TesseraError('INVALID_MODEL', `${label}: external data location '${location}' ${why}`);
  if (!location) throw bad('is empty');
  if (location.includes('\0')) throw bad('contains a NUL byte');
  const text = location.replace(/\\/g, '/');
  if (text.startsWith('/') || /^[a-zA-Z]:/.test(text) || /^[a-z]+:\/\//i.test(text)) throw bad("is absolute; it must be relative to the model's directory");
  const parts: string[] = [];
  for (const p of text.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw bad("escapes the model's directory");
      parts.pop();
    } else parts.push(p);
  }
  if (parts.length === 0) throw bad('names no file');
  return parts.join('/');
}

function entryNumber(value: string, key: string, label: string): number {
  if (!/^\d+$/.test(value.trim())) throw new TesseraError('INVALID_MODEL', `${label}: external data ${key} '${value}' is not a non-negative integer`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new TesseraError('INVALID_MODEL', `${label}: external data ${key} ${value} is too large`);
  return n;
}

/** Resolves one tensor's external data to its bytes, checking every entry against the file. */
export function resolveExternal(
  entries: readonly ExternalEntry[], expectedBytes: number, files: ExternalFiles | undefined, label: string,
): Uint8Array | ((dest: Uint8Array) => void) {
  let location: string | undefined, offset = 0, length: number | undefined;
  for (const e of entries) {
    const key = e.key ?? '', value = e.value ?? '';
    if (key === 'location') location = value;
    else if (key === 'offset') offset = entryNumber(value, 'offset', label);
    else if (key === 'length') length = entryNumber(value, 'length', label);
    // 'checksum' (optional SHA-1) and unknown keys are informational.
  }
  if (location === undefined) throw new TesseraError('INVALID_MODEL', `${label}: external data has no 'location'`);
  const path = safeLocation(location, label);
  if (!files) {
    throw new TesseraError('INVALID_MODEL',
      `${label}: its data is in the external file '${path}'; load the model by path (Node) or pass the file's bytes as InferenceSession.create(bytes, { externalData: [{ path: '${path}', data }] })`);
  }
  let size: number | undefined;
  try {
    size = files.size(path);
  } catch (e) {
    if (e instanceof TesseraError) throw new TesseraError(e.code, `${label}: ${e.message}`, { cause: e });
    throw e;
  }
  if (size === undefined) throw new TesseraError('INVALID_MODEL', `${label}: external data file '${path}' was not found (${files.describe()})`);
  if (length === undefined) length = expectedBytes;
  if (length !== expectedBytes) {
    throw new TesseraError('INVALID_MODEL', `${label}: external data length ${length} does not match the ${expectedBytes} bytes its dims and type need`);
  }
  if (offset > size || length > size - offset) {
    throw new TesseraError('INVALID_MODEL', `${label}: external data [${offset}, ${offset + length}) runs past the end of '${path}' (${size} bytes)`);
  }
  return files.slice(path, offset, length);
}

/** External files handed over as bytes: `externalData: [{ path, data }]` (onnxruntime-web's option). */
export function filesFromBytes(list: readonly { path: string; data: Uint8Array | ArrayBuffer }[]): ExternalFiles {
  const map = new Map<string, Uint8Array>();
  for (const item of list) {
    if (!item || typeof item.path !== 'string') throw new TesseraError('INVALID_ARGUMENT', 'externalData entries are { path: string, data: Uint8Array | ArrayBuffer }');
    const data = item.data instanceof ArrayBuffer ? new Uint8Array(item.data) : item.data;
    if (!(data instanceof Uint8Array)) throw new TesseraError('INVALID_ARGUMENT', `externalData '${item.path}': data must be a Uint8Array or an ArrayBuffer`);
    map.set(safeLocation(item.path, `externalData '${item.path}'`), data);
  }
  return {
    size: (location) => map.get(location)?.length,
    slice: (location, offset, length) => map.get(location)!.subarray(offset, offset + length),
    describe: () => `externalData has ${[...map.keys()].map((k) => `'${k}'`).join(', ') || 'no files'}`,
  };
}
