/**
 * The streaming segmenter against Silero's batch get_speech_timestamps (utils_vad.py), ported
 * line by line below as the reference: the same segments for the same window probabilities, with
 * every option, whatever moment the stream hands each segment on.
 */
import { describe, expect, it } from 'vitest';
import { SpeechSegmenter, type SegmenterSettings } from '../../src/audio/vad-segmenter.js';

interface Opts { threshold: number; neg?: number; minSpeechMs: number; maxSpeechS: number; minSilenceMs: number; padMs: number; atMaxMs: number; useMaxPoss: boolean }

/** get_speech_timestamps after the model: probabilities → padded segments (samples). */
function reference(probs: number[], length: number, o: Opts, sr = 16000): [number, number][] {
  const W = sr === 16000 ? 512 : 256;
  const minSpeech = sr * o.minSpeechMs / 1000;
  const pad = sr * o.padMs / 1000;
  const maxSpeech = sr * o.maxSpeechS - W - 2 * pad;
  const minSilence = sr * o.minSilenceMs / 1000;
  const atMax = sr * o.atMaxMs / 1000;
  const neg = o.neg ?? Math.max(o.threshold - 0.15, 0.01);
  let triggered = false;
  const speeches: { start?: number; end?: number }[] = [];
  let cs: { start?: number; end?: number } = {};
  let tempEnd = 0, prevEnd = 0, nextStart = 0;
  let possibleEnds: [number, number][] = [];
  probs.forEach((p, i) => {
    const cur = W * i;
    if (p >= o.threshold && tempEnd) {
      const sil = cur - tempEnd;
      if (sil > atMax) possibleEnds.push([tempEnd, sil]);
      tempEnd = 0;
      if (nextStart < prevEnd) nextStart = cur;
    }
    if (p >= o.threshold && !triggered) { triggered = true; cs.start = cur; return; }
    if (triggered && cur - cs.start! > maxSpeech) {
      if (o.useMaxPoss && possibleEnds.length) {
        let best = possibleEnds[0]!;
        for (const e of possibleEnds) if (e[1] > best[1]) best = e;
        prevEnd = best[0];
        const dur = best[1];
        cs.end = prevEnd; speeches.push(cs); cs = {};
        nextStart = prevEnd + dur;
        if (nextStart < prevEnd + cur) cs.start = nextStart; else triggered = false;
        prevEnd = nextStart = tempEnd = 0; possibleEnds = [];
      } else if (prevEnd) {
        cs.end = prevEnd; speeches.push(cs); cs = {};
        if (nextStart < prevEnd) triggered = false; else cs.start = nextStart;
        prevEnd = nextStart = tempEnd = 0; possibleEnds = [];
      } else {
        cs.end = cur; speeches.push(cs); cs = {};
        prevEnd = nextStart = tempEnd = 0; triggered = false; possibleEnds = [];
        return;
      }
    }
    if (p < neg && triggered) {
      if (!tempEnd) tempEnd = cur;
      const silNow = cur - tempEnd;
      if (!o.useMaxPoss && silNow > atMax) prevEnd = tempEnd;
      if (silNow < minSilence) return;
      cs.end = tempEnd;
      if (cs.end - cs.start! > minSpeech) speeches.push(cs);
      cs = {}; prevEnd = nextStart = tempEnd = 0; triggered = false; possibleEnds = [];
    }
  });
  if (cs.start !== undefined && length - cs.start > minSpeech) { cs.end = length; speeches.push(cs); }
  speeches.forEach((s, i) => {
    if (i === 0) s.start = Math.trunc(Math.max(0, s.start! - pad));
    if (i !== speeches.length - 1) {
      const gap = speeches[i + 1]!.start! - s.end!;
      if (gap < 2 * pad) {
        s.end! += Math.floor(gap / 2);
        speeches[i + 1]!.start = Math.trunc(Math.max(0, speeches[i + 1]!.start! - Math.floor(gap / 2)));
      } else {
        s.end = Math.trunc(Math.min(length, s.end! + pad));
        speeches[i + 1]!.start = Math.trunc(Math.max(0, speeches[i + 1]!.start! - pad));
      }
    } else s.end = Math.trunc(Math.min(length, s.end! + pad));
  });
  return speeches.map((s) => [s.start!, s.end!]);
}

function streamed(probs: number[], length: number, o: Opts, sr = 16000): [number, number][] {
  const W = sr === 16000 ? 512 : 256;
  const pad = sr * o.padMs / 1000;
  const settings: SegmenterSettings = {
    threshold: o.threshold, negThreshold: o.neg ?? Math.max(o.threshold - 0.15, 0.01),
    minSpeechSamples: sr * o.minSpeechMs / 1000, minSilenceSamples: sr * o.minSilenceMs / 1000, padSamples: pad,
    maxSpeechSamples: sr * o.maxSpeechS - W - 2 * pad, minSilenceAtMaxSpeech: sr * o.atMaxMs / 1000, useMaxPossibleSilence: o.useMaxPoss,
  };
  const out: [number, number][] = [];
  let received = 0;
  let late = 0;
  const seg = new SpeechSegmenter(settings, (s, e) => {
    if (e > received) late++; // nothing handed on may reach past what has been received
    out.push([s, e]);
  });
  probs.forEach((p, i) => {
    received = Math.min(length, (i + 1) * W);
    seg.push(p, i * W);
    seg.settle((i + 1) * W, received);
  });
  seg.finish(length);
  expect(late).toBe(0);
  return out;
}

/** Probabilities with runs of speech and silence, and noise around the thresholds. */
function randomProbs(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const out: number[] = [];
  let speech = false;
  while (out.length < n) {
    const run = 1 + Math.floor(rnd() * (speech ? 60 : 25));
    for (let i = 0; i < run && out.length < n; i++) out.push(speech ? 0.3 + 0.7 * rnd() : 0.6 * rnd() ** 2);
    speech = !speech;
  }
  return out;
}

describe('SpeechSegmenter ≡ Silero get_speech_timestamps', () => {
  const base: Opts = { threshold: 0.5, minSpeechMs: 250, maxSpeechS: Infinity, minSilenceMs: 100, padMs: 30, atMaxMs: 98, useMaxPoss: true };
  const variants: [string, Partial<Opts>][] = [
    ['defaults', {}],
    ['padding wider than the silence (gaps halved)', { padMs: 200, minSilenceMs: 50 }],
    ['max speech, longest silence', { maxSpeechS: 1.2, minSilenceMs: 300 }],
    ['max speech, last silence', { maxSpeechS: 1.2, minSilenceMs: 300, useMaxPoss: false }],
    ['max speech, no silence to cut at', { maxSpeechS: 0.5, minSilenceMs: 1000 }],
    ['thresholds', { threshold: 0.35, neg: 0.3, minSpeechMs: 0 }],
  ];
  for (const [name, v] of variants) {
    it(name, () => {
      let segments = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const probs = randomProbs(400 + seed * 7, seed);
        const length = probs.length * 512 - (seed * 37) % 511;
        const o = { ...base, ...v };
        const want = reference(probs, length, o);
        expect(streamed(probs, length, o)).toEqual(want);
        segments += want.length;
      }
      expect(segments).toBeGreaterThan(40);
    });
  }

  it('at 8 kHz', () => {
    const probs = randomProbs(500, 99);
    const o = { ...base, padMs: 120 };
    expect(streamed(probs, 500 * 256, o, 8000)).toEqual(reference(probs, 500 * 256, o, 8000));
  });
});
