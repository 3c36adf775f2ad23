// My attendance (#/mine), the one page a student's own account sees: who they are, their
// consent to face recognition in words, their classes, their week's lessons, their history
// (history.js's view, without the face crops) and their password. It reads only the
// student's own answers (GET /me/student, /me/history): no other student, no faces.

import * as api from './api.js';
import { passwordCard } from './account.js';
import { historyView } from './history.js';
import { h, heading, longDate } from './ui.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** Each consent state as the student reads it. */
const CONSENT = {
  given: 'A parent gave written consent: the door cameras recognise you and take your register.',
  not_asked: 'Nobody has been asked for consent yet: your teachers take your register by hand.',
  requested: 'The consent form has gone home. Until it is back, your teachers take your register by hand.',
  refused: 'Consent was refused: the door cameras do not recognise you, and your teachers take your register by hand.',
  withdrawn: 'Consent was withdrawn: your photos were deleted, and your teachers take your register by hand.',
  objected: 'You objected: your photos were deleted, and your teachers take your register by hand.',
};

export async function render(main, { me }) {
  main.append(heading('My attendance'));
  let mine;
  try {
    mine = await api.get('/me/student');
  } catch (e) {
    main.append(h('p', { class: 'error' }, `The hub did not answer: ${e.message}`));
    return;
  }
  const history = historyView('/me/history', { faces: false });
  main.append(
    about(mine),
    classes(mine),
    week(mine.timetable),
    h('h2', { id: 'my-history-title' }, 'My lessons and marks'),
    history.range,
    history.body,
    passwordCard(me),
  );
  await history.load();
}

function about({ student, consent }) {
  const group = [student.year_group, student.form].filter(Boolean).join(' · ');
  return h(
    'section',
    { class: 'card', id: 'my-student', 'aria-labelledby': 'my-name' },
    h('h2', { id: 'my-name' }, student.name),
    group ? h('p', { class: 'hint' }, group) : null,
    h(
      'dl',
      { class: 'details' },
      h('dt', {}, 'Face recognition'),
      h('dd', { dataset: { consent } }, CONSENT[consent] || consent, ' ', h('a', { href: '#/privacy' }, 'What the school keeps')),
    ),
  );
}

function classes({ classes: list }) {
  return h(
    'section',
    { class: 'card', id: 'my-classes', 'aria-labelledby': 'my-classes-title' },
    h('h2', { id: 'my-classes-title' }, 'My classes'),
    list.length
      ? h('ul', { class: 'plain' }, list.map((c) => h('li', { dataset: { class: c.id } }, c.name, c.code ? h('span', { class: 'detail' }, ` (${c.code})`) : null)))
      : h('p', { class: 'empty' }, 'You are in no class yet.'),
  );
}

/** The week's lessons, Monday first, each with its time, class and room. */
function week(timetable) {
  const lessons = [...timetable].sort((a, b) => a.slot.weekday - b.slot.weekday || a.slot.start_minute - b.slot.start_minute);
  const dates = (s) => [s.valid_from && `from ${longDate(s.valid_from)}`, s.valid_until && `until ${longDate(s.valid_until)}`].filter(Boolean).join(', ');
  const row = ({ class: name, slot: s }) =>
    h(
      'tr',
      { dataset: { slot: s.id } },
      h('th', { scope: 'row' }, DAYS[s.weekday - 1]),
      h('td', {}, `${hhmm(s.start_minute)}–${hhmm(s.end_minute)}`, dates(s) ? h('span', { class: 'detail' }, ` (${dates(s)})`) : null),
      h('td', {}, name),
      h('td', {}, s.room),
    );
  return h(
    'section',
    { class: 'card', id: 'my-timetable', 'aria-labelledby': 'my-week-title' },
    h('h2', { id: 'my-week-title' }, 'My week'),
    lessons.length
      ? h(
          'table',
          { class: 'timetable' },
          h('caption', { class: 'visually-hidden' }, 'My lessons each week'),
          h('thead', {}, h('tr', {}, ['Day', 'Time', 'Class', 'Room'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, lessons.map(row)),
        )
      : h('p', { class: 'empty' }, 'No lessons in the timetable.'),
  );
}
