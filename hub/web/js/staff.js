// Staff (#/staff, every signed-in member of staff; never a student's account): how many of the
// school's staff are on site now, and each member's day (first in, last out) and where the log
// puts them, signed in or out from their row; a day's log as a CSV file. Admins also see each
// member's e-mail and phone, add or change a member, and import a CSV file of staff (all rows
// or none: the bad rows are listed by line), and record a member's consent to be recognised at
// the gates and their photos (staff_faces.js). A time the gates logged says so.

import * as api from './api.js';
import { gatesCell, gatesPanel } from './staff_faces.js';
import { announce, dateTime, download, failed, field, fill, h, heading, longDate, time } from './ui.js';

const COLUMNS = 'personnel_code, name, department, position, email, phone, active';

export async function render(main, { me }) {
  const admin = me.role === 'admin';
  // `today`: the hub's day, from its first answer; `editing`: the member in the admin's form;
  // `gated`: "member@time" of the day's entries a gate logged.
  const state = { today: null, day: null, staff: [], editing: null, gated: new Set() };
  const count = h('p', { class: 'count', id: 'staff-count', 'aria-live': 'polite' });
  const day = h('input', { type: 'date', name: 'day' });
  const find = h('input', { type: 'search', name: 'find', autocomplete: 'off' });
  const title = h('h2', { id: 'staff-title' }, 'Staff');
  const rows = h('tbody', {});
  const none = h('p', { class: 'empty', id: 'staff-none', hidden: true });
  // Codes naming two people, kept from before codes were compared whatever their case.
  const clashes = h('section', { class: 'card warning', id: 'code-clashes', role: 'alert', hidden: true });
  const form = h('section', { class: 'card', id: 'staff-member', 'aria-labelledby': 'member-title' });
  day.addEventListener('change', () => load().catch((e) => failed('Could not load the day', e)));
  find.addEventListener('input', filter);
  const query = () => (day.value ? `?day=${day.value}` : '');
  // The admin's panel of one member's face recognition at the gates.
  const gates = admin ? gatesPanel(() => state.today, () => load()) : null;
  const parts = [
    heading('Staff', count),
    admin ? clashes : null,
    tools(),
    h('section', { class: 'card', 'aria-labelledby': 'staff-title' }, title, table(), none),
    admin ? gates.section : null,
    admin ? h('div', { class: 'admin-cols' }, form, importCard(() => load())) : null,
  ];
  main.append(...parts.filter(Boolean));
  if (admin) drawForm();
  await load();

  async function load() {
    const [answer, log] = await Promise.all([api.get(`/staff${query()}`), api.get(`/staff/log${query()}`)]);
    if (!state.today) state.today = answer.day;
    state.day = answer.day;
    state.staff = answer.staff;
    state.gated = new Set(log.entries.filter((e) => e.source === 'door').map((e) => `${e.staff}@${e.at}`));
    day.value = answer.day;
    count.textContent = `${answer.on_site} on site now`;
    title.textContent = `Staff on ${longDate(answer.day)}`;
    fill(rows, state.staff.length ? state.staff.map(row) : emptyRow());
    filter();
    if (admin) showClashes(answer.code_clashes || []);
  }

  function showClashes(groups) {
    clashes.hidden = !groups.length;
    const who = (g) => g.map((m) => `${m.name} (${m.personnel_code})`).join(' and ');
    fill(
      clashes,
      h('h2', {}, 'Personnel codes that name two people'),
      h('p', {}, 'A code is the same whatever its case, so reception cannot sign these in by code. Give one of each pair a code of its own:'),
      h('ul', {}, groups.map((g) => h('li', {}, who(g)))),
    );
  }

  function tools() {
    const csv = h('button', { type: 'button', id: 'staff-csv', onclick: downloadCsv }, 'Download the day as CSV');
    return h(
      'div',
      { class: 'card filters' },
      field('Day', day),
      field('Find a member of staff', find, 'By name or personnel code.'),
      h('div', { class: 'actions' }, csv),
    );
  }

  function table() {
    const heads = ['Name', 'First in', 'Last out', 'Status', admin ? 'Gates' : null, admin ? 'Contact' : null].filter(Boolean);
    return h(
      'table',
      { class: 'staff-table', 'aria-labelledby': 'staff-title' },
      h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      rows,
    );
  }

  function emptyRow() {
    const text = admin ? 'No staff yet: add them below, or import a CSV file.' : 'No staff yet: an admin adds them.';
    return h('tr', {}, h('td', { colspan: admin ? 7 : 5, class: 'empty' }, text));
  }

  // One member: who they are, their day, where the log puts them, and the buttons.
  function row(m) {
    const details = [m.personnel_code, m.department, m.position].filter(Boolean).join(' · ');
    return h(
      'tr',
      { dataset: { staff: m.id, code: m.personnel_code, find: `${m.name} ${m.personnel_code}`.toLowerCase() } },
      h('th', { scope: 'row' }, h('span', { class: 'name' }, m.name), h('span', { class: 'hint' }, details)),
      h('td', { dataset: { label: 'First in' } }, clock(m.first_in), gate(m, m.first_in)),
      h('td', { dataset: { label: 'Last out' } }, clock(m.last_out), gate(m, m.last_out)),
      h('td', { class: 'staff-status' }, status(m, state.today)),
      admin ? h('td', { class: 'gates', dataset: { label: 'Gates' } }, gatesCell(m)) : null,
      admin ? h('td', { class: 'contact' }, contact(m)) : null,
      h('td', { class: 'row-actions' }, h('div', {}, signButton(m), admin ? editButton(m) : null, admin ? gatesButton(m) : null)),
    );
  }

  /** " at a gate" after a time a gate logged (reception's are the rest). */
  function gate(m, at) {
    return at !== null && at !== undefined && state.gated.has(`${m.id}@${at}`) ? h('span', { class: 'hint' }, ' at a gate') : null;
  }

  function gatesButton(m) {
    const back = () => rows.querySelector(`tr[data-staff="${m.id}"] button.gates`);
    const open = () => gates.open(m, back).catch((e) => failed(`Could not open ${m.name}’s face recognition`, e));
    return h('button', { type: 'button', class: 'small gates', onclick: open }, 'Face recognition', h('span', { class: 'visually-hidden' }, ` of ${m.name}`));
  }

  function signButton(m) {
    if (!m.on_site && !m.active) return null;
    const way = m.on_site ? 'out' : 'in';
    return h(
      'button',
      { type: 'button', class: `small sign-${way}`, onclick: () => sign(m, way) },
      `Sign ${way}`,
      h('span', { class: 'visually-hidden' }, ` ${m.name}`),
    );
  }

  /** Signs `m` in or out by their id; the list is drawn again, the focus back on their row. */
  async function sign(m, way) {
    try {
      const entry = await api.post(`/staff/sign-${way}`, { staff: m.id });
      announce(`${entry.name} signed ${way} at ${time(entry.at)}.`);
      await load();
      const again = rows.querySelector(`tr[data-staff="${m.id}"] button`);
      if (again) again.focus();
    } catch (e) {
      failed(`Could not sign ${m.name} ${way}`, e);
    }
  }

  /** Shows only the rows whose name or code holds what is typed in the search box. */
  function filter() {
    const words = find.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of rows.querySelectorAll('tr[data-staff]')) {
      tr.hidden = words !== '' && !tr.dataset.find.includes(words);
      if (!tr.hidden) shown++;
    }
    none.hidden = shown > 0 || !state.staff.length;
    none.textContent = `No member of staff matches “${find.value.trim()}”.`;
  }

  async function downloadCsv() {
    try {
      const { blob, filename } = await api.blob(`/staff/log?day=${state.day}&format=csv`);
      download(blob, filename || `staff-${state.day}.csv`);
      announce(`Downloaded ${filename || 'the CSV file'}.`);
    } catch (e) {
      failed('Could not download the CSV', e);
    }
  }

  function editButton(m) {
    const edit = () => {
      state.editing = m;
      drawForm();
      form.querySelector('input').focus();
    };
    return h('button', { type: 'button', class: 'small edit', onclick: edit }, 'Edit', h('span', { class: 'visually-hidden' }, ` ${m.name}`));
  }

  function drawForm() {
    fill(form, ...memberForm(state.editing, saved));
  }

  async function saved() {
    state.editing = null;
    drawForm();
    await load();
  }
}

