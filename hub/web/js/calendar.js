// Calendar (admins): the school's terms and holidays, added, changed and deleted here. Before
// anything is saved the hub is asked what the change would do to the lessons still to come
// (POST /calendar/preview, the hub's own rule), the answer is shown and read out, and the admin
// confirms; closed lessons stay in the register as written whatever the calendar says later.

import * as api from './api.js';
import { announce, confirm, failed, field, fill, h, heading } from './ui.js';

/** How many of the affected lessons the page lists (the counts are always whole). */
const LISTED = 12;
const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** "Mon 30 Nov 2026" for "2026-11-30". */
function shortDate(iso) {
  const d = new Date(iso + 'T12:00:00');
  return `${SHORT_DAYS[d.getDay()]} ${d.getDate()} ${d.toLocaleString('en-GB', { month: 'short' })} ${d.getFullYear()}`;
}

function lesson(s) {
  return `${shortDate(s.day)}, ${s.class_name || 'a deleted class'}, ${s.room} ${s.start}–${s.end}`;
}

const lessons = (n) => (n === 1 ? '1 lesson' : `${n} lessons`);

/** One sentence for the preview: "This removes 12 lessons (first: …) and adds 0." */
export function summary(p) {
  const first = (side) => (side.sessions.length ? ` (first: ${lesson(side.sessions[0])})` : '');
  return `This removes ${lessons(p.removed.count)}${first(p.removed)} and adds ${p.added.count}${first(p.added)}.`;
}

