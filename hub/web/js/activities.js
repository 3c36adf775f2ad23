// Trips and clubs (#/activities, every member of staff): one-off registers (a trip, a club, an
// exam, a detention) made for a day and a time with their pupils, and taken by hand on a phone.
// Taking one is "all present except…": tap the pupils who are not there (a second tap makes
// one late, a third puts them back), then one button marks every other pupil present
// (POST /activities/{id}/register). A trip's pupils get the off-site code in the lessons it
// covers, so they are never missing from them; marked absent from the trip they are back in
// those lessons. Made with a class's pupils (all ticked, untick who is not going) and any
// other pupil by name (GET /classes, /classes/{id}/students, /students). Taken without a
// network, the register is saved on the phone and sent when the hub can be reached
// (js/queue.js).

import * as api from './api.js';
import * as queue from './queue.js';
import * as taps from './taps.js';
import { announce, confirm, failed, field, fill, h, heading, select } from './ui.js';

const KINDS = [
  ['trip', 'Trip (off site)'],
  ['club', 'Club'],
  ['exam', 'Exam'],
  ['detention', 'Detention'],
];
const KIND = Object.fromEntries(KINDS);

export async function render(main) {
  // The school's today, as the hub has it: the first list says which day it is.
  const day = h('input', { type: 'date', name: 'day' });
  const list = h('div', { id: 'activities' });
  const form = await newForm(() => refresh());
  main.append(
    heading('Trips and clubs'),
    h('p', { class: 'lead' }, 'One-off registers, taken on your phone: tap who is not there, then one button marks everyone else present. Pupils on a trip are marked off site in the lessons it covers.'),
    h('div', { class: 'no-print' }, field('Day', day)),
    list,
    form.el,
  );
  day.addEventListener('change', () => refresh());

  async function refresh() {
    const listed = await api.get(day.value ? `/activities?day=${api.seg(day.value)}` : '/activities');
    if (!day.value) day.value = form.day.value = listed.day;
    fill(list, listed.activities.length ? listed.activities.map((a) => card(a, refresh)) : h('p', { class: 'empty' }, 'Nothing on this day.'));
  }
  await refresh();
}

/** One register: its pupils, and for whoever takes it the taps and the one button. */
function card(a, refresh) {
  const summary = h('p', { class: 'activity-count', 'aria-live': 'polite' });
  const send = h('button', { type: 'button', class: 'primary activity-send' });
  const marked = a.pupils.filter((p) => p.mark).length;
  const redraw = () => {
    send.textContent = taps.allPresentExcept(pupils.away());
    summary.textContent = marked ? `Taken: ${count(a.pupils, 'present')} present, ${count(a.pupils, 'late')} late, ${count(a.pupils, 'absent')} absent.` : `${a.pupils.length} pupils, not taken yet.`;
  };
  const pupils = taps.register(a.pupils, `Pupils of ${a.title}: tap who is not there`, redraw, { disabled: !a.yours });
  send.addEventListener('click', async () => {
    const absent = pupils.named('absent');
    const there = a.pupils.length - absent.length;
    try {
      const path = `/activities/${api.seg(a.id)}/register`;
      const sent = await queue.decide('POST', path, { absent, late: pupils.named('late') }, `${a.title}: all present except ${absent.length}`);
      if (sent.queued) {
        summary.textContent = `Saved on this phone: ${there} of ${a.pupils.length} there. Sent when the hub can be reached.`;
        announce(`${a.title}: saved on this phone, ${there} of ${a.pupils.length} there.`);
        return;
      }
      const taken = sent.answer;
      announce(`${taken.title}: taken, ${count(taken.pupils, 'present') + count(taken.pupils, 'late')} of ${taken.pupils.length} there.`);
      await refresh();
    } catch (err) {
      failed(`Could not take ${a.title}`, err);
    }
  });
  const cancel = async () => {
    if (!(await confirm(`Cancel ${a.title}? Its pupils are back in their lessons.`, 'Cancel it'))) return;
    try {
      await api.del(`/activities/${api.seg(a.id)}`);
      announce(`${a.title} is cancelled.`);
      await refresh();
    } catch (err) {
      failed(`Could not cancel ${a.title}`, err);
    }
  };
  redraw();
  const titleId = `activity-${a.id}`;
  return h(
    'section',
    { class: 'card activity', dataset: { id: a.id, kind: a.kind }, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, a.title),
    h('p', { class: 'hint' }, `${KIND[a.kind]} · ${a.start}–${a.end}${a.place ? ` · ${a.place}` : ''}`),
    summary,
    pupils.el,
    a.yours
      ? h('div', { class: 'activity-actions no-print' }, send, h('button', { type: 'button', class: 'small', onclick: cancel }, `Cancel ${a.kind}`))
      : h('p', { class: 'hint' }, 'Taken by whoever made it.'),
  );
}

