// My children (#/children), the one page a guardian's own account sees: each child the school
// lets them follow (a guardian with parental responsibility at the account's address), with
// today's lessons and marks, the absences the school knows of from today on, and a form to
// tell the school of an absence ahead (the office accepts or rejects it on the Families page);
// then each child's history (history.js's view, without the face crops) and the password. It
// reads only the guardian's own answers (GET /me/children, /me/children/{id}/history).

import * as api from './api.js';
import { passwordCard } from './account.js';
import { historyView, markOf } from './history.js';
import { announce, failed, field, fill, h, heading, longDate, time } from './ui.js';

/** The longest note the hub keeps. */
const MAX_NOTE = 500;

/** The reasons a family can give, in this page's words. */
const REASONS = { ill: 'Ill', medical: 'Medical appointment', religious: 'Religious observance', other: 'Other' };
const NOTE_OPTIONAL = `Optional, at most ${MAX_NOTE} characters.`;
const NOTE_NEEDED = `Needed for “Other”: tell the school the reason. At most ${MAX_NOTE} characters.`;

export async function render(main, { me }) {
  main.append(heading('My children'));
  let mine;
  try {
    mine = await api.get('/me/children');
  } catch (e) {
    main.append(h('p', { class: 'error' }, `The hub did not answer: ${e.message}`));
    return;
  }
  if (!mine.children.length) {
    main.append(h('p', { class: 'empty', id: 'no-children' }, 'The school lists no child of yours at this address. Please ask the school office.'), passwordCard(me));
    return;
  }
  main.append(...mine.children.map((c) => childCard(c, mine)), histories(mine.children), passwordCard(me));
}

/** The ids of a child's elements: `child-ID-name`. */
const idOf = (child) => (name) => `child-${child.id}-${name}`;

/** One child: who, today's lessons, the absences ahead and the form to tell of another. */
function childCard(child, mine) {
  const id = idOf(child);
  const group = [child.year_group, child.form].filter(Boolean).join(' · ');
  const absences = h('div', { class: 'absences-ahead' }, absenceList(child));
  const told = async () => {
    try {
      const fresh = (await api.get('/me/children')).children.find((c) => c.id === child.id);
      if (fresh) fill(absences, absenceList(fresh));
    } catch (e) {
      failed('Could not load the absences again', e);
    }
  };
  return h(
    'section',
    { class: 'card', dataset: { child: child.id }, 'aria-labelledby': id('name') },
    h('h2', { id: id('name') }, child.name),
    group ? h('p', { class: 'hint' }, group) : null,
    h('h3', {}, `Today, ${longDate(mine.today)}`),
    lessons(child),
    h('h3', {}, 'Absences the school knows of'),
    absences,
    absenceForm(child, mine, told),
  );
}