export async function render(main) {
  const terms = h('section', { class: 'card', 'aria-labelledby': 'terms-title' });
  const holidays = h('section', { class: 'card', 'aria-labelledby': 'holidays-title' });
  const preview = h('section', { class: 'card wide', id: 'calendar-preview', 'aria-labelledby': 'preview-title', hidden: true });
  main.append(
    heading('Calendar'),
    h('p', { class: 'lead' }, 'Lessons happen inside a term (on any day while no term is set) and never on a holiday. Each change shows the lessons it adds or removes before you save it.'),
    preview,
    h('div', { class: 'admin-cols' }, terms, holidays),
  );
  const state = { terms: [], holidays: [] };

  async function load() {
    [state.terms, state.holidays] = await Promise.all([api.get('/calendar/terms'), api.get('/calendar/holidays')]);
    fill(terms, ...termsPart());
    fill(holidays, ...holidaysPart());
  }

  function showPreview(what, p) {
    const side = (title, s) =>
      s.count
        ? [
            h('h3', {}, `${title}: ${lessons(s.count)}`),
            h('ul', { class: 'plain' }, s.sessions.slice(0, LISTED).map((x) => h('li', {}, lesson(x)))),
            s.count > LISTED ? h('p', { class: 'hint' }, `and ${s.count - LISTED} more`) : null,
          ]
        : null;
    preview.hidden = false;
    fill(
      preview,
      h('h2', { id: 'preview-title' }, `Before saving: ${what}`),
      h('p', { class: 'preview-summary' }, summary(p)),
      side('Removed', p.removed),
      side('Added', p.added),
      h('p', { class: 'hint' }, p.note),
    );
  }

  // Asks the hub what `change` would do, shows it, and saves with `save` once confirmed.
  async function change(what, body, done, save) {
    try {
      const p = await api.post('/calendar/preview', body);
      showPreview(what, p);
      announce(summary(p));
      if (!(await confirm(`${what}: ${summary(p)} Save?`, 'Save'))) {
        announce('Nothing saved.');
        return;
      }
      await save();
      announce(done);
      preview.hidden = true;
      await load();
    } catch (e) {
      failed('Could not save', e);
    }
  }

  function dates(first, last) {
    return [
      h('input', { type: 'date', name: 'first_day', required: true, value: first || '' }),
      h('input', { type: 'date', name: 'last_day', required: true, value: last || '' }),
    ];
  }

  function termsPart() {
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const [first, last] = dates();
    const add = (e) => {
      e.preventDefault();
      const term = { name: name.value.trim(), first_day: first.value, last_day: last.value };
      change(`Add the term ${term.name}`, { term }, `Added the term ${term.name}.`, () => api.post('/calendar/terms', term));
    };
    return [
      h('h2', { id: 'terms-title' }, 'Terms'),
      state.terms.length ? h('ul', { class: 'plain calendar-list' }, state.terms.map(termRow)) : h('p', { class: 'empty' }, 'No terms: every day with a lesson in the timetable is a school day.'),
      h('form', { class: 'grid', id: 'add-term', onsubmit: add }, h('h3', {}, 'Add a term'), field('Name', name), field('First day', first), field('Last day', last), h('button', { type: 'submit', class: 'primary' }, 'Add term')),
    ];
  }

  function termRow(t) {
    const path = `/calendar/terms/${api.seg(t.id)}`;
    const name = h('input', { name: 'name', required: true, value: t.name, autocomplete: 'off' });
    const [first, last] = dates(t.first_day, t.last_day);
    const save = (e) => {
      e.preventDefault();
      const term = { id: t.id, name: name.value.trim(), first_day: first.value, last_day: last.value };
      change(`Change the term ${t.name}`, { term }, `Saved the term ${term.name}.`, () =>
        api.patch(path, { name: term.name, first_day: term.first_day, last_day: term.last_day }),
      );
    };
    const remove = () => change(`Delete the term ${t.name}`, { remove_term: t.id }, `Deleted the term ${t.name}.`, () => api.del(path));
    return h(
      'li',
      { dataset: { term: t.id } },
      h('form', { class: 'inline calendar-row', onsubmit: save, 'aria-label': `Term ${t.name}` },
        field('Name', name),
        field('First day', first),
        field('Last day', last),
        h('div', { class: 'actions' },
          h('button', { type: 'submit' }, 'Save'),
          h('button', { type: 'button', class: 'danger', onclick: remove, 'aria-label': `Delete the term ${t.name}` }, 'Delete'),
        ),
      ),
    );
  }

  function holidaysPart() {
    const day = h('input', { type: 'date', name: 'day', required: true });
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const add = (e) => {
      e.preventDefault();
      const holiday = { day: day.value, name: name.value.trim() };
      change(`Add the holiday ${holiday.name} on ${shortDate(holiday.day)}`, { holiday }, `Added ${holiday.name}.`, () => api.post('/calendar/holidays', holiday));
    };
    return [
      h('h2', { id: 'holidays-title' }, 'Holidays'),
      state.holidays.length ? h('ul', { class: 'plain calendar-list' }, state.holidays.map(holidayRow)) : h('p', { class: 'empty' }, 'No holidays.'),
      h('form', { class: 'grid', id: 'add-holiday', onsubmit: add }, h('h3', {}, 'Add a holiday'), field('Day', day), field('Name', name), h('button', { type: 'submit', class: 'primary' }, 'Add holiday')),
    ];
  }

  function holidayRow(d) {
    const path = `/calendar/holidays/${api.seg(d.day)}`;
    const name = h('input', { name: 'name', required: true, value: d.name, autocomplete: 'off' });
    // A new name moves no lesson, so it is saved without a preview.
    const rename = async (e) => {
      e.preventDefault();
      try {
        await api.patch(path, { name: name.value.trim() });
        announce(`Renamed ${shortDate(d.day)}.`);
        await load();
      } catch (err) {
        failed('Could not save', err);
      }
    };
    const remove = () => change(`Delete the holiday ${d.name} on ${shortDate(d.day)}`, { remove_holiday: d.day }, `Deleted ${d.name}.`, () => api.del(path));
    return h(
      'li',
      { dataset: { holiday: d.day } },
      h('form', { class: 'inline calendar-row', onsubmit: rename, 'aria-label': `Holiday ${shortDate(d.day)}` },
        h('strong', {}, shortDate(d.day)),
        field('Name', name),
        h('div', { class: 'actions' },
          h('button', { type: 'submit' }, 'Rename'),
          h('button', { type: 'button', class: 'danger', onclick: remove, 'aria-label': `Delete the holiday ${d.name} on ${shortDate(d.day)}` }, 'Delete'),
        ),
      ),
    );
  }

  await load();
}
