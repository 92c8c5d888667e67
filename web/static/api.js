// api.js: the server's HTTP routes as the page uses them — JSON requests,
// coalesced /set_param changes, and the /events push channel.

// parseJSON parses a response body. An integer past 2^53 (a seed) would lose
// digits as a Number, so it is kept as its decimal text where the browser
// gives the reviver the source (JSON.parse source text access).
export function parseJSON(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === 'number' && !Number.isSafeInteger(value) &&
    context && /^\d+$/.test(context.source) ? context.source : value);
}

// request fetches a JSON route and returns {status, body, headers}; body is
// null when the answer is not JSON. It throws only when the request fails on
// the network (the server is down or unreachable).
export async function request(path, init) {
  const resp = await fetch(path, { cache: 'no-store', ...init });
  const text = await resp.text();
  let body = null;
  try { body = parseJSON(text); } catch { /* not JSON: body stays null */ }
  return { status: resp.status, body, headers: resp.headers };
}

// query builds "?a=1&b=2" from [key, value] pairs, values as text.
export function query(pairs) {
  const q = new URLSearchParams();
  for (const [k, v] of pairs) q.append(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}

// retryDelay is the wait before retry number attempt (0, 1, …): 250 ms
// doubling to 8 s, less up to a quarter at random so that the tabs of a
// restarted server do not all come back in the same instant.
export function retryDelay(attempt) {
  const base = Math.min(250 * 2 ** attempt, 8000);
  return Math.round(base * (1 - Math.random() / 4));
}

// MIN_GAP_MS spaces the /set_param requests of one page: a slider dragged
// sends at most ten a second, the latest values each time; a change made
// while none was sent for this long goes at once.
const MIN_GAP_MS = 100;

// Sender sends parameter changes for a control token, coalesced: one request
// in flight at a time; the changes made meanwhile wait in a map, each key
// keeping only its latest value, and go together in the next request. The
// server applies a request's pairs all or none, so when it refuses one key
// (400, naming it) the others are sent again without it.
export class Sender {
  // hooks: sent(pairs, at) as a request leaves (at: performance.now());
  // applied(body) on a 200; refused(key, error) on a 400 or 403 (key null
  // when no key is named); failed(message) when the stream is gone or the
  // server cannot be reached (the changes are kept and retried).
  constructor(token, hooks) {
    this.token = token;
    this.hooks = hooks;
    this.pending = new Map();
    this.inflight = null; // Map of the pairs on the wire
    this.last = -Infinity;
    this.timer = 0;
    this.attempt = 0;
  }

  // set queues key=value and sends as soon as the rules above allow.
  set(key, value) {
    this.pending.set(key, value);
    this.kick();
  }

  // busy reports whether key has a change queued or on the wire.
  busy(key) {
    return this.pending.has(key) || (this.inflight !== null && this.inflight.has(key));
  }

  // kick sends the queued changes after wait ms (by default, once the gap
  // since the last request has passed), unless a request is on the wire.
  kick(wait = this.last + MIN_GAP_MS - performance.now()) {
    if (this.inflight || this.timer || this.pending.size === 0) return;
    if (wait > 0) {
      this.timer = setTimeout(() => { this.timer = 0; this.kick(); }, wait);
      return;
    }
    this.send();
  }

  async send() {
    const pairs = this.pending;
    this.pending = new Map();
    this.inflight = pairs;
    this.last = performance.now();
    this.hooks.sent(pairs, this.last);
    let retryIn = 0;
    try {
      const r = await request('/set_param' + query([['id', this.token], ...pairs]));
      this.attempt = 0;
      if (r.status === 200) {
        this.hooks.applied(r.body);
      } else if (r.status === 400 || r.status === 403) {
        const key = r.body && pairs.has(r.body.key) ? r.body.key : null;
        this.hooks.refused(key, (r.body && r.body.error) || `refused (${r.status})`, r.body);
        if (key !== null) {
          for (const [k, v] of pairs) if (k !== key) this.requeue(k, v);
        }
      } else if (r.status === 404) {
        this.hooks.failed('This stream no longer exists.');
      } else { // 503: not stored, nothing changed; try again when told
        for (const [k, v] of pairs) this.requeue(k, v);
        const after = Number(r.headers.get('Retry-After'));
        retryIn = after > 0 ? Math.min(after, 30) * 1000 : retryDelay(this.attempt++);
        this.hooks.failed(`The server could not store the change (${r.status}); trying again.`);
      }
    } catch {
      for (const [k, v] of pairs) this.requeue(k, v);
      retryIn = retryDelay(this.attempt++);
      this.hooks.failed('The server cannot be reached; the change will be sent when it is back.');
    } finally {
      this.inflight = null;
    }
    this.kick(Math.max(retryIn, this.last + MIN_GAP_MS - performance.now()));
  }

  // requeue puts back a pair that was not applied, unless a newer value of
  // the same key is already waiting.
  requeue(k, v) {
    if (!this.pending.has(k)) this.pending.set(k, v);
  }
}

// follow opens /events for token and calls onState(params event) for each
// `params` event: the stream's state at once, then every accepted change.
// status(text) tells how the channel is doing. The channel reopens by itself
// with a growing delay after any error (EventSource gives up for good on a
// non-200 answer, so the page does the retrying). It returns a function that
// closes it.
export function follow(token, onState, status) {
  let es = null;
  let attempt = 0;
  let timer = 0;
  let closed = false;
  const open = () => {
    timer = 0;
    es = new EventSource('/events' + query([['id', token]]));
    es.addEventListener('params', (ev) => {
      attempt = 0;
      status('');
      let state;
      try { state = parseJSON(ev.data); } catch { return; }
      onState(state);
    });
    es.addEventListener('error', () => {
      es.close();
      if (closed) return;
      const wait = retryDelay(attempt++);
      status(`Live updates interrupted; reconnecting in ${(wait / 1000).toFixed(1)} s.`);
      timer = setTimeout(open, wait);
    });
  };
  open();
  return () => {
    closed = true;
    clearTimeout(timer);
    if (es) es.close();
  };
}
