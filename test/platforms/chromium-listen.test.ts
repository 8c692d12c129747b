/**
 * The listen example in headless Chromium (Debian's, through playwright-core) with dist/browser:
 * a fake microphone plays models/vad/speech-16k.wav (two espeak-ng sentences between silences),
 * the page captures it through its AudioWorklet (resampled to 16 kHz) and the detector finds the
 * two sentences, each transcribed in the page by the automatic-speech-recognition pipeline on
 * models/whisper/micro. Never skipped: without Chromium the test fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium, root, serve } from './helpers.js';

const wav = join(root, 'models/vad/speech-16k.wav');
const truth = JSON.parse(readFileSync(join(root, 'models/vad/speech.json'), 'utf8'))['speech-16k.wav'] as { speech: [number, number][] };

let browser: Browser;
let site: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  requireChromium();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
  });
  site = await serve(root);
});
afterAll(async () => {
  await browser?.close();
  site?.server.close();
});

describe('examples/listen in headless Chromium', () => {
  it('detects the sentences spoken into a fake microphone', async () => {
    const page: Page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}/examples/listen/index.html?autostart=1&asr=${encodeURIComponent('/models/whisper/micro/')}`);
    try {
      // the file loops: its two sentences are both out once the second one's silence has passed
      await page.waitForFunction(() => (window as any).listen?.segments.length >= 2 || (window as any).listen?.error, undefined, { timeout: 60_000 });
    } catch (e) {
      const chunks = await page.evaluate(() => (window as any).listen?.chunks).catch(() => undefined);
      throw new Error(`no speech segments from the fake microphone (${chunks} chunks captured): ${errors.join('; ') || (e as Error).message}`);
    }
    const state = await page.evaluate(() => (window as any).listen as { segments: { start: number; end: number; text?: string }[]; error?: string });
    expect(state.error).toBeUndefined();
    expect(errors).toEqual([]);
    // durations as in the file (the stream starts wherever the fake device is in its loop)
    const want = truth.speech.map(([a, b]) => (b - a) / 16000).sort();
    const got = state.segments.slice(0, 2).map((s) => s.end - s.start).sort();
    got.forEach((d, i) => expect(Math.abs(d - want[i]!)).toBeLessThan(0.5));
    // between two sentences, the file's silence (1.5 s or 0.8 + 1.0 s across the loop)
    const gap = state.segments[1]!.start - state.segments[0]!.end;
    expect(gap).toBeGreaterThan(1.0);
    expect(gap).toBeLessThan(2.5);
    // each segment transcribed in the page by the ASR pipeline (the micro Whisper: text, not sense)
    for (const seg of state.segments) expect(seg.text).toMatch(/\S/);
    expect(await page.locator('#segments li').count()).toBeGreaterThanOrEqual(2);
    await page.close();
  });
});
