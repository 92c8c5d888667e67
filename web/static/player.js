// player.js: plays an endless /stream in an <audio> element, starting as
// soon as the first bytes arrive, and reconnects by itself.
//
// Where the browser can take MP3 in Media Source Extensions, the page reads
// the stream with fetch() and appends it to a SourceBuffer; the element
// plays as soon as the first frames are buffered. A plain <audio src> waits
// on the browser's own heuristics instead: Chromium's FFmpeg demuxer fills
// its 32 KiB read buffer before it reports metadata (2 s of a 128 kbit/s
// stream, so about a second after a 1 s burst), and for a stream of no
// known length it never judges that it "can play through" while the
// download runs, so `autoplay` waits seconds more (7 s here). With MSE the click-to-sound time is the time to the first
// bytes plus a few tens of milliseconds. <audio src> is the fallback where
// MSE cannot take audio/mpeg.

import { retryDelay } from '/api.js';

const MSE_TYPE = 'audio/mpeg';
// STALL_MS: an open stream that sends nothing for this long is taken as
// dead and reconnected (the server sends every tick, half a second by
// default).
const STALL_MS = 8000;
// KEEP_BEHIND_S: audio kept in the SourceBuffer behind the play position;
// older audio is removed, so an endless stream stays within the browser's
// buffer quota.
const KEEP_BEHIND_S = 10;
// LEAD_WINDOW_MS and LEAD_SLACK_S: every window, the smallest lead (audio
// buffered ahead of the play position) is compared with the first window's;
// past it by more than the slack (a clock slower than the server's, or
// audio left over from a dropped connection), the player skips ahead.
const LEAD_WINDOW_MS = 5000;
const LEAD_SLACK_S = 1;

export const usesMSE = typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(MSE_TYPE);

// once resolves on target's event, or rejects on its 'error'.
function once(target, event) {
  return new Promise((resolve, reject) => {
    const ok = () => { target.removeEventListener('error', bad); resolve(); };
    const bad = () => { target.removeEventListener(event, ok); reject(new Error(event + ' failed')); };
    target.addEventListener(event, ok, { once: true });
    target.addEventListener('error', bad, { once: true });
  });
}

// Player plays one stream URL at a time in audio.
export class Player {
  // report(state, text, detail): state is 'connecting', 'playing',
  // 'buffering', 'retrying', 'gone', 'blocked' or 'stopped'; text says it
  // for a person; detail.startMs (on the first 'playing') is the time from
  // start() to sound.
  constructor(audio, report) {
    this.audio = audio;
    this.report = report;
    this.on = false;
    this.gen = 0; // connection generation: callbacks of older ones are ignored
    this.timer = 0;
    this.attempt = 0;
    this.retried = false;
    audio.addEventListener('playing', () => this.playing());
    audio.addEventListener('waiting', () => {
      if (this.on && !this.timer) this.report('buffering', 'Buffering…');
    });
    audio.addEventListener('error', () => {
      if (this.on) this.retry('The player failed to decode the stream.', 0, true);
    });
    audio.addEventListener('ended', () => {
      if (this.on) this.retry('The stream ended.');
    });
    window.addEventListener('online', () => {
      if (this.on && this.timer) { clearTimeout(this.timer); this.timer = 0; this.reconnect(); }
    });
  }

  // start plays url (a /stream path). Call it from a user's click: the
  // browser lets a page start sound only after one.
  start(url) {
    this.stop(true);
    this.url = url;
    this.on = true;
    this.attempt = 0;
    this.retried = false;
    this.startAt = performance.now();
    this.sounded = false;
    this.report('connecting', 'Connecting…');
    this.open();
    this.play();
    this.watchStart();
  }

