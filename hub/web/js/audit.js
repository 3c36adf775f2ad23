// The audit log (admins): every change made through the hub, newest first: when, who, what,
// to what, and what it was before and after. Filter by who, by what (an action or its start,
// "student." for every change to students), by what was changed, and by dates; "Older" pages
// back. People, students and classes are shown by name and instants as the school's times;
// the ids stay in each cell's title, for searching.

import * as api from './api.js';
import { dateTime, failed, field, fill, h, heading } from './ui.js';

const PAGE = 50;

// Names of the school's users, students and classes, by id and username.
let names = new Map();

export async function render(main) {
  names = await known();
  const actor = h('input', { name: 'actor', autocomplete: 'off', placeholder: 'user:tess, hub, device:…' });
  const action = h('input', { name: 'action', autocomplete: 'off', placeholder: 'student., consent.set, register.' });
  const target = h('input', { name: 'target', autocomplete: 'off', placeholder: 'student:…, user:…, session:…' });
  const from = h('input', { name: 'from', type: 'date' });
  const to = h('input', { name: 'to', type: 'date' });
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const body = h('tbody');
  const older = h('button', { type: 'button', hidden: true, onclick: () => load(false) }, 'Older changes');
  let last = null; // the oldest entry shown

  async function load(fresh) {
    const q = new URLSearchParams({ limit: PAGE });
    for (const input of [actor, action, target, from, to]) if (input.value.trim()) q.set(input.name, input.value.trim());
    if (!fresh && last) q.set('before_id', last);
    try {
      const entries = await api.get('/audit?' + q);
      if (fresh) body.replaceChildren();
      body.append(...entries.map(row));
      last = entries.length ? entries[entries.length - 1].id : last;
      older.hidden = entries.length < PAGE;
      const shown = body.childElementCount;
      count.textContent = shown ? `${shown} ${shown === 1 ? 'change' : 'changes'} shown` : 'No change matches.';
    } catch (e) {
      failed('Could not read the audit log', e);
    }
  }

  const form = h(
    'form',
    { class: 'card filters', onsubmit: (e) => (e.preventDefault(), load(true)) },
    field('Who', actor),
    field('What (an action or its start)', action),
    field('Changed', target),
    field('From', from),
    field('To', to),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show')),
  );
  main.append(
    heading('Audit log', count),
    form,
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Changes' },
      h(
        'table',
        { class: 'audit' },
        h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Changed', 'Before → after'].map((t) => h('th', { scope: 'col' }, t)))),
        body,
      ),
    ),
    older,
  );
  await load(true);
}

/** Who is who: users by id and username, students and classes by id (what can be read). */
async function known() {
  const out = new Map();
  const read = async (path) => {
    try {
      return await api.get(path);
    } catch {
      return [];
    }
  };
  const [users, students, classes] = await Promise.all([read('/users'), read('/students?active='), read('/classes')]);
  for (const u of users) {
    const name = u.display_name || u.username;
    out.set(u.id, name);
    out.set('user:' + u.username, name);
  }
  for (const s of students) out.set(s.id, s.name);
  for (const c of classes) out.set(c.id, c.name);
  return out;
}

/** "student:<id>" as "student Ada Lovelace", "user:tess" as "Tess Teacher": by name when known. */
function named(ref) {
  if (typeof ref !== 'string') return ref;
  if (names.has(ref)) return names.get(ref);
  const [kind, id] = ref.split(/:(.*)/s);
  return id && names.has(id) ? `${kind} ${names.get(id)}` : ref;
}

function row(e) {
  return h(
    'tr',
    { dataset: { id: e.id, action: e.action } },
    h('td', {}, dateTime(e.at)),
    h('td', { title: e.actor }, named(e.actor)),
    h('td', {}, h('code', {}, e.action)),
    h('td', { class: 'target', title: e.target }, named(e.target)),
    h('td', {}, change(e.before, e.after)),
  );
}

/** The fields that changed, "name: before → after"; everything, when only one side exists. */
function change(before, after) {
  const obj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!obj(before) || !obj(after)) {
    const side = before ?? after;
    if (side === null || side === undefined) return '';
    const lines = obj(side) ? Object.entries(side).map(([k, v]) => `${k}: ${show(v)}`) : [show(side)];
    return h('ul', { class: 'diff' }, lines.map((l) => h('li', {}, (before ? 'was ' : '') + l)));
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (!changed.length) return 'no change';
  return h('ul', { class: 'diff' }, changed.map((k) => h('li', {}, `${k}: ${show(before[k])} → ${show(after[k])}`)));
}

// An instant in milliseconds since 1970 (from 2001 to 2096): shown as the school's time.
const INSTANT = [1e12, 4e12];

function show(v) {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'number' && Number.isInteger(v) && v > INSTANT[0] && v < INSTANT[1]) return dateTime(v);
  if (typeof v === 'string' && names.has(v)) return names.get(v);
  const text = typeof v === 'string' ? named(v) : JSON.stringify(v, (_, x) => (typeof x === 'string' && names.has(x) ? names.get(x) : x));
  return text.length > 120 ? text.slice(0, 119) + '…' : text;
}
