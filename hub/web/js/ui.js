// Small helpers every page uses: building elements, announcing results to screen readers,
// face images from the API (fetched with the token, shown from memory, forgotten when the
// page changes), polling that pauses while the tab is hidden, and a confirmation dialog.

import * as api from './api.js';

/** The SVG namespace (a name, not something loaded). */
const SVG = 'http://www.w3.org/2000/svg';

/** Creates an element: h('button', { type: 'button', onclick }, 'Save'). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.setAttribute('class', value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && !svg && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Gives every cell of the tables under `root` its column's heading as `data-label`, so a phone,
 * where tables stack (style.css), still says what each value is. A cell that names itself keeps
 * its own; a column whose heading is hidden (its controls say what they do) gets none.
 */
export function labelColumns(root) {
  for (const table of root.querySelectorAll('table:not(.keep-columns)')) {
    const heads = [];
    for (const th of table.tHead ? table.tHead.rows[0]?.cells || [] : []) {
      const visible = [...th.childNodes].some((n) => !(n instanceof Element && n.classList.contains('visually-hidden')) && n.textContent.trim());
      for (let i = 0; i < th.colSpan; i++) heads.push(visible ? th.textContent.trim() : '');
    }
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          if (cell.tagName === 'TD' && !cell.hasAttribute('data-label') && heads[column]) cell.dataset.label = heads[column];
          column += cell.colSpan;
        }
      }
    }
  }
}

/**
 * Who did something, as the hub records it, in words: "user:tess" is tess (the account's
 * name), the hub and a door unit are said as such.
 */
export function byWhom(actor) {
  const who = String(actor || '');
  if (who === 'hub') return 'the hub';
  if (who.startsWith('device:')) return 'a door unit';
  return who.replace(/^user:/, '');
}

/**
 * Says `message` in the status line (read out by screen readers). The line floats at the foot
 * of the window and takes no taps; while it shows, the page keeps as much room at its own foot,
 * so whatever it floats over can be scrolled out from under it.
 */
export function announce(message, kind = 'ok') {
  const status = document.getElementById('status');
  status.dataset.kind = kind;
  status.textContent = '';
  // A fresh text node, so the same message twice is announced twice.
  requestAnimationFrame(() => {
    status.textContent = message;
    document.body.style.paddingBottom = `${status.offsetHeight + 24}px`;
  });
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    status.textContent = '';
    document.body.style.paddingBottom = '';
  }, 8000);
}

/**
 * Says that `what` failed and why. When the hub itself failed (5xx), the request's id is said
 * too: whoever looks after the hub finds the request in its log by it.
 */
export function failed(what, error) {
  const reference =
    error.status >= 500 && error.requestId ? ` (reference ${error.requestId})` : '';
  announce(`${what}: ${error.message}${reference}`, 'error');
}

// Blob URLs of the current page's images, revoked when the page changes.
let blobUrls = [];

export function forgetImages() {
  for (const url of blobUrls) URL.revokeObjectURL(url);
  blobUrls = [];
}

/** A URL for a file the user picked (shown, never uploaded again), forgotten with the page. */
export function localUrl(file) {
  const url = URL.createObjectURL(file);
  blobUrls.push(url);
  return url;
}

/** An <img> for an API image URL (a face crop). */
export function face(url, alt, className = 'face') {
  const img = h('img', { alt, class: className, width: 150, height: 150, decoding: 'async' });
  if (!url) {
    img.classList.add('missing');
    return img;
  }
  api
    .blob(url.replace(/^\/api\/v1/, ''))
    .then(({ blob }) => {
      const objectUrl = URL.createObjectURL(blob);
      blobUrls.push(objectUrl);
      img.src = objectUrl;
    })
    .catch(() => img.classList.add('missing'));
  return img;
}

/** Calls `tick` now and every `ms` while the tab is visible; returns a stop function. */
export function poll(ms, tick) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped || document.hidden) return;
    try {
      await tick();
    } catch (e) {
      if (e.status !== 401) console.warn('refresh failed', e);
    }
    if (!stopped && !document.hidden) timer = setTimeout(run, ms);
  };
  const visibility = () => {
    if (!document.hidden && timer === null && !stopped) run();
  };
  document.addEventListener('visibilitychange', visibility);
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', visibility);
  };
}

/** Asks a yes/no question in a modal dialog; resolves to true for OK. */
export function confirm(question, ok = 'OK') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = question;
  document.getElementById('confirm-ok').textContent = ok;
  const back = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (back && back.focus) back.focus();
        resolve(dialog.returnValue === 'ok');
      },
      { once: true },
    );
    dialog.returnValue = 'cancel';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** A labelled form control: field('Reason', h('input', {...})). */
export function field(label, control, hint) {
  const id = control.id || 'f-' + Math.random().toString(36).slice(2, 9);
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: id + '-hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function select(name, options, value) {
  return h(
    'select',
    { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
  );
}

const pad = (n) => String(n).padStart(2, '0');

// Times are shown on the school's wall clock (its zone comes with /auth/me), not the
// browser's: a teacher's laptop set to another zone still sees lessons at their real times.
let wallClock = clockIn(undefined);

function clockIn(timeZone) {
  const options = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  try {
    return new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat('en-GB', options);
  }
}

/** Show times in the IANA zone `name` from now on. */
export function setTimeZone(name) {
  wallClock = clockIn(name);
}

function wall(ms) {
  return Object.fromEntries(wallClock.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

export function time(ms) {
  const w = wall(ms);
  return `${w.hour}:${w.minute}`;
}

export function dateTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const w = wall(ms);
  return `${w.year}-${w.month}-${w.day} ${w.hour}:${w.minute}`;
}

/** "3 min ago" for a past instant. */
export function ago(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** "Monday 23 November 2026" for "2026-11-23". */
export function longDate(iso) {
  const d = new Date(iso + 'T12:00:00');
  const month = d.toLocaleString('en-GB', { month: 'long' });
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${month} ${d.getFullYear()}`;
}

export function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** How alike a face and a candidate are, as a percentage (100 % is the same picture). */
export function score(distance) {
  return Math.max(0, Math.round((1 - distance) * 100));
}

export const MARKS = { present: 'Present', late: 'Late', absent: 'Absent', excused: 'Excused' };

/** Saves a blob as a download named `filename`. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function heading(text, extra) {
  return h('div', { class: 'page-head' }, h('h1', { id: 'page-title' }, text), extra);
}