  // stop ends playback and the connection.
  stop(quiet = false) {
    this.on = false;
    this.gen++;
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.abort) this.abort.abort();
    this.abort = null;
    this.ms = null;
    this.sb = null;
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    if (!quiet) this.report('stopped', 'Stopped.');
  }

  play() {
    this.audio.play().catch((e) => {
      if (this.on && e.name === 'NotAllowedError') {
        this.report('blocked', 'The browser is holding the sound back: press Play.');
      } // AbortError: a newer load replaced this one; nothing to do
    });
  }

  // open gives the element a new source: a MediaSource fed by connect(), or
  // the stream's URL itself.
  open() {
    const gen = ++this.gen;
    if (!usesMSE) {
      this.audio.src = this.url;
      return;
    }
    const ms = new MediaSource();
    const obj = URL.createObjectURL(ms);
    this.ms = ms;
    this.sb = null;
    this.appended = false;
    this.lead = { low: Infinity, base: null, since: performance.now() };
    ms.addEventListener('sourceopen', () => {
      URL.revokeObjectURL(obj);
      if (gen !== this.gen) return;
      this.sb = ms.addSourceBuffer(MSE_TYPE);
      this.sb.mode = 'sequence'; // MP3 carries no timestamps: one frame after another
      this.connect(gen);
    }, { once: true });
    this.audio.src = obj;
  }

  // connect reads the stream into the SourceBuffer until it ends or fails.
  async connect(gen) {
    const ac = new AbortController();
    this.abort = ac;
    let resp;
    try {
      resp = await fetch(this.url, { signal: ac.signal, cache: 'no-store' });
    } catch {
      if (gen === this.gen) this.retry('The server cannot be reached.');
      return;
    }
    if (gen !== this.gen) { ac.abort(); return; }
    if (resp.status === 404) { ac.abort(); this.gone(); return; }
    if (!resp.ok) {
      ac.abort();
      const after = Number(resp.headers.get('Retry-After'));
      this.retry(`The server is busy (${resp.status}).`, after > 0 ? Math.min(after, 30) * 1000 : 0);
      return;
    }
    const reader = resp.body.getReader();
    let first = true;
    let last = performance.now();
    const stall = setInterval(() => {
      if (gen !== this.gen) { clearInterval(stall); return; }
      if (performance.now() - last > STALL_MS) { clearInterval(stall); this.retry('The stream stalled.'); }
    }, 1000);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (gen !== this.gen) return;
        if (done) { this.retry('The stream ended.'); return; }
        last = performance.now();
        await this.append(value, first);
        if (gen !== this.gen) return;
        if (first && this.retried && this.sounded && !this.audio.paused) {
          // Back without a stall: the element fires no 'playing' to say so.
          this.report('playing', 'Playing again after reconnecting.');
          this.retried = false;
        }
        first = false;
        this.attempt = 0;
      }
    } catch {
      if (gen === this.gen) this.retry('The connection was lost.');
    } finally {
      clearInterval(stall);
    }
  }

  // append adds bytes of the stream to the SourceBuffer. The first bytes of
  // a new connection start after whatever frame the last one cut: abort()
  // resets the parser, and in sequence mode the new audio follows the old.
  async append(bytes, first) {
    const sb = this.sb;
    if (sb.updating) await once(sb, 'updateend');
    if (first && this.appended) {
      sb.abort();
      this.skipTo = this.bufferedEnd(); // what the old connection left plays no more
    }
    try {
      sb.appendBuffer(bytes);
    } catch (e) {
      if (e.name !== 'QuotaExceededError') throw e;
      await this.trim(0);
      sb.appendBuffer(bytes);
    }
    await once(sb, 'updateend');
    this.appended = true;
    await this.keepUp();
  }

  bufferedEnd() {
    const b = this.audio.buffered;
    return b.length ? b.end(b.length - 1) : 0;
  }

  // keepUp holds the buffer to what is needed: old audio out, and the
  // play position no further behind the newest audio than it started.
  async keepUp() {
    const a = this.audio;
    const now = performance.now();
    if (this.skipTo !== undefined && this.bufferedEnd() > this.skipTo + 0.2) {
      if (a.currentTime < this.skipTo) a.currentTime = this.skipTo;
      this.skipTo = undefined;
    }
    const lead = this.bufferedEnd() - a.currentTime;
    const L = this.lead;
    if (!a.paused && a.readyState >= 3) L.low = Math.min(L.low, lead);
    if (now - L.since >= LEAD_WINDOW_MS && Number.isFinite(L.low)) {
      if (L.base === null) L.base = L.low;
      else if (L.low > L.base + LEAD_SLACK_S) a.currentTime += L.low - L.base;
      L.low = Infinity;
      L.since = now;
    }
    await this.trim(KEEP_BEHIND_S);
  }

  // trim removes the audio more than behind seconds before the play position.
  async trim(behind) {
    const sb = this.sb;
    const b = this.audio.buffered;
    if (!sb || !b.length) return;
    const cut = this.audio.currentTime - behind;
    if (cut - b.start(0) < (behind ? 5 : 0.5)) return; // in batches, not every append
    if (sb.updating) await once(sb, 'updateend');
    sb.remove(0, cut);
    await once(sb, 'updateend');
  }

  // retry drops the connection and reconnects after a growing delay;
  // rebuild (after a media error) starts the element afresh as well.
  retry(reason, minWait = 0, rebuild = false) {
    if (!this.on || this.timer) return;
    this.gen++;
    if (this.abort) this.abort.abort();
    const wait = Math.max(minWait, retryDelay(this.attempt++));
    this.retried = true;
    this.rebuild = this.rebuild || rebuild || !usesMSE;
    this.report('retrying', `${reason} Reconnecting in ${(wait / 1000).toFixed(1)} s (attempt ${this.attempt})…`);
    this.timer = setTimeout(() => { this.timer = 0; this.reconnect(); }, wait);
  }

  reconnect() {
    if (!this.on) return;
    this.report('connecting', 'Reconnecting…');
    if (this.rebuild || !this.ms || this.ms.readyState !== 'open' || this.audio.error) {
      this.rebuild = false;
      if (!usesMSE) { this.probe(); return; }
      this.open();
      this.play();
      return;
    }
    this.connect(++this.gen);
  }

  // probe asks for the stream's head before the <audio src> fallback loads
  // it again: the element cannot tell a stream that is gone (404) from one
  // that failed.
  async probe() {
    const gen = ++this.gen;
    let status = 0;
    try { status = (await fetch(this.url, { method: 'HEAD', cache: 'no-store' })).status; } catch { /* down */ }
    if (gen !== this.gen) return;
    if (status === 404) { this.gone(); return; }
    if (status !== 200) { this.retry('The server cannot be reached.'); return; }
    this.audio.src = this.url;
    this.play();
  }

  gone() {
    const on = this.on;
    this.stop(true);
    if (on) this.report('gone', 'This stream no longer exists: a stream is removed after a while with no listener.');
  }

  playing() {
    if (!this.on) return;
    if (this.sounded) {
      this.report('playing', this.retried ? 'Playing again after reconnecting.' : 'Playing.');
      this.retried = false;
    }
  }

  // watchStart times the start: from start() to the play position moving.
  watchStart() {
    const began = this.startAt;
    const poll = () => {
      if (!this.on || this.sounded || this.startAt !== began) return;
      if (this.audio.currentTime > 0) {
        this.sounded = true;
        const ms = performance.now() - began;
        this.report('playing', `Playing: sound ${(ms / 1000).toFixed(2)} s after Play.`, { startMs: ms });
        return;
      }
      setTimeout(poll, 5);
    };
    poll();
  }
}
