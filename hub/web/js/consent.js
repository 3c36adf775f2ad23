// Consent to face recognition. The page (#/consent) shows each class's coverage (how many
// students are in each state, and faces held without consent) with a CSV download; picking a
// class lists its students, and an admin records one answer for all the students ticked. The
// student page embeds the card of one student: the state, every change, and a form to record
// the next. Only a student with consent given is recognised at the door; the others are
// registered by hand.

import * as api from './api.js';
import { announce, byWhom, confirm, dateTime, download, failed, field, fill, h, heading, isoDate, select } from './ui.js';

export const STATES = {
  not_asked: 'Not asked',
  requested: 'Form sent',
  given: 'Given',
  refused: 'Refused',
  withdrawn: 'Withdrawn',
  objected: 'Student objects',
};

// States whose recording erases the student's faces at once.
const ERASING = ['refused', 'withdrawn', 'objected'];

/** A short badge for a student's state. */
export function badge(state) {
  return h('span', { class: `consent ${state}`, title: state === 'given' ? 'Consent given: recognised at the door' : 'No consent: registered by hand' }, STATES[state] || state);
}

export async function render(main, { me, args }) {
  const csv = h('button', { type: 'button', id: 'consent-csv', onclick: downloadCsv }, 'Download CSV');
  main.append(heading('Consent', csv));
  main.append(
    h(
      'p',
      { class: 'lead' },
      'A student is recognised at the door only with a parent’s written consent and no objection from the student. Everyone else is registered by hand. ',
      h('a', { href: '#/privacy' }, 'What the school keeps'),
    ),
  );
  const coverage = await api.get('/reports/consent');
  main.append(table(coverage));
  if (args[0]) await classStudents(main, me, args[0], coverage);
}

async function downloadCsv() {
  try {
    const { blob, filename } = await api.blob('/reports/consent?format=csv');
    download(blob, filename || 'consent.csv');
  } catch (e) {
    failed('Could not download the CSV', e);
  }
}

function table(coverage) {
  const states = coverage.states;
  if (!coverage.classes.length) return h('p', { class: 'empty' }, 'No class has students yet.');
  return h(
    'table',
    { class: 'card coverage', id: 'coverage' },
    h('caption', {}, 'Consent by class'),
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'Class'), h('th', { scope: 'col' }, 'Students'), states.map((s) => h('th', { scope: 'col' }, STATES[s])), h('th', { scope: 'col' }, 'Faces held without consent')),
    ),
    h(
      'tbody',
      {},
      coverage.classes.map((c) =>
        h(
          'tr',
          { dataset: { class: c.class_id } },
          h('th', { scope: 'row' }, h('a', { href: '#/consent/' + encodeURIComponent(c.class_id) }, c.class_name)),
          h('td', {}, String(c.students)),
          states.map((s) => h('td', { class: s === 'given' ? 'given' : '' }, String(c.by_state[s] || 0))),
          h('td', { class: c.faces_without_consent ? 'error' : '' }, String(c.faces_without_consent)),
        ),
      ),
    ),
  );
}

async function classStudents(main, me, classId, coverage) {
  const known = coverage.classes.find((c) => c.class_id === classId);
  const students = await api.get(`/classes/${api.seg(classId)}/students`);
  const boxes = [];
  const rows = students.map((s) => {
    const box = h('input', { type: 'checkbox', name: 'student', value: s.id, 'aria-label': `Select ${s.name}` });
    boxes.push(box);
    return h(
      'tr',
      { dataset: { student: s.id, consent: s.consent } },
      h('th', { scope: 'row' }, me.role === 'admin' ? box : null, h('a', { href: '#/students/' + encodeURIComponent(s.id) }, s.name)),
      h('td', {}, badge(s.consent)),
    );
  });
  const all = h('input', { type: 'checkbox', 'aria-label': 'Select every student', onchange: () => boxes.forEach((b) => (b.checked = all.checked)) });
  main.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'class-consent' },
      h('h2', { id: 'class-consent' }, known ? known.class_name : 'Class'),
      h(
        'table',
        { class: 'consent-list', id: 'class-students' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, me.role === 'admin' ? all : null, 'Student'), h('th', { scope: 'col' }, 'Consent'))),
        h('tbody', {}, rows),
      ),
      me.role === 'admin'
        ? form('Record for the ticked students', async (statement) => {
            const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
            if (!chosen.length) {
              announce('Tick the students this answer is for.', 'error');
              return false;
            }
            const done = await api.post('/consent', { students: chosen, consent: statement });
            announce(`Recorded for ${done.changed} ${done.changed === 1 ? 'student' : 'students'}.`);
            return true;
          }, async () => {
            main.replaceChildren();
            await render(main, { me, args: [classId] });
          })
        : null,
    ),
  );
}

