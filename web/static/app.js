// app.js: the page. It reads its token from the URL — /?id=CONTROL (every
// control) or /?listen=LISTEN (listen only) — or, with none, offers a new
// stream that Play creates with the values on the page.

import { request, query, Sender, follow } from '/api.js';
import { Controls } from '/controls.js';
import { Player } from '/player.js';
import { Scope } from '/scope.js';

const $ = (id) => document.getElementById(id);
const DEFAULT_TITLE = 'A generated stream';

const state = {
  role: 'new', // 'new' (no stream yet), 'control' or 'listen'
  token: null, // the token the page plays and follows
  control: null, // the control token, when the page has it
  listenId: null, // the listen token
};

// loaded settles at the window's load event. The endless requests — the
// stream and /events — start after it: a request still open when the
// document loads holds its load event (and the browser's spinner) forever.
const loaded = new Promise((ok) => {
  if (document.readyState === 'complete') ok();
  else window.addEventListener('load', ok, { once: true });
});

let controls = null;
let sender = null;
let unfollow = null;
let audioCtx = null;
let volume = null;

const player = new Player($('audio'), (kind, text, detail) => {
  const s = $('status');
  s.textContent = text;
  s.dataset.state = kind;
  if (detail && detail.startMs !== undefined) s.dataset.startMs = String(Math.round(detail.startMs));
  if (kind === 'gone') {
    setPlayButton(false);
    $('play').disabled = true;
    notice('This stream no longer exists: “New stream” at the foot of the page starts another.');
  }
});
const scope = new Scope($('spectrum'), $('peak'), $('delay'));

function notice(text) { $('events').textContent = text; }

function setPlayButton(playing) {
  $('play').textContent = playing ? 'Stop' : 'Play';
}

function setTitle(title) {
  const t = title || DEFAULT_TITLE;
  $('title').textContent = t;
  document.title = `${t} · synthcast`;
}

// show puts a stream's JSON ({params, title, …}) on the page.
function show(s) {
  if (!s) return;
  if (s.params && controls) controls.set(s.params, (key) => sender !== null && sender.busy(key));
  if (s.title !== undefined) setTitle(s.title);
}

// adopt makes the page the stream's: its URL, links, controls and push channel.
function adopt(role, body) {
  state.role = role;
  state.token = body.id;
  state.control = role === 'control' ? body.id : null;
  state.listenId = role === 'control' ? body.listen_id : body.id;
  const url = role === 'control' ? '/?id=' + encodeURIComponent(body.id) : '/?listen=' + encodeURIComponent(body.id);
  if (location.pathname + location.search !== url) history.replaceState(null, '', url);
  $('name-row').hidden = true;
  const note = $('role-note');
  if (role === 'listen') {
    note.hidden = false;
    note.textContent = 'You opened a listen link: you hear this stream and see its parameters move, but cannot change them. Its control link steers it.';
  } else {
    note.hidden = true;
  }
  controls.enable(role === 'control', false);
  if (role === 'control') {
    sender = new Sender(body.id, {
      sent: (pairs, at) => { for (const k of pairs.keys()) controls.error(k, ''); scope.changed(at); },
      applied: (b) => { notice(''); show(b); },
      refused: (key, error) => {
        if (key !== null) controls.error(key, error);
        else notice(error);
      },
      failed: notice,
    });
  }
  share();
  show(body);
  if (unfollow) unfollow();
  unfollow = null;
  loaded.then(() => {
    if (state.token === body.id && !unfollow) unfollow = follow(body.id, show, notice);
  });
}

// share fills the links: the control link only for the page that has it.
function share() {
  const origin = location.origin;
  $('share').hidden = false;
  $('control-link').hidden = !state.control;
  $('control-url').value = state.control ? `${origin}/?id=${encodeURIComponent(state.control)}` : '';
  $('listen-url').value = state.listenId ? `${origin}/?listen=${encodeURIComponent(state.listenId)}` : '';
}

// edit is a control's new value: sent at once (coalesced) for a stream the
// page controls; kept on the page until Play for a new one.
function edit(key, value) {
  if (state.role === 'control') sender.set(key, value);
  else if (state.role === 'new') controls.error(key, '');
}

