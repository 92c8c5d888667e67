// controls.js: one control per key of GET /keys. Nothing here names a key:
// a key's kind, range or choices, unit, doc and create_only flag decide its
// control, so a key added to the server's table appears on the page by itself.

// LOG_RATIO: a float key whose max/min is at least this (freq and cutoff,
// 20 Hz to 20 kHz) gets a logarithmic slider, as the ear hears pitch.
const LOG_RATIO = 100;
// SLIDER_STEPS is the resolution of a logarithmic slider; a linear one steps
// by the power of ten nearest a thousandth of its range.
const SLIDER_STEPS = 1000;

const NOTE_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

// noteName returns the scientific pitch name of a MIDI note: 60 → "C4".
export function noteName(midi) {
  const m = Math.round(Number(midi));
  if (!Number.isFinite(m)) return String(midi);
  return NOTE_NAMES[((m % 12) + 12) % 12] + (Math.floor(m / 12) - 1);
}

// format writes a number as briefly as it reads: 440, 0.5, 1230.
function format(v) {
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
}

// Controls builds and keeps the controls of every key.
export class Controls {
  // keys: the /keys array. liveRoot and createRoot receive the controls of
  // the keys that may change live and of those fixed at creation.
  // commit(key, value) is called with a value the user has settled on, or
  // with each new value while a slider moves (the caller coalesces).
  constructor(keys, liveRoot, createRoot, commit) {
    this.byKey = new Map();
    for (const spec of keys) {
      const c = build(spec, (v) => commit(spec.name, v));
      (spec.create_only ? createRoot : liveRoot).append(c.root);
      this.byKey.set(spec.name, c);
    }
  }

  // set shows the stream's params. A control the user is working on — a
  // slider held, text typed and not yet committed, a change queued or on the
  // wire (busy(key)) — keeps what the user has; so does one showing an
  // error, until the server's value for it moves.
  set(params, busy = () => false) {
    for (const [key, c] of this.byKey) {
      if (!(key in params)) continue;
      const v = params[key];
      const moved = c.known === undefined || String(c.known) !== String(v);
      c.known = v;
      if (c.held || c.dirty || busy(key)) continue;
      if (c.err.textContent && !moved) continue;
      if (moved) this.error(key, '');
      c.show(v);
    }
  }

  // error shows text under key's control ('' clears it).
  error(key, text) {
    const c = this.byKey.get(key);
    if (!c) return;
    c.err.textContent = text;
    for (const el of c.inputs) el.setAttribute('aria-invalid', text ? 'true' : 'false');
    c.root.classList.toggle('invalid', !!text);
  }

  // enable turns the controls of the live keys and of the create-only keys
  // on or off.
  enable(live, createOnly) {
    for (const c of this.byKey.values()) {
      const on = c.spec.create_only ? createOnly : live;
      for (const el of c.inputs) el.disabled = !on;
    }
  }

  // changed returns [key, value] for every key whose control differs from
  // the key's default: what /create_stream needs to start the stream shown.
  changed() {
    const out = [];
    for (const c of this.byKey.values()) {
      const v = c.value();
      if (v !== '' && String(v) !== String(c.spec.default)) out.push([c.spec.name, v]);
    }
    return out;
  }

  // focus moves the keyboard focus to key's first input.
  focus(key) {
    const c = this.byKey.get(key);
    if (c) c.inputs[0].focus();
  }
}

