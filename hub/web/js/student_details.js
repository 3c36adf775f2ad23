// What the school says of a student beyond their name: school reference, year group, form,
// date of birth, and whether they are active. An inactive student stays on the roll with their
// classes and history, but is not expected at lessons and is in no door unit's gallery. Admins
// change them here (PATCH /students/{id}, audited); the roster import fills them too. Admins
// also invite the student to an account of their own from here (invitations.js), and see and
// change the student's guardians in a card of their own below (guardians.js).

import * as api from './api.js';
import { guardiansCard } from './guardians.js';
import { studentInvite } from './invitations.js';
import { announce, failed, field, h } from './ui.js';

/** "Year 8 · 8C": a student's year group and form, for lists. */
export function describe(s) {
  return [s.year_group, s.form].filter(Boolean).join(' · ');
}

/** A badge that says a student is inactive (nothing for an active one). */
export function inactiveBadge(s) {
  return s.active ? null : h('span', { class: 'inactive', title: 'Not expected at lessons; not recognised at the door' }, 'Inactive');
}

/** The student's details; admins can change them, and have the guardians' card after them
 * (both cards as one fragment). `reload` draws the page again. */
export function detailsCard(s, me, reload) {
  const shown = h(
    'dl',
    { class: 'details', id: 'student-details' },
    row('School reference', s.external_ref),
    row('Year group', s.year_group),
    row('Form', s.form),
    row('Date of birth', s.born_on && birthday(s.born_on)),
    row('Active', s.active ? 'Yes: expected at lessons' : 'No: not expected at lessons, not recognised at the door'),
    // Only an admin's view of a student has how the office reaches them.
    'email' in s ? row('E-mail', s.email) : null,
    'phone' in s ? row('Phone', s.phone) : null,
  );
  const card = h('section', { class: 'card', 'aria-labelledby': 'details-title' }, h('h2', { id: 'details-title' }, 'Details'), shown);
  if (me.role !== 'admin') return card;
  card.append(editForm(s, reload), studentInvite(s));
  // Like the contact details above, guardians are for admins' eyes only.
  const cards = document.createDocumentFragment();
  cards.append(card, guardiansCard(s));
  return cards;
}

/** "2 March 2014" for "2014-03-02". */
function birthday(iso) {
  return new Date(iso + 'T12:00:00').toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
}

function row(label, value) {
  return [h('dt', {}, label), h('dd', {}, value || '—')];
}

function editForm(s, reload) {
  const input = (name, value, attrs = {}) => h('input', { name, value: value || '', autocomplete: 'off', ...attrs });
  const name = input('name', s.name, { required: true, maxlength: 200 });
  const ref = input('external_ref', s.external_ref);
  const year = input('year_group', s.year_group, { maxlength: 64 });
  const form = input('form', s.form, { maxlength: 64 });
  const born = input('born_on', s.born_on, { type: 'date' });
  const active = h('input', { type: 'checkbox', name: 'active', checked: s.active });
  const email = input('email', s.email, { type: 'email', maxlength: 254 });
  const phone = input('phone', s.phone, { type: 'tel', maxlength: 32 });
  const save = async (event) => {
    event.preventDefault();
    const change = {
      name: name.value.trim(),
      external_ref: ref.value.trim() || null,
      year_group: year.value.trim() || null,
      form: form.value.trim() || null,
      born_on: born.value || null,
      active: active.checked,
      email: email.value.trim() || null,
      phone: phone.value.trim() || null,
    };
    try {
      await api.patch(`/students/${api.seg(s.id)}`, change);
      announce(active.checked === s.active ? 'Details saved.' : active.checked ? `${change.name} is active again.` : `${change.name} is inactive: not expected at lessons.`);
      await reload();
    } catch (e) {
      failed('Could not save the details', e);
    }
  };
  return h(
    'details',
    { class: 'edit' },
    h('summary', {}, 'Change details'),
    h(
      'form',
      { id: 'details-form', onsubmit: save },
      field('Name', name),
      field('School reference', ref),
      field('Year group', year, 'As the school writes it: Year 9, 9, Grade 4.'),
      field('Form', form, 'Form, tutor group or department.'),
      field('Date of birth', born),
      h('label', { class: 'check' }, active, 'Active'),
      h('p', { class: 'hint' }, 'Untick for a student away for a long time or not yet started: kept on the roll, not expected at lessons.'),
      field('E-mail', email, 'Seen by admins only; erased with the student.'),
      field('Phone', phone, 'Seen by admins only: +44 7700 900123, (01632) 960 001, 555-0100 ext. 12.'),
      h('button', { type: 'submit', class: 'primary' }, 'Save details'),
    ),
  );
}
