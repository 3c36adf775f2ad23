// A student's guardians: the people the school contacts about them, the first contacted first.
// Each has a relationship, an e-mail address and a mobile number (either may be missing), the
// language the school writes to them in, whether they are told of absences and whether they
// have parental responsibility. An admin sees them on the student's page and edits the list
// as a whole (PUT /students/{id}/guardians), and invites a guardian with an address and
// parental responsibility to an account of their own (children.js); the Students page imports
// them for many students from a CSV file, all rows or none. Admins only: the hub answers
// nobody else.

import * as api from './api.js';
import { issued } from './invitations.js';
import { announce, failed, field, fill, h, select } from './ui.js';

/** Most guardians a student may have (the hub's limit too). */
const MAX = 9;

const RELATIONSHIPS = { parent: 'Parent', guardian: 'Guardian', carer: 'Carer', relative: 'Relative', other: 'Other' };

const COLUMNS = 'student_reference, name, relationship, email, phone, language, notices, responsibility';

/** The card of the student `s`'s guardians: the list, or the admin's form to change it. */
export function guardiansCard(s) {
  const title = () => h('h2', { id: 'guardians-title' }, 'Guardians');
  const box = h('section', { class: 'card', id: 'guardians', 'aria-labelledby': 'guardians-title' }, title());
  load();
  return box;

  async function load() {
    try {
      show(await api.get(`/students/${api.seg(s.id)}/guardians`));
    } catch (e) {
      failed('Could not load the guardians', e);
    }
  }

  function show(list) {
    const edit = h('button', { type: 'button', id: 'guardians-edit', onclick: () => change(list) }, 'Edit guardians');
    fill(box, title(), list.length ? shown(list) : h('p', { class: 'empty' }, 'No guardians recorded yet.'), edit);
    return edit;
  }

  function change(list) {
    const saved = (kept) => show(kept).focus();
    const cancel = () => show(list).focus();
    fill(box, title(), guardiansForm(s, list, saved, cancel));
    box.querySelector('input').focus();
  }
}

/** The guardians in order, each with how the school reaches them. */
function shown(list) {
  return h(
    'ol',
    { class: 'guardians', id: 'guardian-list' },
    list.map((g) =>
      h(
        'li',
        { dataset: { priority: String(g.priority) } },
        h('h3', {}, g.name, h('span', { class: 'hint' }, ` · ${RELATIONSHIPS[g.relationship] || g.relationship}`)),
        h(
          'dl',
          { class: 'details' },
          row('E-mail', g.email && h('a', { href: `mailto:${g.email}` }, g.email)),
          row('Phone', g.phone && h('a', { href: `tel:${g.phone}` }, g.phone)),
          row('Language', language(g.language)),
          row('Told of absences', g.notices ? 'Yes' : 'No'),
          row('Parental responsibility', g.responsibility ? 'Yes' : 'No'),
        ),
        g.email && g.responsibility ? invite(g) : null,
      ),
    ),
  );
}

/**
 * "Invite to sign in": the guardian's own account, at their address; the link is shown too,
 * for the office to hand over when no e-mail went. The hub's refusal (an account at that
 * address already) stays in the card.
 */
