/**
 * The one seam between tessera and where it runs. Entries (src/index*.ts) install what their
 * platform needs; the default reads models with fetch, which browsers and Workers have.
 */
import { TesseraError } from '../api/errors.js';

export interface Platform {
  readModel(location: string | URL): Promise<Uint8Array>;
}

export const platform: Platform = {
  async readModel(location) {
    if (typeof fetch !== 'function') throw new TesseraError('INVALID_ARGUMENT', `Cannot load '${String(location)}': no fetch in this environment; pass the model's bytes`);
    const response = await fetch(location);
    if (!response.ok) throw new TesseraError('INVALID_ARGUMENT', `Fetching the model from ${String(location)} failed: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  },
};

export function setPlatform(p: Partial<Platform>): void {
  Object.assign(platform, p);
}
