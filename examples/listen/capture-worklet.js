// AudioWorklet processor: the microphone's first channel, resampled to 16 kHz, posted to the main
// thread in chunks of 1,600 samples (100 ms). Runs on the audio thread, so it only copies and
// filters; the model runs on the main thread.
const TARGET = 16000;
const CHUNK = 1600;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET; // input samples per output sample
    this.pos = 0; // position of the next output sample, in input samples from prev[0]
    this.prev = new Float32Array(0); // input not yet consumed (at most a few samples)
    this.out = new Float32Array(CHUNK);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    const x = new Float32Array(this.prev.length + channel.length);
    x.set(this.prev);
    x.set(channel, this.prev.length);
    const step = this.step;
    // an integer ratio (48 kHz → 16 kHz) averages each group (a box low-pass); otherwise linear interpolation
    const box = Number.isInteger(step) ? step : 1;
    while (this.pos + Math.max(box, 2) <= x.length) {
      let v;
      if (box > 1) {
        v = 0;
        for (let k = 0; k < box; k++) v += x[this.pos + k];
        v /= box;
      } else {
        const i = Math.floor(this.pos);
        const f = this.pos - i;
        v = x[i] * (1 - f) + x[i + 1] * f;
      }
      this.out[this.filled++] = v;
      if (this.filled === CHUNK) {
        this.port.postMessage(this.out, [this.out.buffer]);
        this.out = new Float32Array(CHUNK);
        this.filled = 0;
      }
      this.pos += step;
    }
    const used = Math.floor(this.pos);
    this.prev = x.slice(used);
    this.pos -= used;
    return true;
  }
}

registerProcessor('capture-16k', CaptureProcessor);
