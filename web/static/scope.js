// scope.js: the spectrum of what is playing, from a Web Audio AnalyserNode
// fed by the <audio> element, its loudest frequency, and the measured delay
// from a change sent to the change seen in the spectrum.

// FFT_SIZE 4096 at 44.1 kHz gives 10.8 Hz bins (a semitone at 200 Hz is
// 12 Hz) over a 93 ms window, short enough that a change shows within a
// frame or two of reaching the analyser.
const FFT_SIZE = 4096;
// ANALYSE_MS paces the analysis (peak, change detection) on a timer, apart
// from drawing, which follows the display's frames and stops in a hidden tab.
const ANALYSE_MS = 20;
// SHOW_MS paces the text of the outputs, so a screen reader is not flooded.
const SHOW_MS = 250;
// The spectrum drawn and searched: the audible band.
const LOW_HZ = 20;
const HIGH_HZ = 20000;
const FLOOR_DB = -100;
const CEIL_DB = -10;
// SILENT_DB: a loudest bin below this is no peak (silence, or gain 0).
const SILENT_DB = -85;
// A change is seen when the spectrum differs from the one before it by
// more than MIN_CHANGE_DB on average over the bins in play, and by more
// than NOISE_FACTOR times the frame-to-frame difference measured before it
// (a melody moves on its own; a steady tone barely does).
const MIN_CHANGE_DB = 4;
const NOISE_FACTOR = 4;
// ACTIVE_DB: the bins within this of the loudest are the ones in play.
const ACTIVE_DB = 50;
// WATCH_MS: a change not seen within this is reported as not seen.
const WATCH_MS = 8000;

export class Scope {
  // canvas: where to draw; peak and delay: <output> elements.
  constructor(canvas, peak, delay) {
    this.canvas = canvas;
    this.peakOut = peak;
    this.delayOut = delay;
    this.analyser = null;
    this.ctx = null;
    this.db = null;
    this.prev = null;
    this.noise = 0;
    this.peakHz = null;
    this.shownAt = 0;
    this.watch = null;
    this.draw = this.draw.bind(this);
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
    this.paint();
  }

  // attach starts analysing the output of source (an AudioNode) in its
  // context, passing it on to out (the context's destination by default).
  attach(audioCtx, source, out = audioCtx.destination) {
    const an = audioCtx.createAnalyser();
    an.fftSize = FFT_SIZE;
    an.smoothingTimeConstant = 0.3;
    an.minDecibels = FLOOR_DB;
    an.maxDecibels = CEIL_DB;
    source.connect(an);
    an.connect(out);
    this.analyser = an;
    this.ctx = audioCtx;
    this.db = new Float32Array(an.frequencyBinCount);
    this.prev = new Float32Array(an.frequencyBinCount);
    setInterval(() => this.analyse(), ANALYSE_MS);
    requestAnimationFrame(this.draw);
  }

  // changed starts timing a change sent at `at` (performance.now()). A change
  // sent while one is being timed restarts the clock but keeps the spectrum
  // from before the first, which is what the new sound is compared with.
  changed(at) {
    if (!this.analyser) return;
    const base = this.watch ? this.watch.base : Float32Array.from(this.db);
    const noise = this.watch ? this.watch.noise : this.noise;
    this.watch = { at, base, noise };
  }