function invite(g) {
  const out = h('div', { class: 'guardian-invitation', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert' });
  const send = async () => {
    error.textContent = '';
    try {
      const answer = await api.post('/invitations', { role: 'guardian', email: g.email });
      fill(out, issued(answer));
      announce(answer.invitation.sent_at ? `Invitation sent to ${g.email}.` : `Invitation made for ${g.email}, not e-mailed: give them the link.`);
    } catch (e) {
      error.textContent = `Could not invite ${g.name}: ${e.message}`;
    }
  };
  return h(
    'div',
    { class: 'guardian-invite' },
    h('button', { type: 'button', class: 'small invite-guardian', onclick: send }, 'Invite to sign in', h('span', { class: 'visually-hidden' }, ` (${g.name})`)),
    error,
    out,
  );
}

function row(label, value) {
  return [h('dt', {}, label), h('dd', {}, value || '—')];
}

/** "Welsh (cy)" for "cy"; the tag alone where the browser knows no name for it. */
function language(tag) {
  try {
    const name = new Intl.DisplayNames(['en-GB'], { type: 'language' }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

/** The form changing the whole list: `saved` gets the list the hub kept, `cancel` drops it. */
function guardiansForm(s, list, saved, cancel) {
  const sets = h('div', { class: 'guardian-sets' });
  const add = h('button', { type: 'button', id: 'guardian-add', onclick: () => added(sets, add) }, 'Add a guardian');
  const error = h('p', { class: 'error', role: 'alert', id: 'guardians-error' });
  sets.addEventListener('click', (e) => pressed(sets, add, e));
  // No guardian yet: the form starts with one to fill in.
  for (const g of list.length ? list : [{}]) sets.append(guardianSet(g));
  renumber(sets, add);
  async function submit(e) {
    e.preventDefault();
    error.textContent = '';
    try {
      const kept = await api.put(`/students/${api.seg(s.id)}/guardians`, { guardians: [...sets.children].map(given) });
      announce(`Guardians saved: ${kept.length}.`);
      saved(kept);
    } catch (err) {
      error.textContent = `Could not save the guardians: ${err.message}`;
      invalid(sets, err.message);
    }
  }
  return h(
    'form',
    { id: 'guardians-form', class: 'guardians-form', novalidate: true, onsubmit: submit },
    h('p', { class: 'hint' }, `The first is contacted first. At most ${MAX}.`),
    sets,
    add,
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save guardians'), h('button', { type: 'button', onclick: cancel }, 'Cancel')),
  );
}

/** One guardian's fields (a new one: a parent, writing in English, told of everything). */
function guardianSet(g = {}) {
  const input = (name, attrs = {}) => h('input', { name, value: g[name] || '', autocomplete: 'off', ...attrs });
  const check = (name, label) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked: g[name] ?? true }), label);
  const button = (action, text) => h('button', { type: 'button', class: 'small', dataset: { action } }, text, h('span', { class: 'visually-hidden' }));
  return h(
    'fieldset',
    { class: 'guardian' },
    h('legend', {}),
    h(
      'div',
      { class: 'guardian-fields' },
      field('Name', input('name', { required: true, maxlength: 200 })),
      field('Relationship', select('relationship', Object.entries(RELATIONSHIPS), g.relationship || 'parent')),
      field('E-mail (optional)', input('email', { type: 'email', autocapitalize: 'none', maxlength: 254 })),
      field('Mobile phone (optional)', input('phone', { type: 'tel', maxlength: 32 }), 'For text messages.'),
      field('Language', input('language', { value: g.language || 'en', autocapitalize: 'none', spellcheck: 'false', maxlength: 35 }), 'en, cy, pl…'),
    ),
    check('notices', 'Told of absences'),
    check('responsibility', 'Parental responsibility'),
    h('div', { class: 'actions' }, button('up', 'Move up'), button('remove', 'Remove')),
  );
}

/** Numbers the guardians in their order; the first cannot move up, a tenth cannot be added. */
function renumber(sets, add) {
  [...sets.children].forEach((set, i) => {
    set.querySelector('legend').textContent = i ? `Guardian ${i + 1}` : 'Guardian 1 (contacted first)';
    for (const hidden of set.querySelectorAll('button .visually-hidden')) hidden.textContent = ` guardian ${i + 1}`;
    set.querySelector('[data-action=up]').disabled = i === 0;
  });
  add.disabled = sets.children.length >= MAX;
}

function added(sets, add) {
  const set = guardianSet();
  sets.append(set);
  renumber(sets, add);
  set.querySelector('input').focus();
}

/** A Move up or Remove button pressed in the list. */
function pressed(sets, add, event) {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const set = button.closest('fieldset');
  const name = set.querySelector('[name=name]').value.trim() || 'The guardian';
  if (button.dataset.action === 'up') {
    set.previousElementSibling.before(set);
    renumber(sets, add);
    (button.disabled ? set.querySelector('input') : button).focus();
    announce(`${name} is now guardian ${[...sets.children].indexOf(set) + 1}.`);
  } else {
    const next = set.nextElementSibling && set.nextElementSibling.querySelector('input');
    set.remove();
    renumber(sets, add);
    (next || add).focus();
    announce(`${name} removed; saved when you save the guardians.`);
  }
}

/** One guardian as the hub takes it. */
function given(set) {
  const value = (name) => set.querySelector(`[name=${name}]`).value.trim();
  return {
    name: value('name'),
    relationship: value('relationship'),
    email: value('email') || null,
    phone: value('phone') || null,
    language: value('language') || null,
    notices: set.querySelector('[name=notices]').checked,
    responsibility: set.querySelector('[name=responsibility]').checked,
  };
}

/** Marks the field the hub named ("guardian 2: email: …") and moves the focus to it. */
function invalid(sets, message) {
  for (const marked of sets.querySelectorAll('[aria-invalid]')) marked.removeAttribute('aria-invalid');
  const named = /^guardian (\d+): (\w+):/.exec(message);
  const set = named && sets.children[Number(named[1]) - 1];
  const control = set && set.querySelector(`[name=${named[2]}]`);
  if (!control) return;
  control.setAttribute('aria-invalid', 'true');
  control.focus();
}

/** The Students page's card: a CSV file of guardians, imported whole or not at all. */
export function importCard() {
  const file = h('input', { type: 'file', name: 'guardians_file', accept: '.csv,text/csv', required: true });
  const result = h('div', { id: 'guardians-import-result', 'aria-live': 'polite' });
  async function send(e) {
    e.preventDefault();
    if (!file.files.length) return;
    try {
      const done = await api.postFile('/guardians/import', new Blob([file.files[0]], { type: 'text/csv' }));
      const text = `Guardians set for ${count(done.students, 'student')} (${count(done.guardians, 'guardian')}).`;
      fill(result, h('p', {}, text));
      announce(text);
      e.target.reset();
    } catch (err) {
      const rows = (err.body && err.body.error && err.body.error.rows) || [];
      fill(result, h('p', { class: 'error' }, err.message), rows.length ? h('ul', { class: 'bad-rows' }, rows.map(badRow)) : null);
      failed('The file cannot be imported', err);
    }
  }
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'guardians-import-title' },
    h('h2', { id: 'guardians-import-title' }, 'Import guardians (CSV)'),
    h('p', { class: 'hint' }, `A header, then one guardian a row: ${COLUMNS}. Only the first three are needed; notices (told of absences) and responsibility are yes or no (empty: yes). A student's rows in order, the first contacted first; the file replaces the guardians of each student it names. One bad row and nothing is imported.`),
    h('form', { id: 'guardians-import', onsubmit: send }, field('CSV file', file), h('button', { type: 'submit', class: 'primary' }, 'Import guardians')),
    result,
  );
}

/** "1 student", "2 guardians". */
function count(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A bad row of the file: its line, or (line 0) the whole file. */
function badRow(r) {
  return h('li', {}, r.line ? `Line ${r.line}: ${r.message}` : r.message);
}