// build makes the control of one key: {root, inputs, err, show(v), value(),
// held, dirty, known, spec}.
function build(spec, commit) {
  const id = 'k-' + spec.name.replace(/[^A-Za-z0-9_-]/g, '_');
  const root = el('div', { class: 'ctl', 'data-key': spec.name });
  const head = el('div', { class: 'ctl-head' });
  const label = el('label', { for: id, id: id + '-label' }, spec.name);
  head.append(label);
  if (spec.unit) head.append(el('span', { class: 'unit' }, spec.unit));
  head.append(el('span', { class: 'badge' + (spec.create_only ? '' : ' live') },
    spec.create_only ? 'at creation' : 'live'));
  const doc = el('p', { class: 'doc', id: id + '-doc' }, docText(spec));
  const err = el('p', { class: 'err', id: id + '-err', 'aria-live': 'polite' });
  const row = el('div', { class: 'ctl-inputs' });
  root.append(head, row, doc, err);

  const c = { spec, root, err, inputs: [], held: false, dirty: false, known: undefined };
  const describe = (input) => {
    input.setAttribute('aria-describedby', `${id}-doc ${id}-err`);
    c.inputs.push(input);
    return input;
  };
  // text commits a typed value once, on change or Enter.
  const text = (input, map = (s) => s) => {
    let lastCommitted = null;
    const fire = () => {
      c.dirty = false;
      const s = input.value.trim();
      if (s === '' || s === lastCommitted) return;
      lastCommitted = s;
      commit(map(s));
    };
    input.addEventListener('input', () => { c.dirty = true; lastCommitted = null; });
    input.addEventListener('change', fire);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') fire(); });
    input.addEventListener('blur', () => { c.dirty = false; });
  };
  // slider wires a range input: values while it moves, held while pressed.
  const slider = (range, onMove) => {
    range.addEventListener('pointerdown', () => { c.held = true; });
    const release = () => { c.held = false; };
    range.addEventListener('pointerup', release);
    range.addEventListener('pointercancel', release);
    range.addEventListener('change', release);
    range.addEventListener('input', onMove);
  };

  switch (spec.kind) {
    case 'float': {
      const log = spec.min > 0 && spec.max / spec.min >= LOG_RATIO;
      const step = 10 ** Math.floor(Math.log10((spec.max - spec.min) / SLIDER_STEPS));
      const toPos = (v) => log
        ? Math.round(SLIDER_STEPS * Math.log(v / spec.min) / Math.log(spec.max / spec.min))
        : v;
      const fromPos = (p) => {
        if (!log) return Number((Math.round(p / step) * step).toFixed(Math.max(0, -Math.log10(step))));
        const v = spec.min * (spec.max / spec.min) ** (p / SLIDER_STEPS);
        return Math.min(spec.max, Math.max(spec.min, Number(v.toPrecision(3))));
      };
      const range = describe(el('input', {
        type: 'range', id: id + '-range', 'aria-label': `${spec.name} slider`,
        min: log ? 0 : spec.min, max: log ? SLIDER_STEPS : spec.max, step: log ? 1 : step,
      }));
      const num = describe(el('input', {
        type: 'number', id, min: spec.min, max: spec.max, step: 'any', inputmode: 'decimal',
      }));
      const valuetext = (v) => range.setAttribute('aria-valuetext', `${format(v)} ${spec.unit}`.trim());
      slider(range, () => {
        const v = fromPos(Number(range.value));
        num.value = format(v);
        valuetext(v);
        commit(v);
      });
      text(num, (s) => {
        const v = Number(s);
        if (Number.isFinite(v) && v >= spec.min && v <= spec.max) {
          range.value = toPos(v);
          valuetext(v);
        }
        return s;
      });
      row.append(range, num);
      c.show = (v) => { num.value = format(v); range.value = toPos(Number(v)); valuetext(v); };
      c.value = () => num.value.trim();
      break;
    }
    case 'note': {
      const range = describe(el('input', {
        type: 'range', id: id + '-range', 'aria-label': `${spec.name} slider`,
        min: spec.min, max: spec.max, step: 1,
      }));
      const box = describe(el('input', {
        type: 'text', id, autocomplete: 'off', spellcheck: 'false', size: 5,
        placeholder: 'C4 or 60',
      }));
      const valuetext = (m) => range.setAttribute('aria-valuetext', `${noteName(m)} (${m})`);
      slider(range, () => {
        box.value = noteName(range.value);
        valuetext(range.value);
        commit(Number(range.value));
      });
      text(box);
      row.append(range, box);
      c.show = (v) => { box.value = noteName(v); range.value = v; valuetext(v); };
      c.value = () => {
        // the default is a MIDI number: compare like with like
        const s = box.value.trim();
        return s === noteName(range.value) ? Number(range.value) : s;
      };
      break;
    }
    case 'enum':
    case 'int': {
      const select = describe(el('select', { id }));
      for (const choice of spec.choices || []) {
        select.append(el('option', { value: String(choice) },
          spec.kind === 'int' && spec.unit ? `${choice} ${spec.unit}` : String(choice)));
      }
      select.addEventListener('change', () => commit(select.value));
      row.append(select);
      c.show = (v) => { select.value = String(v); };
      c.value = () => select.value;
      break;
    }
    case 'seed': {
      const box = describe(el('input', {
        type: 'text', id, inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
      }));
      const roll = describe(el('button', { type: 'button', class: 'secondary' }, 'New seed'));
      roll.setAttribute('aria-label', `New random ${spec.name}`);
      roll.addEventListener('click', () => {
        const v = crypto.getRandomValues(new BigUint64Array(1))[0].toString();
        box.value = v;
        commit(v);
      });
      text(box);
      row.append(box, roll);
      c.show = (v) => { box.value = String(v); };
      c.value = () => box.value.trim();
      break;
    }
    default: { // a kind this page does not know yet: its text form
      const box = describe(el('input', { type: 'text', id, autocomplete: 'off' }));
      text(box);
      row.append(box);
      c.show = (v) => { box.value = String(v); };
      c.value = () => box.value.trim();
    }
  }
  c.show(spec.default);
  return c;
}

// docText is the key's doc and what it accepts, e.g. "tone frequency · 20–20000 Hz".
function docText(spec) {
  const parts = [spec.doc];
  if (spec.kind === 'float') parts.push(`${format(spec.min)}–${format(spec.max)}${spec.unit ? ' ' + spec.unit : ''}`);
  if (spec.kind === 'note') parts.push(`note name or MIDI ${spec.min}–${spec.max}`);
  parts.push(`default ${spec.kind === 'note' ? noteName(spec.default) : format(spec.default)}`);
  return parts.filter(Boolean).join(' · ');
}

// el makes an element with attributes and text.
function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
