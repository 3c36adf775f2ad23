// Admin: user accounts (with their e-mail addresses and a test message, and invitations to
// choose a password: invitations.js), classes (teacher and members, whose students can be
// invited together), the weekly timetable, and importing the roster from the school
// information system (checked first, then imported).

import * as api from './api.js';
import { classInvite, invitationList, inviteForm, issued } from './invitations.js';
import { announce, confirm, download, failed, field, fill, h, heading, longDate, select } from './ui.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
/** What a student's or a guardian's account sees (they receive no digest). */
const FAMILY = { student: 'Sees their own attendance only.', guardian: 'Sees their own children’s attendance only.' };
const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

export async function render(main) {
  const users = h('section', { class: 'card', 'aria-labelledby': 'users-title' });
  const classes = h('section', { class: 'card', 'aria-labelledby': 'classes-title' });
  const timetable = h('section', { class: 'card wide', 'aria-labelledby': 'timetable-title' });
  const roster = rosterImport(() => load());
  main.append(heading('Admin'), h('div', { class: 'admin-cols' }, users, classes, timetable, roster, exportCard()));
  // `issued`: the last invitation made here, its link shown under its user's name.
  const state = { users: [], classes: [], students: [], slots: [], invitations: [], issued: null, editing: null, school: null };

  async function load() {
    let methods;
    [state.classes, state.students, state.slots, methods] = await Promise.all([
      api.get('/classes'),
      api.get('/students'),
      api.get('/timetable'),
      api.methods(),
      fetchUsers(),
    ]);
    state.school = methods.school_account;
    fill(users, ...usersPart());
    fill(classes, ...classesPart());
    fill(timetable, ...timetablePart());
  }

  async function fetchUsers() {
    [state.users, state.invitations] = await Promise.all([api.get('/users'), api.get('/invitations')]);
  }

  /** The users and the invitations alone (a class's students were invited: the classes stay open). */
  async function loadUsers() {
    await fetchUsers();
    fill(users, ...usersPart());
  }

  /** Makes an invitation (POST `path`); its link is shown under the user's name. */
  async function invite(path, body) {
    state.issued = null;
    await run('Invitation made: its link is under their name.', async () => {
      state.issued = await api.post(path, body);
    });
    const link = users.querySelector('.issued input');
    if (link) link.focus();
  }

  async function run(what, action) {
    try {
      await action();
      announce(what);
      await load();
    } catch (e) {
      failed('Could not save', e);
    }
  }

  function usersPart() {
    const username = h('input', { name: 'username', required: true, autocomplete: 'off', autocapitalize: 'none' });
    const display = h('input', { name: 'display_name', autocomplete: 'off' });
    const role = select('role', [['teacher', 'Teacher'], ['admin', 'Admin']], 'teacher');
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'off', autocapitalize: 'none' });
    const school = state.school;
    const password = h('input', { name: 'password', type: 'password', required: !school, autocomplete: 'new-password', minlength: 12 });
    const testEmail = async () => {
      try {
        const sent = await api.post('/email/test', {});
        announce(`Test e-mail sent to ${sent.sent_to}.`);
      } catch (e) {
        failed('Could not send the test e-mail', e);
      }
    };
    return [
      h('h2', { id: 'users-title' }, 'Users'),
      h('ul', { class: 'plain users' }, state.users.map(userRow)),
      invitationList(state.invitations),
      h('p', {},
        h('button', { type: 'button', class: 'email-test', onclick: testEmail }, 'Send me a test e-mail'),
        ' Checks the mail relay the daily digest goes through, with your own address.',
      ),
      h(
        'form',
        {
          class: 'grid',
          onsubmit: (e) => {
            e.preventDefault();
            run(`Added ${username.value}.`, () =>
              api.post('/users', { username: username.value.trim(), display_name: display.value.trim() || null, role: role.value, password: password.value || null, email: email.value.trim() || null }),
            );
          },
        },
        h('h3', {}, 'Add a user'),
        field('User name', username),
        field('Full name', display),
        field('Role', role),
        school
          ? field('E-mail', email, `Their ${school.name} address: they sign in with it. The daily digest of reviews and students at risk goes there too.`)
          : field('E-mail', email, 'Optional: where the daily digest of reviews and students at risk goes.'),
        school
          ? field('First password', password, `Optional: leave it empty and they sign in only with ${school.name}. At least 12 characters, not a common password.`)
          : field('First password', password, 'At least 12 characters, not a common password. They can sign in with it at once.'),
        h('button', { type: 'submit', class: 'primary' }, 'Add user'),
      ),
      inviteForm((body) => invite('/invitations', body)),
    ];
  }

  // One user: their name and role, and the admin's controls for them.
  function userRow(u) {
    const path = `/users/${api.seg(u.id)}`;
    const name = h('input', { name: 'display_name', value: u.display_name, required: true, autocomplete: 'off', 'aria-label': `Full name of ${u.username}` });
    // A student's or a guardian's account stays one: its role is not offered.
    const role = FAMILY[u.role] ? null : select('role', [['teacher', 'Teacher'], ['admin', 'Admin']], u.role);
    if (role) role.setAttribute('aria-label', `Role of ${u.username}`);
    const email = h('input', { name: 'email', type: 'email', value: u.email || '', placeholder: 'e-mail', autocomplete: 'off', autocapitalize: 'none', 'aria-label': `E-mail of ${u.username}` });
    const password = h('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', minlength: 12, 'aria-label': `New password for ${u.username}` });
    const save = (e) => {
      e.preventDefault();
      run(`Saved ${u.username}.`, () => api.patch(path, { display_name: name.value.trim(), role: role ? role.value : undefined, email: email.value.trim() || null }));
    };
    const toggle = () =>
      run(`${u.disabled ? 'Enabled' : 'Disabled'} ${u.username}.`, () => api.patch(path, { disabled: !u.disabled }));
    // The pastoral permission: a teacher who sees and hears of the whole school's missing pupils.
    const pastoral = u.role === 'teacher'
      ? h('label', { class: 'check inline-label' },
          h('input', { type: 'checkbox', name: 'pastoral', checked: u.pastoral, onchange: (e) => run(e.target.checked ? `${u.username} now sees the whole school's missing pupils.` : `${u.username} sees only their own lessons' missing pupils.`, () => api.patch(path, { pastoral: e.target.checked })) }),
          ' Pastoral (sees every missing pupil)')
      : null;
    const reset = () => {
      if (password.value.length < 12) return failed('Could not reset', new Error('the new password needs at least 12 characters'));
      run(`New password set for ${u.username}; their sign-ins have ended.`, () => api.post(`${path}/password`, { password: password.value }));
    };
    const remove = async () => {
      if (await confirm(`Delete ${u.username}? Their classes will have no teacher.`, 'Delete')) run(`Deleted ${u.username}.`, () => api.del(path));
    };
    return h(
      'li',
      { 'data-user': u.username },
      h('strong', {}, `${u.display_name} (${u.username}) — ${u.role}${u.disabled ? ', disabled' : ''}${u.email ? ` — ${u.email}` : ''}`),
      h('span', { class: 'hint receives' }, ' ' + receives(u)),
      h('form', { class: 'inline', onsubmit: save }, name, role, email, h('button', { type: 'submit' }, 'Save')),
      h('div', { class: 'inline' },
        h('button', { type: 'button', class: 'toggle', onclick: toggle }, u.disabled ? 'Enable' : 'Disable'),
        pastoral,
        h('label', { class: 'inline-label' }, 'New password ', password),
        h('button', { type: 'button', class: 'reset', onclick: reset }, 'Reset password'),
        h('button', { type: 'button', class: 'invite-again', onclick: () => invite(`${path}/invitation`, {}) }, 'Invite again'),
        h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete'),
      ),
      state.issued && state.issued.invitation.user_id === u.id ? issued(state.issued) : null,
    );
  }

  function classesPart() {
    const teachers = [['', 'No teacher'], ...state.users.filter((u) => u.role === 'teacher').map((u) => [u.id, u.display_name])];
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const code = h('input', { name: 'code', autocomplete: 'off', maxlength: 32 });
    const teacher = select('teacher_id', teachers, '');
    const teacherName = (id) => (state.users.find((u) => u.id === id) || {}).display_name || 'no teacher';
    return [
      h('h2', { id: 'classes-title' }, 'Classes'),
      h('ul', { class: 'plain' }, state.classes.map((c) => h('li', {}, members(c, teacherName(c.teacher_id))))),
      h(
        'form',
        {
          class: 'grid',
          onsubmit: (e) => {
            e.preventDefault();
            run(`Added class ${name.value}.`, () => api.post('/classes', { name: name.value.trim(), code: code.value.trim() || null, teacher_id: teacher.value || null }));
          },
        },
        h('h3', {}, 'Add a class'),
        field('Class name', name),
        field('Class code (optional)', code, 'The school’s code for it, as the timetable writes it: 7B/Ma2.'),
        field('Teacher', teacher),
        h('button', { type: 'submit', class: 'primary' }, 'Add class'),
      ),
    ];
  }

  function members(c, teacherName) {
    const list = h('ul', { class: 'members' }, h('li', {}, 'Loading…'));
    const pick = select('student', [['', 'Choose a student'], ...state.students.map((s) => [s.id, s.name])], '');
    const details = h(
      'details',
      { dataset: { class: c.id } },
      h('summary', {}, `${c.name}${c.code ? ` (${c.code})` : ''} — ${teacherName}`),
      list,
      classInvite(c, loadUsers),
      h(
        'form',
        {
          class: 'inline',
          onsubmit: (e) => {
            e.preventDefault();
            if (pick.value) run('Student added to the class.', () => api.put(`/classes/${api.seg(c.id)}/students/${api.seg(pick.value)}`, {}));
          },
        },
        field(`Add to ${c.name}`, pick),
        h('button', { type: 'submit' }, 'Add'),
      ),
    );
    details.addEventListener('toggle', async () => {
      if (!details.open) return;
      const people = await api.get(`/classes/${api.seg(c.id)}/students`);
      fill(
        list,
        people.length
          ? people.map((s) =>
              h(
                'li',
                {},
                s.name,
                ' ',
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small',
                    'aria-label': `Remove ${s.name} from ${c.name}`,
                    onclick: async () => {
                      if (await confirm(`Remove ${s.name} from ${c.name}?`, 'Remove')) {
                        run('Removed from the class.', () => api.del(`/classes/${api.seg(c.id)}/students/${api.seg(s.id)}`));
                      }
                    },
                  },
                  'Remove',
                ),
              ),
            )
          : h('li', {}, 'No students yet.'),
      );
    });
    return details;
  }

  // A lesson changes from a date: the weeks before keep it as it was (their registers are
  // written), so the form asks when a change or a removal takes effect.
  function timetablePart() {
    const className = (id) => (state.classes.find((c) => c.id === id) || {}).name || '?';
    const editing = state.slots.find((s) => s.id === state.editing);
    const klass = select('class_id', state.classes.map((c) => [c.id, c.name]), editing ? editing.class_id : state.classes[0] && state.classes[0].id);
    const room = h('input', { name: 'room', required: true, autocomplete: 'off', value: editing ? editing.room : '' });
    const weekday = select('weekday', DAYS.map((d, i) => [String(i + 1), d]), String(editing ? editing.weekday : 1));
    const start = h('input', { type: 'time', name: 'start', required: true, value: editing ? hhmm(editing.start_minute) : '09:00' });
    const end = h('input', { type: 'time', name: 'end', required: true, value: editing ? hhmm(editing.end_minute) : '10:00' });
    const from = h('input', { type: 'date', name: 'from' });
    const until = h('input', { type: 'date', name: 'until', value: editing && editing.valid_until ? editing.valid_until : '' });
    const slots = [...state.slots].sort((a, b) => a.weekday - b.weekday || a.start_minute - b.start_minute);
    const dates = (s) => [s.valid_from && `from ${longDate(s.valid_from)}`, s.valid_until && `until ${longDate(s.valid_until)}`].filter(Boolean).join(', ');
    const label = (s) => `${DAYS[s.weekday - 1]} ${hhmm(s.start_minute)} lesson of ${className(s.class_id)}`;
    const body = () => {
      const b = { class_id: klass.value, room: room.value.trim(), weekday: Number(weekday.value), start: start.value, end: end.value };
      if (from.value) b.from = from.value;
      if (until.value) b.until = until.value;
      return b;
    };
    const save = () =>
      editing
        ? run('Lesson changed.', async () => {
            await api.put(`/timetable/${api.seg(editing.id)}`, body());
            state.editing = null;
          })
        : run('Lesson added.', () => api.post('/timetable', body()));
    return [
      h('h2', { id: 'timetable-title' }, 'Timetable'),
      h(
        'ul',
        { class: 'plain' },
        slots.map((s) =>
          h(
            'li',
            {},
            `${DAYS[s.weekday - 1]} ${hhmm(s.start_minute)}–${hhmm(s.end_minute)} · ${className(s.class_id)} · ${s.room} `,
            dates(s) ? h('span', { class: 'hint' }, `(${dates(s)}) `) : null,
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                'aria-label': `Change the ${label(s)}`,
                onclick: () => {
                  state.editing = s.id;
                  fill(timetable, ...timetablePart());
                  room.focus();
                },
              },
              'Change',
            ),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                'aria-label': `Remove the ${label(s)}`,
                onclick: async () => {
                  const question = 'Remove this lesson from today on? Past registers keep it.';
                  if (await confirm(question, 'Remove')) run('Lesson removed.', () => api.del(`/timetable/${api.seg(s.id)}`));
                },
              },
              'Remove',
            ),
          ),
        ),
      ),
      h(
        'form',
        {
          class: 'grid',
          onsubmit: (e) => {
            e.preventDefault();
            save();
          },
        },
        h('h3', {}, editing ? `Change the ${label(editing)}` : 'Add a lesson'),
        field('Class', klass),
        field('Room', room, 'Exactly as the door unit in that room is registered'),
        field('Day', weekday),
        field('Starts', start),
        field('Ends', end),
        field(editing ? 'Takes effect from' : 'First day', from, editing ? 'Empty: today. Earlier weeks keep the lesson as it was.' : 'Empty: already running'),
        field('Last day', until, 'Empty: until changed'),
        h('button', { type: 'submit', class: 'primary' }, editing ? 'Save change' : 'Add lesson'),
        editing
          ? h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  state.editing = null;
                  fill(timetable, ...timetablePart());
                },
              },
              'Cancel',
            )
          : null,
      ),
    ];
  }


  await load();
}

