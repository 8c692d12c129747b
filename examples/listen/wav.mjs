// A small WAV reader for the listen examples (Node, the Worker, the tests): PCM 8/16/24/32-bit
// and float32/64, any channel count (averaged to mono), and a resampler to the detector's rate.
// Windowed-sinc resampling is enough for voice activity and speech recognition.

/** Parses WAV bytes → { sampleRate, channels, samples: Float32Array (mono) }. Throws on anything else. */
export function readWav(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const tag = (at) => String.fromCharCode(u8[at], u8[at + 1], u8[at + 2], u8[at + 3]);
  if (u8.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a WAV file (no RIFF/WAVE header)');
  let fmt;
  for (let at = 12; at + 8 <= u8.length;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      let format = view.getUint16(body, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE
      fmt = { format, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before its fmt chunk');
      const end = Math.min(u8.length, body + size);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples: decode(view, body, end, fmt) };
    }
    at = body + size + (size & 1);
  }
  throw new Error('WAV file without a data chunk');
}

function decode(view, from, to, { format, channels, bits }) {
  const width = bits / 8;
  if (!(format === 1 && [8, 16, 24, 32].includes(bits)) && !(format === 3 && (bits === 32 || bits === 64))) {
    throw new Error(`unsupported WAV encoding: format ${format}, ${bits} bits (PCM 8/16/24/32 or float 32/64)`);
  }
  const frames = Math.floor((to - from) / (width * channels));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const at = from + (i * channels + c) * width;
      let v;
      if (format === 3) v = bits === 32 ? view.getFloat32(at, true) : view.getFloat64(at, true);
      else if (bits === 8) v = (view.getUint8(at) - 128) / 128;
      else if (bits === 16) v = view.getInt16(at, true) / 32768;
      else if (bits === 24) v = ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16))) / 8388608;
      else v = view.getInt32(at, true) / 2147483648;
      sum += v;
    }
    out[i] = sum / channels;
  }
  return out;
}

/** Resamples mono samples from `from` Hz to `to` Hz (Hann-windowed sinc, 16 zero crossings). */
export function resample(samples, from, to) {
  if (from === to) return samples;
  const ratio = to / from;
  const out = new Float32Array(Math.round(samples.length * ratio));
  const cutoff = Math.min(1, ratio); // low-pass below the lower Nyquist
  const half = 16 / cutoff;
  for (let i = 0; i < out.length; i++) {
    const center = i / ratio;
    const lo = Math.ceil(center - half);
    const hi = Math.floor(center + half);
    let acc = 0;
    let norm = 0;
    for (let j = lo; j <= hi; j++) {
      const x = (j - center) * cutoff;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * (j - center)) / half);
      const k = (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)) * w;
      norm += k;
      if (j >= 0 && j < samples.length) acc += samples[j] * k;
    }
    out[i] = acc / norm;
  }
  return out;
}
