/**
 * examples/listen/node.mjs as a user runs it: the speech segments of a WAV file, and with the micro
 * Whisper folder the transcript of each segment — equal to the automatic-speech-recognition
 * pipeline run in-process on the segments the detector gives.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';
import { VoiceActivityDetector, pipeline } from '../../src/index.js';
import { readWav } from '../../src/audio/wav.js';

const run = promisify(execFile);
const example = join(root, 'examples/listen/node.mjs');
const wav = join(root, 'models/vad/speech-16k.wav');
const whisper = join(root, 'models/whisper/micro');
type Out = { seconds: number; segments: { start: number; end: number; text?: string }[] };

describe('examples/listen/node.mjs', () => {
  it('prints the speech segments of a WAV file, and their transcripts with a Whisper folder', async () => {
    const plain = JSON.parse((await run(process.execPath, [example, wav, '--json'], { cwd: root })).stdout) as Out;
    expect(plain.seconds).toBeCloseTo(9.496, 2);
    expect(plain.segments).toHaveLength(2);
    expect(plain.segments.every((s) => s.text === undefined)).toBe(true);

    const heard = JSON.parse((await run(process.execPath, [example, wav, whisper, '--json'], { cwd: root })).stdout) as Out;
    expect(heard.segments.map(({ start, end }) => ({ start, end }))).toEqual(plain.segments);
    const vad = await VoiceActivityDetector.create(join(root, 'models/vad/silero-lookalike.onnx'), { min_silence_duration_ms: 500 });
    const asr = await pipeline('automatic-speech-recognition', whisper);
    const segments = await vad.detect(readWav(readFileSync(wav)).samples);
    const texts: string[] = [];
    for (const s of segments) texts.push((await asr(s.audio)).text.trim());
    expect(heard.segments.map((s) => s.text)).toEqual(texts);
    expect(texts.every((t) => t.length > 0)).toBe(true);
    await Promise.all([vad.release(), asr.dispose()]);
  });

  it('says what is wrong with a file that is not a WAV', async () => {
    await expect(run(process.execPath, [example, join(root, 'models/vad/speech.json')], { cwd: root })).rejects.toMatchObject({ stderr: expect.stringMatching(/not a WAV file/) });
  });
});