/** The roster from the school information system: a file is checked (a dry run listing what
 * would change, leavers first, with a reason per row, or every bad row), then imported. An
 * import that makes more leavers than the school allows asks for the number to be confirmed;
 * terms the calendar lacks are added only when asked. */
function rosterImport(imported) {
  const format = select('format', [['csv', 'Plain CSV'], ['oneroster', 'OneRoster 1.1 or 1.2 (zip)']], 'csv');
  const file = h('input', { type: 'file', name: 'roster', accept: '.csv,.zip,text/csv,application/zip', required: true });
  const result = h('div', { id: 'roster-result', 'aria-live': 'polite' });
  const confirmLeavers = h('input', { type: 'checkbox', name: 'confirm_leavers' });
  const confirmLabel = h('label', { class: 'check', hidden: true }, confirmLeavers, h('span', {}));
  const addTerms = h('input', { type: 'checkbox', name: 'terms' });
  const termsLabel = h('label', { class: 'check', hidden: true }, addTerms, ' Add the terms the calendar lacks');
  const importButton = h('button', { type: 'button', class: 'primary', disabled: true, onclick: () => send(false) }, 'Import');
  let checked = null;
  const ready = () => {
    importButton.disabled = !checked || !checked.steps.some((s) => s.action !== 'unchanged')
      || (checked.gate.needs_confirmation && !confirmLeavers.checked);
  };
  confirmLeavers.addEventListener('change', ready);
  const reset = () => {
    checked = null;
    confirmLeavers.checked = false;
    addTerms.checked = false;
    confirmLabel.hidden = true;
    termsLabel.hidden = true;
    ready();
    fill(result);
  };
  file.addEventListener('change', reset);
  format.addEventListener('change', reset);

  async function send(dryRun) {
    if (!file.files.length) return;
    const query = new URLSearchParams({ format: format.value, dry_run: dryRun, terms: addTerms.checked });
    if (!dryRun && checked && checked.gate.needs_confirmation) query.set('confirm_leavers', checked.gate.leavers);
    try {
      const plan = await api.postFile(`/roster/import?${query}`, file.files[0]);
      fill(result, ...summary(plan));
      checked = dryRun ? plan : null;
      confirmLabel.hidden = !dryRun || !plan.gate.needs_confirmation;
      confirmLabel.lastChild.textContent = ` Yes: ${plan.gate.leavers} of the school's ${plan.gate.students} students leave the school`;
      termsLabel.hidden = !dryRun || !plan.steps.some((s) => s.kind === 'term' && s.action === 'offered');
      ready();
      if (!dryRun) {
        announce('Roster imported.');
        await imported();
      }
    } catch (e) {
      checked = null;
      ready();
      const rows = (e.body && e.body.error && e.body.error.rows) || [];
      fill(result, h('p', { class: 'error' }, e.message), rows.length ? h('ul', { class: 'bad-rows' }, rows.map((r) => h('li', {}, `${r.file} line ${r.line}: ${r.message}`))) : null);
      failed('The roster cannot be imported', e);
    }
  }

  return h(
    'section',
    { class: 'card wide', 'aria-labelledby': 'roster-title' },
    h('h2', { id: 'roster-title' }, 'Import the roster'),
    h('p', { class: 'hint' }, 'From the school information system: a plain CSV (student_id, student_name, class_id, class_name, and optionally teacher_id, teacher_username, teacher_name, teacher_email), always the whole school, or a OneRoster export (zip), whose manifest says whether each file is the whole school (bulk) or tonight\'s changes (delta). Students the school\'s system no longer has become leavers, never deleted. Check first: nothing changes until you import.'),
    h('div', { class: 'grid' }, field('Format', format), field('File', file)),
    confirmLabel,
    termsLabel,
    h('div', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => send(true) }, 'Check'), importButton),
    result,
  );
}