/** Today's lessons, earliest first, each with its mark in words. */
function lessons(child) {
  if (!child.today.length) return h('p', { class: 'empty' }, 'No lessons today.');
  const today = [...child.today].sort((a, b) => a.session.starts_at - b.session.starts_at);
  const row = (r) =>
    h(
      'tr',
      { dataset: { slot: r.session.slot_id } },
      h('th', { scope: 'row' }, `${r.session.start}–${r.session.end}`),
      h('td', {}, r.session.class_name, h('span', { class: 'detail' }, ` · ${r.session.room}`)),
      h('td', {}, markOf(r)),
    );
  return h(
    'table',
    { class: 'child-today' },
    h('caption', { class: 'visually-hidden' }, `Lessons of ${child.name} today`),
    h('thead', {}, h('tr', {}, ['Time', 'Class and room', 'Mark'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, today.map(row)),
  );
}

/** Each absence from today on: the day, the reason given and what the school made of it. */
function absenceList(child) {
  if (!child.absences.length) return h('p', { class: 'empty' }, 'None from today on.');
  const reason = (r) => (r ? [REASONS[r.reason] || r.reason, r.note ? [': ', h('q', {}, r.note)] : null] : 'No reason given yet: please tell the school below.');
  return h(
    'ul',
    { class: 'absences' },
    child.absences.map((n) =>
      h(
        'li',
        { dataset: { day: n.day, state: stateOf(n) } },
        h('strong', {}, longDate(n.day)),
        h('span', { class: 'reason' }, reason(n.reply)),
        h('span', { class: 'notice-state ' + stateOf(n) }, stateWords(n)),
        n.arrived_at ? h('span', { class: 'detail' }, `Arrived at ${time(n.arrived_at)}.`) : null,
      ),
    ),
  );
}

function stateOf(n) {
  if (n.decision) return n.decision.state;
  return n.reply ? 'waiting' : 'unanswered';
}

function stateWords(n) {
  const note = n.decision && n.decision.note;
  switch (stateOf(n)) {
    case 'accepted':
      return note ? `Accepted by the school: ${note}` : 'Accepted by the school';
    case 'rejected':
      return `Not accepted: ${note || 'please call the school office'}`;
    case 'waiting':
      return 'Waiting for the school';
    default:
      return 'The school is waiting for a reason';
  }
}

/**
 * "Tell the school about an absence": a day from today to the hub's `report_until`, a reason
 * and a note (needed for "Other"). The hub's refusal stays beside the button, the fields as
 * they were; `told` hears of each absence the hub took.
 */
function absenceForm(child, mine, told) {
  const id = idOf(child);
  const day = h('input', { type: 'date', name: 'day', min: mine.today, max: mine.report_until, required: true });
  const reason = h(
    'select',
    { name: 'reason', required: true, onchange: chosen },
    h('option', { value: '' }, 'Choose a reason'),
    mine.reasons.map((r) => h('option', { value: r }, REASONS[r] || r)),
  );
  const note = h('textarea', { name: 'note', rows: 3, maxlength: MAX_NOTE });
  const noteField = field('Note for the school', note, NOTE_OPTIONAL);
  // Beside the button, where a thumb on a phone just pressed it.
  const error = h('p', { class: 'error', role: 'alert', id: id('error') });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Tell the school');
  const form = h(
    'form',
    { class: 'absence-form', id: id('form'), 'aria-labelledby': id('tell'), novalidate: true, onsubmit: submit },
    field('Day', day, `From today to ${longDate(mine.report_until)}.`),
    field('Reason', reason),
    noteField,
    error,
    button,
  );
  return [h('h3', { id: id('tell') }, 'Tell the school about an absence'), form];

  function chosen() {
    note.required = reason.value === 'other';
    noteField.querySelector('.hint').textContent = note.required ? NOTE_NEEDED : NOTE_OPTIONAL;
  }

  /** What the page itself can say is missing, before anything is sent. */
  function missing() {
    if (!day.value) return [day, 'Choose the day of the absence.'];
    if (!reason.value) return [reason, 'Choose a reason.'];
    if (reason.value === 'other' && !note.value.trim()) return [note, 'Tell the school the reason in the note.'];
    return null;
  }

  async function submit(event) {
    event.preventDefault();
    error.textContent = '';
    for (const control of [day, reason, note]) control.removeAttribute('aria-invalid');
    const wrong = missing();
    if (wrong) return refused(...wrong);
    button.disabled = true;
    try {
      const body = { day: day.value, reason: reason.value, note: note.value.trim() || null };
      const notice = await api.post(`/me/children/${api.seg(child.id)}/absences`, body);
      form.reset();
      chosen();
      announce(`The school has been told: ${child.name}, ${longDate(notice.day)}.`);
      await told();
    } catch (e) {
      // "day: Ada has no lessons on…": the field named is marked, its name left out.
      const named = /^(day|reason|note): /.exec(e.message);
      const control = named && { day, reason, note }[named[1]];
      refused(control, `Not sent: ${named ? e.message.slice(named[0].length) : e.message}`);
    } finally {
      button.disabled = false;
    }
  }

  function refused(control, message) {
    error.textContent = message;
    if (!control) return;
    control.setAttribute('aria-invalid', 'true');
    control.focus();
  }
}

/** Each child's lessons and marks over a range, behind a disclosure each (an only child's open). */
function histories(children) {
  return h(
    'section',
    { id: 'children-history', 'aria-labelledby': 'children-history-title' },
    h('h2', { id: 'children-history-title' }, 'History'),
    children.map((c) => childHistory(c, children.length === 1)),
  );
}

/** A child's history in a disclosure, loaded the first time it opens. */
function childHistory(child, open) {
  const view = historyView(`/me/children/${api.seg(child.id)}/history`, { faces: false, prefix: idOf(child)('') });
  let loaded = false;
  const toggled = () => {
    if (!details.open || loaded) return;
    loaded = true;
    view.load();
  };
  const details = h(
    'details',
    { class: 'child-history', dataset: { child: child.id }, ontoggle: toggled },
    h('summary', {}, `${child.name}: lessons and marks, term by term`),
    view.range,
    view.body,
  );
  details.open = open;
  return details;
}
