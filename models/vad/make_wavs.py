"""Make the test clips: two espeak-ng sentences with silences around and between them, 16-bit
mono WAV at 16 kHz and 8 kHz, plus where the speech is (speech.json, samples at each rate).

Run: /usr/bin/python3 models/vad/make_wavs.py   (needs espeak-ng; tests use the committed files)
Commands run: espeak-ng -v en-us -s 150 -p 50 -w <tmp> "<sentence>" for each sentence below.
"""
import json
import os
import subprocess
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SENTENCES = ['Hello, this is tessera, listening on the device.',
             'The quick brown fox jumps over the lazy dog.']
LAYOUT_S = [0.8, 1.5, 1.0]  # silence before, between, after


def resample(x, src, dst):
    n_out = int(round(len(x) * dst / src))
    spec = np.fft.rfft(x)
    keep = min(len(spec), n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    out[:keep] = spec[:keep]
    return np.fft.irfft(out, n_out) * (n_out / len(x))


def speak(text, tmp):
    path = os.path.join(tmp, 'say.wav')
    subprocess.run(['espeak-ng', '-v', 'en-us', '-s', '150', '-p', '50', '-w', path, text], check=True)
    with wave.open(path) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float64) / 32768
    nz = np.nonzero(np.abs(x) > 1e-3)[0]
    return x[nz[0]:nz[-1] + 1], rate


def write(path, x, rate):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype('<i2')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def main():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        clips = [speak(s, tmp) for s in SENTENCES]
    truth = {}
    for rate in (16000, 8000):
        parts, spans, pos = [], [], 0
        for i, (clip, src) in enumerate(clips):
            gap = np.zeros(int(LAYOUT_S[i] * rate))
            parts.append(gap)
            pos += len(gap)
            y = resample(clip, src, rate) * 0.5 / np.max(np.abs(clip))
            parts.append(y)
            spans.append([pos, pos + len(y)])
            pos += len(y)
        parts.append(np.zeros(int(LAYOUT_S[-1] * rate)))
        x = np.concatenate(parts)
        x += rng.standard_normal(len(x)) * 10 ** (-60 / 20)  # a quiet room's noise floor
        name = f'speech-{rate // 1000}k.wav'
        write(os.path.join(HERE, name), x, rate)
        truth[name] = {'sampleRate': rate, 'samples': len(x), 'speech': spans, 'sentences': SENTENCES}
    with open(os.path.join(HERE, 'speech.json'), 'w') as f:
        json.dump(truth, f, indent=2)
        f.write('\n')
    print(json.dumps(truth))


if __name__ == '__main__':
    main()