/** The admin's form: a new member, or `m`'s details to change (active unticked: made inactive). */
function memberForm(m, saved) {
  const value = (key) => (m && m[key]) || '';
  const input = (name, attrs = {}) => h('input', { name, autocomplete: 'off', value: value(name), ...attrs });
  const code = input('personnel_code', { required: true, maxlength: 32, autocapitalize: 'characters' });
  const name = input('name', { required: true, maxlength: 200 });
  const department = input('department', { maxlength: 200 });
  const position = input('position', { maxlength: 200 });
  const email = input('email', { type: 'email', autocapitalize: 'none' });
  const phone = input('phone', { type: 'tel' });
  const active = h('input', { type: 'checkbox', name: 'active', checked: m ? m.active : true });
  const body = () => ({
    personnel_code: code.value,
    name: name.value,
    department: department.value.trim() || null,
    position: position.value.trim() || null,
    email: email.value.trim() || null,
    phone: phone.value.trim() || null,
    active: active.checked,
  });
  async function submit(e) {
    e.preventDefault();
    try {
      const done = m ? await api.put(`/staff/${api.seg(m.id)}`, body()) : await api.post('/staff', body());
      announce(m ? `Saved ${done.name}.` : `${done.name} added.`);
      await saved();
    } catch (err) {
      failed(m ? `Could not save ${m.name}` : 'Could not add the member of staff', err);
    }
  }
  return [
    h('h2', { id: 'member-title' }, m ? `Change ${m.name}` : 'Add a member of staff'),
    h(
      'form',
      { class: 'grid', id: 'staff-form', onsubmit: submit },
      field('Personnel code', code, 'As the school’s HR system writes it, with no spaces.'),
      field('Name', name),
      field('Department (optional)', department),
      field('Position (optional)', position),
      field('E-mail (optional)', email, 'Shown to admins only.'),
      field('Phone (optional)', phone, 'Shown to admins only.'),
      h('label', { class: 'check' }, active, ' Active: may be signed in'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, m ? 'Save' : 'Add member of staff'),
        m ? h('button', { type: 'button', onclick: saved }, 'Cancel') : null,
      ),
    ),
  ];
}

