// A student's attendance history (#/history/{student}): their rate in each term of the range,
// then every session newest first with its mark and code, where the mark came from, when the
// door first saw them, every amendment (who, in what role, when, why) and the face crops the
// register entry was written from, while the hub still keeps them (a crop that is gone is
// simply not shown); and each day the student came in or left through a door facing in or out.
// Teachers see the sessions of their own classes only, as the API decides. A student's own
// page (mine.js) and a guardian's (children.js) show the same view, without the crops.

import * as api from './api.js';
import { dateTime, face, failed, field, fill, h, heading, longDate, MARKS, time } from './ui.js';

const LABELS = { ...MARKS, not_required: 'Not required' };
const SOURCES = { record: 'seen at the door', override: 'set by a teacher', closed: 'not seen', open: 'session open' };

const percent = (rate) => (rate === null || rate === undefined ? 'no lessons counted' : `${Math.round(rate * 100)} %`);

export async function render(main, { args }) {
  if (!args[0]) {
    main.append(heading('Attendance history'), h('p', {}, 'Choose a student on the ', h('a', { href: '#/students' }, 'Students'), ' page.'));
    return;
  }
  const id = args[0];
  const title = heading('Attendance history');
  const view = historyView(`/reports/students/${api.seg(id)}/history`, {
    shown: (hist) => fill(title.querySelector('h1'), `${hist.student.name}: attendance`),
  });
  main.append(h('p', {}, h('a', { href: '#/students/' + encodeURIComponent(id) }, '← Student')), title, view.range, view.body);
  await view.load();
}

/**
 * A range of dates and the history under it, from `path` (a student's history as staff read
 * it, or a student's own); `faces: false` leaves the crops out, `shown` hears of each answer,
 * and `prefix` starts its elements' ids (a page showing several children's histories).
 */
export function historyView(path, { faces = true, shown = () => {}, prefix = '' } = {}) {
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const body = h('div', { id: prefix + 'history', 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
  const range = h(
    'form',
    { class: 'filters card', onsubmit: (e) => (e.preventDefault(), load()) },
    field('From', from),
    field('To', to, 'At most a year apart'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show')),
  );

  async function load() {
    const query = new URLSearchParams();
    if (from.value) query.set('from', from.value);
    if (to.value) query.set('to', to.value);
    try {
      const hist = await api.get(`${path}?${query}`);
      shown(hist);
      from.value = hist.from;
      to.value = hist.to;
      fill(body, summary(hist, prefix), comings(hist, prefix), sessions(hist, faces, prefix));
    } catch (e) {
      fill(body, h('p', { class: 'error' }, `Could not load the history: ${e.message}`));
      failed('Could not load the history', e);
    }
  }
  return { range, body, load };
}

function counts(c) {
  const parts = ['present', 'late', 'absent', 'excused', 'not_required'].filter((k) => c[k] > 0).map((k) => `${LABELS[k].toLowerCase()} ${c[k]}`);
  return parts.length ? parts.join(', ') : 'no lessons';
}

function summary(hist, prefix) {
  const rows = [
    ...hist.terms.map((t) => [t.term.name, `${longDate(t.term.first_day)} to ${longDate(t.term.last_day)}`, t.counts]),
    ['Whole range', `${longDate(hist.from)} to ${longDate(hist.to)}`, hist.overall],
  ];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': prefix + 'rates-title' },
    h('h2', { id: prefix + 'rates-title' }, 'Attendance by term'),
    h(
      'ul',
      { class: 'plain term-rates' },
      rows.map(([name, when, c]) => h('li', {}, h('strong', {}, `${name}: ${percent(c.attendance_rate)}`), ' ', h('span', { class: 'detail' }, `(${counts(c)}; ${when})`))),
    ),
  );
}

/** Each day's comings and goings through the doors facing in or out, newest day first. */
function comings(hist, prefix) {
  if (!hist.days.length) return null;
  const moved = (m) => h('li', { class: 'moved ' + m.direction }, `${m.direction === 'in' ? 'In' : 'Out'} ${time(m.at)}`, h('span', { class: 'detail' }, ` ${m.room}`));
  return h(
    'section',
    { class: 'card', 'aria-labelledby': prefix + 'doors-title' },
    h('h2', { id: prefix + 'doors-title' }, 'In and out'),
    h(
      'ul',
      { class: 'plain doors' },
      hist.days.map((d) => h('li', { dataset: { day: d.day } }, h('strong', {}, longDate(d.day)), h('ul', { class: 'plain inline' }, d.movements.map(moved)))),
    ),
  );
}

function sessions(hist, faces, prefix) {
  if (!hist.sessions.length) return h('p', { class: 'empty' }, 'No lessons in this range.');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': prefix + 'sessions-title' },
    h('h2', { id: prefix + 'sessions-title' }, `Every lesson, newest first (${hist.sessions.length})`),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'history' },
        h('caption', { class: 'visually-hidden' }, `Lessons of ${hist.student.name}`),
        h('thead', {}, h('tr', {}, ['Date', 'Lesson', 'Mark', 'How', 'First seen', 'Amendments', faces && 'Faces'].filter(Boolean).map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, hist.sessions.map((row) => sessionRow(hist.student.name, row, faces))),
      ),
    ),
  );
}

/** A lesson's mark in words, with its attendance code once the register is written. */
export function markOf(row) {
  const label = row.mark ? LABELS[row.mark] : 'Not yet';
  return [h('span', { class: 'mark ' + (row.mark || 'unseen') }, label), row.code ? h('span', { class: 'detail' }, ` code ${row.code}`) : null];
}

function sessionRow(name, row, faces) {
  const s = row.session;
  return h(
    'tr',
    { dataset: { day: s.day, slot: s.slot_id } },
    h('th', { scope: 'row' }, longDate(s.day)),
    h('td', { class: 'lesson' }, `${s.start}–${s.end} · ${s.class_name} · ${s.room}`),
    h('td', { dataset: { label: 'Mark' } }, markOf(row)),
    h('td', { dataset: { label: 'How' } }, SOURCES[row.source] || row.source, row.reason ? h('span', { class: 'detail' }, ` · ${row.reason}`) : null),
    h('td', { dataset: { label: 'First seen' }, class: row.first_seen_at || row.left_at ? null : 'none' }, row.first_seen_at ? dateTime(row.first_seen_at) : '—', row.left_at ? h('span', { class: 'detail' }, ` · left ${time(row.left_at)}`) : null),
    h('td', { dataset: { label: 'Amendments' }, class: row.amendments?.length ? null : 'none' }, amendments(row)),
    faces ? h('td', { dataset: { label: 'Faces' } }, evidence(name, s, row.evidence || [])) : null,
  );
}

function amendments(row) {
  if (!row.amendments || !row.amendments.length) return '—';
  return h(
    'ol',
    { class: 'amendments' },
    h('li', {}, `written as ${row.original_code}`),
    row.amendments.map((a) => h('li', {}, `to ${a.code} by ${a.by_name} (${a.by_role}), ${dateTime(a.at)}: ${a.reason}`)),
  );
}

// The crops the entry was written from, fetched with the token like every face; one the hub
// no longer keeps (or never had) is hidden by the stylesheet once it fails to load.
function evidence(name, s, ids) {
  if (!ids.length) return '—';
  return h(
    'span',
    { class: 'evidence' },
    ids.map((r, i) => face(`/records/${api.seg(r)}/thumbnail`, `Face ${i + 1} of ${name} at the door, ${longDate(s.day)}`, 'face small')),
  );
}