const count = (pupils, mark) => pupils.filter((p) => p.mark === mark).length;

/** Making one: what, when, and its pupils by class or by name: { el, day }. */
async function newForm(made) {
  const [classes, students] = await Promise.all([api.get('/classes'), api.get('/students?active=true')]);
  const kind = select('kind', KINDS, 'trip');
  const title = h('input', { name: 'title', required: true, maxlength: 120, autocomplete: 'off' });
  const day = h('input', { type: 'date', name: 'day', required: true });
  const start = h('input', { type: 'time', name: 'start', required: true, value: '09:00' });
  const end = h('input', { type: 'time', name: 'end', required: true, value: '15:00' });
  const place = h('input', { name: 'place', maxlength: 120, autocomplete: 'off' });
  const klass = select('class', [['', 'Choose a class'], ...classes.map((c) => [c.id, c.name])], '');
  const byName = h('input', { name: 'pupil', list: 'activity-names', autocomplete: 'off' });
  const names = h('datalist', { id: 'activity-names' }, students.map((s) => h('option', { value: s.name })));
  const chosen = h('ul', { class: 'plain activity-chosen', 'aria-label': 'Pupils going' });
  const picked = new Map();
  const tick = (s) => {
    if (picked.has(s.id)) return;
    const box = h('input', { type: 'checkbox', checked: true, value: s.id });
    picked.set(s.id, box);
    chosen.append(h('li', {}, h('label', { class: 'check' }, box, ` ${s.name}`)));
  };
  klass.addEventListener('change', async () => {
    if (!klass.value) return;
    (await api.get(`/classes/${api.seg(klass.value)}/students`)).forEach(tick);
    klass.value = '';
  });
  const add = () => {
    const typed = byName.value.trim().toLowerCase();
    const matching = students.filter((s) => s.name.toLowerCase() === typed);
    if (matching.length !== 1) return failed('Could not add', new Error(matching.length ? 'several pupils have this name' : 'choose a pupil from the list'));
    tick(matching[0]);
    byName.value = '';
  };
  const submit = async (e) => {
    e.preventDefault();
    const pupils = [...picked].filter(([, box]) => box.checked).map(([id]) => id);
    try {
      const a = await api.post('/activities', { kind: kind.value, title: title.value, day: day.value, start: start.value, end: end.value, place: place.value.trim() || null, pupils });
      announce(`${a.title} is made, with ${a.pupils.length} pupils.`);
      title.value = place.value = '';
      picked.clear();
      fill(chosen);
      await made();
    } catch (err) {
      failed('Could not make the register', err);
    }
  };
  const el = h(
    'details',
    { class: 'card no-print', id: 'new-activity' },
    h('summary', {}, 'Make a register'),
    h(
      'form',
      { class: 'grid', onsubmit: submit },
      field('Kind', kind),
      field('Title', title, 'What pupils and families call it: "Year 8 Science Museum".'),
      field('Day', day),
      field('From', start),
      field('To', end, 'A trip takes its pupils out of every lesson it overlaps.'),
      field('Place', place),
      field('Add a class', klass, 'Its pupils are added ticked: untick who is not going.'),
      field('Add a pupil', byName),
      names,
      h('button', { type: 'button', onclick: add }, 'Add pupil'),
      chosen,
      h('button', { type: 'submit', class: 'primary' }, 'Make register'),
    ),
  );
  return { el, day };
}
