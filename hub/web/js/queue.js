// Decisions made without a network (issue 70): a review of a card, a lesson's faces confirmed,
// a mark, a trip's register. Each is sent at once with a key of its own; when nothing answers
// (no network, the hub restarting) it is kept on the phone (IndexedDB) and sent, in the order
// made, when the hub answers again: on the browser's "online", every few seconds while any
// wait, and when the app opens. The key makes each done once however often it is sent
// (`Idempotency-Key`); a decision the hub no longer accepts (another teacher decided the card
// first, the register was written) is kept apart with the hub's words and shown until the
// teacher has read it, never dropped unseen. Decisions wait for the account that made them.
//
// The bar under the navigation says how many wait, and lists the refused ones.

import * as api from './api.js';
import { announce, fill, h, time } from './ui.js';

const DB = 'rollcall';
const WAITING = 'waiting';
const REFUSED = 'refused';
const RETRY_MS = 5000;
// What became of one entry sent.
const [SENT, SET_APART, LATER] = ['sent', 'set apart', 'later'];
// What a queue entry must hold: one read back otherwise (a damaged or edited store) is
// refused, not sent.
const METHODS = ['POST', 'PUT', 'DELETE'];

let opened = null;
let flushing = null;

function open() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore(WAITING, { keyPath: 'key' });
      req.result.createObjectStore(REFUSED, { keyPath: 'key' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function store(name, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const result = work(tx.objectStore(name));
    tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
  });
}

const all = (name) => store(name, 'readonly', (s) => s.getAll());
const keep = (name, entry) => store(name, 'readwrite', (s) => s.put(entry));
const forget = (name, key) => store(name, 'readwrite', (s) => s.delete(key));

/**
 * Sends a decision: `what` says it in the teacher's words ("Approve Ada's face seen at 09:05").
 * Answers { answer } when the hub took it, { queued: true } when it waits on the phone; a
 * refusal is thrown as the hub's ApiError.
 */
export async function decide(method, path, body, what) {
  const entry = { key: crypto.randomUUID(), account: api.account(), method, path, body, what, made_at: Date.now() };
  if ((await all(WAITING)).length === 0) {
    try {
      return { answer: await api.keyed(method, path, body, entry.key) };
    } catch (e) {
      if (!api.isOffline(e)) throw e;
    }
  }
  // Offline, or others still waiting: it goes behind them, so the hub hears them in order.
  await keep(WAITING, entry);
  changed();
  return { queued: true };
}

/** The decisions waiting on this phone, oldest first. */
export async function waiting() {
  return (await all(WAITING)).sort((a, b) => a.made_at - b.made_at);
}

/** Sends what waits, oldest first, until the queue is empty or nothing answers. */
export function flush() {
  flushing ??= sendAll().finally(() => (flushing = null));
  return flushing;
}

async function sendAll() {
  const me = api.account();
  if (!api.signedIn()) return;
  const waiting = (await all(WAITING)).filter((e) => e.account === me || !e.account).sort((a, b) => a.made_at - b.made_at);
  let sent = 0;
  for (const entry of waiting) {
    const outcome = await sendOne(entry);
    if (outcome === LATER) break;
    if (outcome === SENT) sent += 1;
    changed();
  }
  if (sent) announce(sent === 1 ? '1 decision made offline is sent.' : `${sent} decisions made offline are sent.`);
}

/** Sends one entry: SENT, SET_APART (refused, kept with why), or LATER (no answer for good). */
async function sendOne(entry) {
  if (!sound(entry)) {
    await refuse(entry, 'this decision was damaged on the phone and was not sent');
    return SET_APART;
  }
  try {
    await api.keyed(entry.method, entry.path, entry.body, entry.key);
    await forget(WAITING, entry.key);
    return SENT;
  } catch (e) {
    if (api.isOffline(e) || e.status === 429 || e.status >= 500) return LATER;
    await refuse(entry, e.message);
    return SET_APART;
  }
}

function sound(e) {
  return (
    typeof e.key === 'string' &&
    /^[A-Za-z0-9_-]{1,64}$/.test(e.key) &&
    METHODS.includes(e.method) &&
    typeof e.path === 'string' &&
    e.path.startsWith('/') &&
    !e.path.includes('..') &&
    typeof e.what === 'string'
  );
}

async function refuse(entry, why) {
  await keep(REFUSED, { ...entry, why, refused_at: Date.now() });
  await forget(WAITING, entry.key);
}

function changed() {
  window.dispatchEvent(new Event('rollcall:queue'));
}

/** The bar that says what waits and what the hub refused; flushes when the hub is back. */
export function bar() {
  const el = h('section', { class: 'queue-bar', id: 'queue-bar', 'aria-live': 'polite', hidden: true });
  async function draw() {
    const [waiting, refused] = await Promise.all([all(WAITING), all(REFUSED)]);
    el.hidden = waiting.length === 0 && refused.length === 0;
    fill(
      el,
      waiting.length
        ? h('p', { class: 'waiting' }, waiting.length === 1 ? '1 decision is saved on this phone, to be sent when the hub can be reached.' : `${waiting.length} decisions are saved on this phone, to be sent when the hub can be reached.`)
        : null,
      refused.length
        ? h(
            'div',
            { class: 'refused' },
            h('p', {}, h('strong', {}, 'Not accepted by the hub:')),
            h(
              'ul',
              {},
              refused.map((r) =>
                h(
                  'li',
                  { dataset: { key: r.key } },
                  `${r.what} (made at ${time(r.made_at)}): ${r.why} `,
                  h('button', { type: 'button', class: 'small', onclick: async () => (await forget(REFUSED, r.key), draw()) }, 'Seen'),
                ),
              ),
            ),
          )
        : null,
    );
  }
  window.addEventListener('rollcall:queue', draw);
  window.addEventListener('online', () => flush());
  setInterval(async () => {
    if ((await all(WAITING)).length) flush();
  }, RETRY_MS);
  draw();
  flush();
  return el;
}