/** The consent card of one student on their page; `changed` runs after an answer is recorded
 * (the page around it depends on the state). */
export async function card(s, me, changed) {
  const box = h('section', { class: 'card consent-card', id: 'consent', 'aria-labelledby': 'consent-title' });
  await show();
  return box;

  async function show() {
    const c = await api.get(`/students/${api.seg(s.id)}/consent`);
    fill(
      box,
      h('h2', { id: 'consent-title' }, 'Consent to face recognition ', badge(c.state)),
      c.state === 'given'
        ? h('p', {}, 'Recognised at the classroom doors.')
        : h('p', { class: 'by-hand' }, 'Register by hand: the doors do not recognise this student.'),
      c.door_units_holding.length && c.state !== 'given'
        ? h('p', { class: 'error', id: 'units-holding' }, `Waiting for ${c.door_units_holding.join(', ')} to confirm ${c.door_units_holding.length === 1 ? 'it has' : 'they have'} dropped this student's faces.`)
        : null,
      c.history.length ? history(c.history) : h('p', { class: 'hint' }, 'No answer recorded yet.'),
      me.role === 'admin'
        ? form('Record an answer', async (statement) => {
            await api.put(`/students/${api.seg(s.id)}/consent`, statement);
            announce(`Consent recorded: ${STATES[statement.state]}.`);
            return true;
          }, changed)
        : null,
    );
  }
}

function history(changes) {
  return h(
    'table',
    { class: 'history' },
    h('caption', { class: 'visually-hidden' }, 'Every change of consent'),
    h('thead', {}, h('tr', {}, ['Answer', 'By', 'Form signed', 'Reference', 'Recorded'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      changes
        .slice()
        .reverse()
        .map((c) =>
          h(
            'tr',
            {},
            h('td', {}, badge(c.state)),
            h('td', {}, c.by || '—'),
            h('td', {}, c.signed_on || '—'),
            h('td', {}, c.reference || '—', c.note ? h('span', { class: 'hint' }, ` “${c.note}”`) : null),
            h('td', {}, `${dateTime(c.recorded_at)} by ${byWhom(c.recorded_by)}`),
          ),
        ),
    ),
  );
}

/** The form recording one answer; `send` returns whether it was recorded, `done` refreshes. */
function form(title, send, done) {
  const state = select('state', Object.entries(STATES), 'given');
  const by = h('input', { name: 'by', autocomplete: 'off' });
  const signed = h('input', { name: 'signed_on', type: 'date', max: isoDate(new Date()) });
  const reference = h('input', { name: 'reference', autocomplete: 'off' });
  const note = h('input', { name: 'note', autocomplete: 'off' });
  return h(
    'form',
    {
      class: 'consent-form',
      onsubmit: async (e) => {
        e.preventDefault();
        // What each answer must say, named as the form labels it and marked where it is missing.
        const needs = {
          given: [[by, 'Answered by'], [signed, 'Date on the signed form'], [reference, 'Form reference']],
          refused: [[by, 'Answered by']],
          withdrawn: [[by, 'Answered by']],
        };
        for (const c of [by, signed, reference]) c.removeAttribute('aria-invalid');
        const missing = (needs[state.value] || []).filter(([c]) => !c.value.trim());
        if (missing.length) {
          for (const [c] of missing) c.setAttribute('aria-invalid', 'true');
          missing[0][0].focus();
          const names = missing.map(([, label]) => `“${label}”`).join(', ');
          return announce(`Could not record consent: fill in ${names} for the answer “${STATES[state.value]}”.`, 'error');
        }
        const statement = {
          state: state.value,
          by: by.value.trim() || null,
          signed_on: signed.value || null,
          reference: reference.value.trim() || null,
          note: note.value.trim() || null,
        };
        if (ERASING.includes(statement.state) && !(await confirm('This erases the faces held at once, here and on every door unit. The register stays. Go on?', 'Record and erase'))) return;
        try {
          if (await send(statement)) await done();
        } catch (err) {
          failed('Could not record consent', err);
        }
      },
    },
    h('h3', {}, title),
    field('Answer', state),
    field('Answered by', by, 'The parent’s name and relation, e.g. “Jane Doe (mother)”.'),
    field('Date on the signed form', signed),
    field('Form reference', reference, 'Where the signed form is filed.'),
    field('Note (optional)', note),
    h('button', { type: 'submit', class: 'primary' }, 'Record'),
  );
}
