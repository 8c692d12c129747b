"""
Speech-shaped test audio, synthesised with Debian's espeak-ng (English voice), PCM 16-bit mono:

  hello-16k.wav    "Hello world. This is a test of speech recognition."       16 kHz
  numbers-22k.wav  "One, two, three."                              22,050 Hz (espeak's own rate)
  long-8k.wav      the phrases below, each followed by 0.6 s of silence, repeated until the
                   clip is longer than 30 s (for chunking and voice-activity tests)  8 kHz

Each phrase is `espeak-ng -w phrase.wav -v en "<text>"` (22,050 Hz); other rates are made here
by windowed-sinc resampling (Hann window, 32 zero crossings, cut-off at the lower Nyquist), as
there is no sox. Random-weight models will not transcribe these: they give tests real
speech-shaped input (onsets, pauses, formants), not expected text.

  /usr/bin/python3 models/whisper/audio/make_audio.py
"""
import os
import subprocess
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LONG = ['The quick brown fox jumps over the lazy dog.',
        'Offline devices mostly listen: voice notes, captions and commands.',
        'Speech recognition runs in WebAssembly without a server.',
        'She sells sea shells by the sea shore.']


def espeak(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'x.wav')
        subprocess.run(['espeak-ng', '-w', path, '-v', 'en', text], check=True)
        with wave.open(path) as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64) / 32768
    return x, rate


def resample(x, src, dst, zeros=32):
    if src == dst:
        return x
    cutoff = min(src, dst) / 2 / src  # cycles per input sample
    n_out = int(len(x) * dst / src)
    t = np.arange(n_out) * src / dst
    out = np.zeros(n_out)
    half = int(np.ceil(zeros / (2 * cutoff)))
    for off in range(-half, half + 1):
        k = np.floor(t).astype(np.int64) + off
        valid = (k >= 0) & (k < len(x))
        d = t - k
        h = 2 * cutoff * np.sinc(2 * cutoff * d) * (0.5 + 0.5 * np.cos(np.pi * np.clip(d / half, -1, 1)))
        out += np.where(valid, x[np.clip(k, 0, len(x) - 1)] * h, 0)
    return out


def write(name, x, rate):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype('<i2')
    with wave.open(os.path.join(HERE, name), 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    print(name, f'{len(x) / rate:.2f} s', os.path.getsize(os.path.join(HERE, name)), 'bytes')


def main():
    x, r = espeak('Hello world. This is a test of speech recognition.')
    write('hello-16k.wav', resample(x, r, 16000), 16000)
    x, r = espeak('One, two, three.')
    write('numbers-22k.wav', x, r)
    parts, total = [], 0
    phrases = [espeak(t) for t in LONG]
    while total < 32 * 8000:
        for x, r in phrases:
            y = np.concatenate([resample(x, r, 8000), np.zeros(int(0.6 * 8000))])
            parts.append(y)
            total += len(y)
            if total >= 32 * 8000:
                break
    write('long-8k.wav', np.concatenate(parts), 8000)


if __name__ == '__main__':
    main()
