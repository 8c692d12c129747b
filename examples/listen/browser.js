// The microphone → an AudioWorklet (16 kHz chunks) → VoiceActivityDetector.segments() → the list.
// With ?asr=<folder URL>, each segment is transcribed by the automatic-speech-recognition pipeline.
// ?autostart=1 starts without the button (the Chromium test uses it with a fake microphone).
import { VoiceActivityDetector, pipeline } from 'tessera';

const params = new URLSearchParams(location.search);
const status = document.getElementById('status');
const list = document.getElementById('segments');
const level = document.getElementById('level');
const startButton = document.getElementById('start');
const stopButton = document.getElementById('stop');
const state = (window.listen = { segments: [], error: undefined, ready: false, chunks: 0 });

// 500 ms of silence ends a segment (Silero's default 100 ms splits sentences at commas)
const vad = await VoiceActivityDetector.create(new URL(params.get('vad') ?? '../../models/vad/silero-lookalike.onnx', import.meta.url).href, {
  min_silence_duration_ms: Number(params.get('min_silence_ms') ?? 500),
});
let asr;
if (params.get('asr')) {
  status.textContent = 'loading the speech recognizer…';
  asr = await pipeline('automatic-speech-recognition', new URL(params.get('asr'), location.href).href);
}
status.textContent = 'ready';
state.ready = true;
document.body.dataset.ready = '1';

let stopCapture;

/** Chunks from the worklet as an async iterable the detector reads; ends when stop() is called. */
function chunkQueue() {
  const waiting = [];
  let wake;
  let done = false;
  return {
    push(chunk) { waiting.push(chunk); wake?.(); },
    end() { done = true; wake?.(); },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (waiting.length) { yield waiting.shift(); continue; }
        if (done) return;
        await new Promise((r) => (wake = r));
        wake = undefined;
      }
    },
  };
}

async function start() {
  startButton.disabled = true;
  const media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const context = new AudioContext();
  await context.audioWorklet.addModule(new URL('capture-worklet.js', import.meta.url));
  const source = context.createMediaStreamSource(media);
  const node = new AudioWorkletNode(context, 'capture-16k');
  const queue = chunkQueue();
  node.port.onmessage = ({ data }) => {
    state.chunks++;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
    level.firstElementChild.style.width = `${Math.min(100, Math.sqrt(sum / data.length) * 400)}%`;
    queue.push(data);
  };
  source.connect(node);
  stopCapture = () => {
    source.disconnect();
    media.getTracks().forEach((t) => t.stop());
    context.close();
    queue.end();
  };
  stopButton.disabled = false;
  status.textContent = `listening (${context.sampleRate} Hz → 16 kHz)`;
  try {
    for await (const segment of vad.segments(queue)) {
      const item = { start: segment.start, end: segment.end, text: undefined };
      const li = document.createElement('li');
      li.innerHTML = `<span class="t">${segment.start.toFixed(2)} – ${segment.end.toFixed(2)} s</span> `;
      list.append(li);
      if (asr) {
        item.text = (await asr(segment.audio)).text.trim();
        li.append(item.text);
      } else li.append(`${(segment.end - segment.start).toFixed(2)} s of speech`);
      state.segments.push(item);
    }
  } catch (e) {
    state.error = String(e);
    status.textContent = `error: ${e.message}`;
  }
}

startButton.onclick = () => start().catch((e) => { state.error = String(e); status.textContent = `error: ${e.message}`; });
stopButton.onclick = () => { stopButton.disabled = true; startButton.disabled = false; stopCapture?.(); status.textContent = 'stopped'; };
if (params.get('autostart')) startButton.onclick();