/** A CSV file of staff, imported whole or not at all: what it did, or every bad row by line. */
function importCard(imported) {
  const file = h('input', { type: 'file', name: 'staff_file', accept: '.csv,text/csv', required: true });
  const result = h('div', { id: 'staff-import-result', 'aria-live': 'polite' });
  async function send(e) {
    e.preventDefault();
    if (!file.files.length) return;
    try {
      const done = await api.postFile('/staff/import', new Blob([file.files[0]], { type: 'text/csv' }));
      const text = `Imported: ${done.created} created, ${done.updated} updated, ${done.unchanged} unchanged.`;
      fill(result, h('p', {}, text));
      announce(text);
      e.target.reset();
      await imported();
    } catch (err) {
      const rows = (err.body && err.body.error && err.body.error.rows) || [];
      fill(result, h('p', { class: 'error' }, err.message), rows.length ? h('ul', { class: 'bad-rows' }, rows.map(badRow)) : null);
      failed('The file cannot be imported', err);
    }
  }
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'staff-import-title' },
    h('h2', { id: 'staff-import-title' }, 'Import a CSV file'),
    h('p', { class: 'hint' }, `A header, then one member a row: ${COLUMNS}. Only the first two are needed; active is yes or no (empty: yes). A known personnel code updates its member. One bad row and nothing is imported.`),
    h('form', { id: 'staff-import', onsubmit: send }, field('CSV file', file), h('button', { type: 'submit', class: 'primary' }, 'Import')),
    result,
  );
}

/** A bad row of the file: its line, or (line 0) the whole file. */
function badRow(r) {
  return h('li', {}, r.line ? `Line ${r.line}: ${r.message}` : r.message);
}

/** HH:MM on the school's clock, or a dash for none. */
function clock(ms) {
  return ms === null || ms === undefined ? '—' : time(ms);
}

/** Where the log puts `m` now: in since when (with the date when it is not `today`), out, inactive. */
function status(m, today) {
  if (m.on_site) {
    const since = dateTime(m.since);
    const [date, at] = [since.slice(0, 10), since.slice(11)];
    const text = date === today ? `On site since ${at}` : `On site: still signed in since ${shortDate(date)}, ${at}`;
    return h('span', { class: 'staff-state in' }, text);
  }
  return m.active ? h('span', { class: 'staff-state out' }, 'Out') : h('span', { class: 'staff-state inactive' }, 'Inactive');
}

/** "Tue 24 Nov" for "2026-11-24". */
function shortDate(iso) {
  return new Date(iso + 'T12:00:00').toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
}

function contact(m) {
  return [
    m.email ? h('a', { href: `mailto:${m.email}` }, m.email) : null,
    m.email && m.phone ? h('br') : null,
    m.phone ? h('a', { href: `tel:${m.phone}` }, m.phone) : null,
  ];
}
