/**
 * Silero's `get_speech_timestamps` decisions (silero-vad utils_vad.py), made one window at a time:
 * the same thresholds, hysteresis, minimum speech and silence, cut of over-long speech at its
 * longest inner silence, and padding (halving gaps shorter than two paddings). The batch function
 * pads after seeing every segment; here a segment is handed on as soon as no later segment can
 * change its padding, so a stream yields exactly the segments the whole clip would give.
 * Sample positions only: the detector (vad.ts) owns the model and the audio.
 */

/** The options in samples, as get_speech_timestamps computes them. */
export interface SegmenterSettings {
  threshold: number;
  negThreshold: number;
  minSpeechSamples: number;
  minSilenceSamples: number;
  padSamples: number;
  maxSpeechSamples: number;
  minSilenceAtMaxSpeech: number;
  useMaxPossibleSilence: boolean;
}

/** Receives each finished segment, padded: [start, end) in samples. */
export type RawSegmentSink = (start: number, end: number) => void;

/** The segmentation state machine of one stream. */
export class SpeechSegmenter {
  private triggered = false;
  private current: number | undefined; // start of the open segment
  private tempEnd = 0; // where the silence inside the open segment began (0: none, as in Silero)
  private prevEnd = 0;
  private nextStart = 0;
  private possibleEnds: [number, number][] = [];
  // the last closed segment, waiting to know whether the next one is closer than two paddings
  private pending: { start: number; end: number; paddedStart: number } | undefined;

  constructor(private readonly s: SegmenterSettings, private readonly sink: RawSegmentSink) {}

  /** One window's speech probability; `cur` is the window's first sample. */
  push(p: number, cur: number): void {
    const s = this.s;
    if (p >= s.threshold && this.tempEnd) {
      const silence = cur - this.tempEnd;
      if (silence > s.minSilenceAtMaxSpeech) this.possibleEnds.push([this.tempEnd, silence]);
      this.tempEnd = 0;
      if (this.nextStart < this.prevEnd) this.nextStart = cur;
    }
    if (p >= s.threshold && !this.triggered) {
      this.triggered = true;
      this.current = cur;
      return;
    }
    if (this.triggered && cur - this.current! > s.maxSpeechSamples) {
      if (s.useMaxPossibleSilence && this.possibleEnds.length > 0) {
        let best = this.possibleEnds[0]!;
        for (const e of this.possibleEnds) if (e[1] > best[1]) best = e; // the first longest, as max() picks
        const [end, silence] = best;
        this.close(this.current!, end);
        this.current = undefined;
        this.nextStart = end + silence;
        if (this.nextStart < end + cur) this.current = this.nextStart;
        else this.triggered = false;
        this.prevEnd = this.nextStart = this.tempEnd = 0;
        this.possibleEnds = [];
      } else if (this.prevEnd) {
        this.close(this.current!, this.prevEnd);
        this.current = undefined;
        if (this.nextStart < this.prevEnd) this.triggered = false;
        else this.current = this.nextStart;
        this.prevEnd = this.nextStart = this.tempEnd = 0;
        this.possibleEnds = [];
      } else {
        this.close(this.current!, cur);
        this.current = undefined;
        this.prevEnd = this.nextStart = this.tempEnd = 0;
        this.triggered = false;
        this.possibleEnds = [];
        return;
      }
    }
    if (p < s.negThreshold && this.triggered) {
      if (!this.tempEnd) this.tempEnd = cur;
      const silence = cur - this.tempEnd;
      if (!s.useMaxPossibleSilence && silence > s.minSilenceAtMaxSpeech) this.prevEnd = this.tempEnd;
      if (silence < s.minSilenceSamples) return;
      if (this.tempEnd - this.current! > s.minSpeechSamples) this.close(this.current!, this.tempEnd);
      this.current = undefined;
      this.prevEnd = this.nextStart = this.tempEnd = 0;
      this.triggered = false;
      this.possibleEnds = [];
    }
  }

  /**
   * Hands on the pending segment once no later one can start within two paddings of it: every
   * later start is at `nextWindow` or after, or at the open segment's start (which may yet be
   * dropped as too short, so it must be far enough itself).
   */
  settle(nextWindow: number, received: number): void {
    const p = this.pending;
    const far = 2 * this.s.padSamples;
    // an open segment decides it only once it is kept (closed) unless it is already far enough
    if (p && nextWindow - p.end >= far && (this.current === undefined || this.current - p.end >= far)) {
      this.pending = undefined;
      this.sink(p.paddedStart, Math.trunc(Math.min(received, p.end + this.s.padSamples)));
    }
  }

  /** End of the stream after `length` samples: the open segment closed there, the last one padded. */
  finish(length: number): void {
    if (this.current !== undefined && length - this.current > this.s.minSpeechSamples) this.close(this.current, length);
    this.current = undefined;
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      this.sink(p.paddedStart, Math.trunc(Math.min(length, p.end + this.s.padSamples)));
    }
  }

  /** The first sample a segment not handed on yet may still include. */
  earliestNeeded(nextWindow: number): number {
    let at = nextWindow - this.s.padSamples;
    if (this.current !== undefined) at = Math.min(at, this.current - this.s.padSamples);
    if (this.pending) at = Math.min(at, this.pending.paddedStart);
    return Math.max(0, Math.floor(at));
  }

  /** A segment [start, end) before padding; pads the previous one against it. */
  private close(start: number, end: number): void {
    const pad = this.s.padSamples;
    let paddedStart = Math.trunc(Math.max(0, start - pad));
    const prev = this.pending;
    if (prev) {
      const gap = start - prev.end;
      if (gap < 2 * pad) {
        const half = Math.floor(gap / 2);
        this.sink(prev.paddedStart, prev.end + half);
        paddedStart = Math.trunc(Math.max(0, start - half));
      } else {
        this.sink(prev.paddedStart, Math.trunc(prev.end + pad));
      }
    }
    this.pending = { start, end, paddedStart };
  }
}