function summary(plan) {
  const counts = Object.entries(plan.counts).map(([kind, c]) => `${kind}s: ${Object.entries(c).map(([a, n]) => `${n} ${a}`).join(', ')}`);
  const changes = plan.steps.filter((s) => s.action !== 'unchanged');
  const coverage = Object.entries(plan.coverage).map(([part, c]) => `${part} ${c}`).join(', ');
  const gate = plan.gate;
  return [
    h('p', {}, `${plan.format} (${coverage}). ${plan.dry_run ? 'If imported:' : 'Imported:'}`),
    gate.needs_confirmation
      ? h('p', { class: 'warning', role: 'alert' }, `${gate.leavers} of the school's ${gate.students} students would become leavers: more than the ${gate.max_percent} % an import makes without confirmation. Check that this file is the whole school before you confirm.`)
      : null,
    h('ul', {}, counts.map((c) => h('li', {}, c))),
    changes.length
      ? h('div', { class: 'scroll', tabindex: 0 }, h('table', { class: 'roster-plan' },
          h('thead', {}, h('tr', {}, ['Change', 'What', 'Id', 'Name', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, changes.map((s) => h('tr', { dataset: { action: s.action } }, h('td', {}, s.action), h('td', {}, s.kind), h('td', {}, s.source_id), h('td', {}, s.name), h('td', {}, s.reason)))),
        ))
      : h('p', {}, 'Nothing to change: the hub already holds this roster.'),
  ];
}

/** The school's data in one archive (CSV and JSON): nothing locks a school in. */
function exportCard() {
  async function fetchArchive() {
    try {
      const { blob, filename } = await api.blob('/export');
      download(blob, filename || 'rollcall-export.zip');
      announce('The export is downloading.');
    } catch (e) {
      failed('Could not export', e);
    }
  }
  return h(
    'section',
    { class: 'card wide', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title' }, 'Export all the school\'s data'),
    h('p', { class: 'hint' }, 'Students, classes, timetable, the register with its amendments, door units\' records (no faces), users (no passwords) and the audit log, as CSV and JSON in one zip file. It holds personal data: keep it safe.'),
    h('button', { type: 'button', onclick: fetchArchive }, 'Download the export'),
  );
}

/** What the user receives by e-mail, as they chose it on My account (a family's account, nothing). */
function receives(u) {
  if (FAMILY[u.role]) return FAMILY[u.role];
  if (!u.email) return 'No e-mail address: no digest.';
  if (!u.digest) return 'Digest turned off by them.';
  return `Daily digest at ${u.digest_at || 'the school’s time'}.`;
}