  analyse() {
    const an = this.analyser;
    this.prev.set(this.db);
    an.getFloatFrequencyData(this.db);
    const binHz = this.ctx.sampleRate / FFT_SIZE;
    const lo = Math.max(1, Math.floor(LOW_HZ / binHz));
    const hi = Math.min(this.db.length - 2, Math.ceil(HIGH_HZ / binHz));
    let top = lo;
    for (let i = lo; i <= hi; i++) if (this.db[i] > this.db[top]) top = i;
    const maxDb = this.db[top];
    if (maxDb < SILENT_DB || !Number.isFinite(maxDb)) {
      this.peakHz = null;
    } else { // parabolic interpolation between the neighbouring bins
      const a = this.db[top - 1], b = this.db[top], c = this.db[top + 1];
      const d = a - 2 * b + c;
      const p = d === 0 ? 0 : 0.5 * (a - c) / d;
      this.peakHz = (top + p) * binHz;
    }
    const now = performance.now();
    const w = this.watch;
    if (w) {
      if (distance(this.db, w.base, lo, hi) > Math.max(MIN_CHANGE_DB, NOISE_FACTOR * w.noise)) {
        const out = (this.ctx.outputLatency || 0) + (this.ctx.baseLatency || 0);
        this.heard(now - w.at + out * 1000);
      } else if (now - w.at > WATCH_MS) {
        this.heard(null);
      }
    } else { // how much the sound moves by itself, averaged over ~0.5 s
      this.noise += (distance(this.db, this.prev, lo, hi) - this.noise) / 25;
    }
    if (now - this.shownAt >= SHOW_MS) {
      this.shownAt = now;
      const hz = this.peakHz;
      this.peakOut.value = hz === null ? 'silence' : `${hz < 1000 ? hz.toFixed(1) : Math.round(hz)} Hz`;
      this.peakOut.dataset.hz = hz === null ? '' : hz.toFixed(2);
    }
  }

  heard(ms) {
    this.watch = null;
    this.delayOut.value = ms === null ? 'not seen' : `${(ms / 1000).toFixed(2)} s`;
    this.delayOut.dataset.ms = ms === null ? '' : String(Math.round(ms));
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.paint();
    }
  }

  draw() {
    this.paint();
    requestAnimationFrame(this.draw);
  }

  // paint draws the grid and, once attached, the spectrum on a log axis.
  paint() {
    const g = this.canvas.getContext('2d');
    const { width: w, height: h } = this.canvas;
    const css = getComputedStyle(this.canvas);
    const dpr = window.devicePixelRatio || 1;
    const x = (hz) => w * Math.log(hz / LOW_HZ) / Math.log(HIGH_HZ / LOW_HZ);
    const y = (db) => h * (CEIL_DB - db) / (CEIL_DB - FLOOR_DB);
    g.clearRect(0, 0, w, h);
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.fillStyle = css.getPropertyValue('--grid-text') || '#aaa';
    g.strokeStyle = css.getPropertyValue('--grid') || '#333';
    g.lineWidth = dpr;
    for (const hz of [50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
      g.beginPath();
      g.moveTo(x(hz), 0);
      g.lineTo(x(hz), h);
      g.stroke();
      g.fillText(hz >= 1000 ? `${hz / 1000}k` : String(hz), x(hz) + 3 * dpr, h - 4 * dpr);
    }
    if (!this.analyser) return;
    const binHz = this.ctx.sampleRate / FFT_SIZE;
    g.beginPath();
    g.moveTo(0, h);
    for (let i = 1; i < this.db.length; i++) {
      const hz = i * binHz;
      if (hz < LOW_HZ) continue;
      if (hz > HIGH_HZ) break;
      g.lineTo(x(hz), y(Math.max(FLOOR_DB, this.db[i])));
    }
    g.lineTo(w, h);
    g.closePath();
    g.fillStyle = css.getPropertyValue('--trace-fill') || 'rgba(79,209,197,0.35)';
    g.fill();
    g.strokeStyle = css.getPropertyValue('--trace') || '#4fd1c5';
    g.lineWidth = 1.5 * dpr;
    g.stroke();
    if (this.peakHz !== null) {
      g.strokeStyle = css.getPropertyValue('--peak') || '#f6ad55';
      g.beginPath();
      g.moveTo(x(this.peakHz), 0);
      g.lineTo(x(this.peakHz), h);
      g.stroke();
    }
  }
}

// distance is the mean absolute difference in dB between two spectra over
// the bins in play (within ACTIVE_DB of the loudest of either).
function distance(a, b, lo, hi) {
  let top = FLOOR_DB;
  for (let i = lo; i <= hi; i++) top = Math.max(top, a[i], b[i]);
  const floor = Math.max(FLOOR_DB, top - ACTIVE_DB);
  let sum = 0;
  let n = 0;
  for (let i = lo; i <= hi; i++) {
    const x = Math.max(a[i], FLOOR_DB);
    const y = Math.max(b[i], FLOOR_DB);
    if (x < floor && y < floor) continue;
    sum += Math.abs(x - y);
    n++;
  }
  return n ? sum / n : 0;
}