// create starts a stream with the page's values; it reports success.
async function create() {
  const pairs = controls.changed();
  const name = $('name').value.trim();
  if (name) pairs.unshift(['name', name]);
  $('status').textContent = 'Creating a stream…';
  let r;
  try {
    r = await request('/create_stream' + query(pairs));
  } catch {
    $('status').textContent = 'The server cannot be reached. Try again in a moment.';
    return false;
  }
  if (r.status === 200) {
    adopt('control', r.body);
    return true;
  }
  const err = (r.body && r.body.error) || `The server refused (${r.status}).`;
  if (r.status === 400 && r.body && r.body.key === 'name') {
    $('name-err').textContent = err;
    $('name').focus();
  } else if (r.status === 400 && r.body && r.body.key && controls.byKey.has(r.body.key)) {
    controls.error(r.body.key, err);
    controls.focus(r.body.key);
  }
  $('status').textContent = r.status === 400 ? 'Fix the marked value, then press Play.' : err;
  return false;
}

// graph routes the element through Web Audio — analyser, then volume — on
// the first Play, inside the click, where the browser lets audio start.
function graph() {
  if (!audioCtx) {
    audioCtx = new AudioContext({ latencyHint: 'playback' });
    const src = audioCtx.createMediaElementSource($('audio'));
    volume = audioCtx.createGain();
    volume.gain.value = Number($('volume').value);
    volume.connect(audioCtx.destination);
    scope.attach(audioCtx, src, volume);
  }
  if (audioCtx.state !== 'running') audioCtx.resume().catch(() => {});
}

async function onPlay() {
  const btn = $('play');
  if (player.on) {
    player.stop();
    setPlayButton(false);
    return;
  }
  graph();
  setPlayButton(true);
  if (state.role === 'new') {
    btn.disabled = true;
    const ok = await create();
    btn.disabled = false;
    if (!ok) { setPlayButton(false); return; }
  }
  await loaded;
  player.start('/stream' + query([['id', state.token]]));
}

async function main() {
  const page = new URLSearchParams(location.search);
  const token = page.get('id') || page.get('listen');
  let keys, params;
  try {
    [keys, params] = await Promise.all([
      request('/keys'),
      token ? request('/params' + query([['id', token]])) : null,
    ]);
  } catch {
    $('status').textContent = 'The server cannot be reached. Reload the page to try again.';
    return;
  }
  if (keys.status !== 200 || !Array.isArray(keys.body)) {
    $('status').textContent = `The server did not send its parameter table (${keys.status}).`;
    return;
  }
  controls = new Controls(keys.body, $('live-keys'), $('create-keys'), edit);
  if (params && params.status === 200) {
    adopt(params.body.role === 'listen' ? 'listen' : 'control', params.body);
    $('status').textContent = 'Press Play to listen.';
  } else {
    if (params) {
      notice(params.status === 404
        ? 'That link’s stream no longer exists (or never did). Press Play to start a new one.'
        : `That link could not be opened (${params.status}). Press Play to start a new one.`);
      history.replaceState(null, '', '/');
    }
    $('name-row').hidden = false;
    controls.enable(true, true);
    $('status').textContent = 'Set the parameters, then press Play: the stream is created with them.';
  }
  $('play').disabled = false;
}

$('play').addEventListener('click', () => { onPlay().catch((e) => { $('status').textContent = String(e); }); });
$('volume').addEventListener('input', () => {
  if (volume) volume.gain.value = Number($('volume').value);
});
$('name').addEventListener('input', () => { $('name-err').textContent = ''; });
for (const b of document.querySelectorAll('button[data-copy]')) {
  b.addEventListener('click', () => {
    const input = $(b.dataset.copy);
    const label = b.dataset.copy === 'control-url' ? 'control' : 'listen';
    const done = () => { $('copy-status').textContent = `Copied the ${label} link.`; };
    const manual = () => {
      input.select();
      $('copy-status').textContent = `Selected the ${label} link: copy it with Ctrl+C or ⌘C.`;
    };
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, manual);
    else manual();
  });
}
main().catch((e) => { $('status').textContent = `The page failed to start: ${e}`; });
