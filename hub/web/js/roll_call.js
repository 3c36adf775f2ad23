// Roll call (#/roll-call, every signed-in user): for a fire drill or an evacuation. Before
// one starts, who would be on it now: everyone on site by today's records or today's register,
// by the lesson they are in; the staff signed in and the visitors signed in at reception, each
// in a group of their own with their own count. Start a drill (or an emergency) and the list is fixed; tick each
// student off on a phone as they reach the assembly point (every phone sees the others' ticks
// within seconds), add someone nobody expected, show only the missing, group by class or by
// room, print it, and end it. Past roll calls stay as the record of each drill
// (#/roll-call/{id}, printable too).

import * as api from './api.js';
import { announce, byWhom, confirm, dateTime, failed, field, fill, h, heading, poll, select, time } from './ui.js';

const REFRESH_MS = 3000;
const KINDS = { drill: 'Fire drill', emergency: 'Emergency' };
const students = (k) => `${k} ${k === 1 ? 'student' : 'students'}`;
const visitorsOf = (k) => `${k} ${k === 1 ? 'visitor' : 'visitors'}`;
const staffOf = (k) => `${k} staff`;

export async function render(main, { args }) {
  if (args[0]) return past(main, args[0]);
  let state = null;
  let busy = false;
  const banner = h('div', { class: 'roll-banner', 'aria-live': 'polite' });
  const list = h('div', { class: 'roll-list' });
  const groupBy = select('group', [['class_name', 'By class'], ['room', 'By room']], 'class_name');
  const missingOnly = h('input', { type: 'checkbox', name: 'missing' });
  const controls = h(
    'div',
    { class: 'roll-controls no-print' },
    field('Group', groupBy),
    h('label', { class: 'check' }, missingOnly, ' Missing only'),
    h('button', { type: 'button', onclick: () => window.print() }, 'Print'),
  );
  groupBy.addEventListener('change', draw);
  missingOnly.addEventListener('change', draw);
  const history = h('section', { class: 'card no-print', 'aria-labelledby': 'past-title' });
  // The people found by name for the roll call under way: cleared when it ends.
  const found = h('ul', { class: 'plain roll-found', id: 'roll-found' });
  main.append(heading('Roll call'), banner, controls, list, addForm(), history);

  async function refresh() {
    if (busy) return;
    state = await api.get('/roll-call');
    draw();
  }

  function draw() {
    const call = state.roll_call;
    const people = state.people;
    const visitors = state.visitors;
    const staff = state.staff;
    const accounted = people.filter((p) => p.accounted_at !== null).length;
    const visitorsHere = visitors.filter((v) => v.accounted_at !== null).length;
    const staffHere = staff.filter((m) => m.accounted_at !== null).length;
    if (call) {
      fill(
        banner,
        h('p', { class: 'roll-under-way' }, `${KINDS[call.kind]} under way since ${time(call.started_at)}, started by ${byWhom(call.started_by)}`),
        h('p', { class: 'roll-count' }, h('strong', {}, `${accounted} of ${students(people.length)} accounted for`), ` · ${people.length - accounted} missing`),
        h('p', { class: 'roll-count roll-staff-count' }, h('strong', {}, `${staffHere} of ${staffOf(staff.length)} accounted for`), ` · ${staff.length - staffHere} missing`),
        h('p', { class: 'roll-count roll-visitor-count' }, h('strong', {}, `${visitorsHere} of ${visitorsOf(visitors.length)} accounted for`), ` · ${visitors.length - visitorsHere} missing`),
        h('button', { type: 'button', class: 'danger no-print', onclick: end }, 'End roll call'),
      );
    } else {
      fill(
        banner,
        h('p', { class: 'roll-count' }, h('strong', {}, `${students(people.length)} on site now`), ' by today’s records and register'),
        h('p', { class: 'roll-count roll-staff-count' }, h('strong', {}, staffOf(staff.length)), ' signed in'),
        h('p', { class: 'roll-count roll-visitor-count' }, h('strong', {}, visitorsOf(visitors.length)), ' signed in at reception'),
        h(
          'div',
          { class: 'actions no-print' },
          h('button', { type: 'button', class: 'primary big', onclick: () => start('drill') }, 'Start a fire drill'),
          h('button', { type: 'button', class: 'danger big', onclick: () => start('emergency') }, 'Start an emergency roll call'),
        ),
      );
    }
    const missing = (list) => (missingOnly.checked ? list.filter((p) => p.accounted_at === null) : list);
    fill(list, groups(missing(people), groupBy.value, call), staffGroup(missing(staff), staff.length, call), visitorGroup(missing(visitors), visitors.length, call));
  }

  // Staff the log has in: one group, whatever the grouping of students.
  function staffGroup(shown, total, call) {
    if (!total) return null;
    const missing = shown.filter((m) => m.accounted_at === null).length;
    return h(
      'section',
      { class: 'card roll-group', dataset: { group: 'Staff' } },
      h('h2', {}, 'Staff', h('span', { class: 'detail' }, call ? ` ${missing} missing of ${total}` : ` ${total}`)),
      h('ul', { class: 'plain roll-people' }, shown.map((m) => member(m, call))),
    );
  }

  function member(m, call) {
    const detail = [m.code, m.department, m.expected ? null : 'not expected', m.accounted_at ? `here ${time(m.accounted_at)}` : null].filter(Boolean).join(' · ');
    if (!call) return h('li', { dataset: { staff: m.staff } }, h('span', { class: 'name' }, m.name), h('span', { class: 'detail' }, ` ${detail}`));
    const box = h('input', { type: 'checkbox', checked: m.accounted_at !== null, onchange: () => tickStaff(call, m, box.checked) });
    return h(
      'li',
      { dataset: { staff: m.staff, here: String(m.accounted_at !== null) } },
      h('label', { class: 'roll-person' }, box, h('span', { class: 'name' }, m.name), h('span', { class: 'detail' }, detail)),
    );
  }

  async function tickStaff(call, m, here) {
    busy = true;
    try {
      await api.put(`/roll-calls/${api.seg(call.id)}/staff/${api.seg(m.staff)}`, { here });
      announce(here ? `${m.name} is here.` : `${m.name} is not ticked off any more.`);
    } catch (e) {
      failed(`Could not tick ${m.name} off`, e);
    } finally {
      busy = false;
    }
    await refresh();
  }

  // Visitors signed in at reception: one group, whatever the grouping of students.
  function visitorGroup(shown, total, call) {
    if (!total) return null;
    const missing = shown.filter((v) => v.accounted_at === null).length;
    return h(
      'section',
      { class: 'card roll-group', dataset: { group: 'Visitors' } },
      h('h2', {}, 'Visitors', h('span', { class: 'detail' }, call ? ` ${missing} missing of ${total}` : ` ${total}`)),
      h('ul', { class: 'plain roll-people' }, shown.map((v) => visitor(v, call))),
    );
  }

  function visitor(v, call) {
    const detail = [
      v.organisation,
      `visiting ${v.visiting}`,
      `badge ${v.badge}`,
      `in since ${dateTime(v.signed_in_at)}`,
      v.expected ? null : 'not expected',
      v.accounted_at ? `here ${time(v.accounted_at)}` : null,
    ]
      .filter(Boolean)
      .join(' · ');
    if (!call) return h('li', { dataset: { visitor: v.visitor } }, h('span', { class: 'name' }, v.name), h('span', { class: 'detail' }, ` ${detail}`));
    const box = h('input', { type: 'checkbox', checked: v.accounted_at !== null, onchange: () => tickVisitor(call, v, box.checked) });
    return h(
      'li',
      { dataset: { visitor: v.visitor, here: String(v.accounted_at !== null) } },
      h('label', { class: 'roll-person' }, box, h('span', { class: 'name' }, v.name), h('span', { class: 'detail' }, detail)),
    );
  }

  async function tickVisitor(call, v, here) {
    busy = true;
    try {
      await api.put(`/roll-calls/${api.seg(call.id)}/visitors/${api.seg(v.visitor)}`, { here });
      announce(here ? `${v.name} is here.` : `${v.name} is not ticked off any more.`);
    } catch (e) {
      failed(`Could not tick ${v.name} off`, e);
    } finally {
      busy = false;
    }
    await refresh();
  }

  function groups(people, key, call) {
    if (!people.length) return h('p', { class: 'empty' }, call ? 'Everyone is accounted for.' : 'Nobody is known to be on site yet today.');
    const by = new Map();
    for (const p of people) {
      const name = p[key] || 'Not seen by a door';
      if (!by.has(name)) by.set(name, []);
      by.get(name).push(p);
    }
    return [...by.keys()].sort().map((name) => {
      const members = by.get(name).sort((a, b) => a.name.localeCompare(b.name));
      const missing = members.filter((p) => p.accounted_at === null).length;
      return h(
        'section',
        { class: 'card roll-group', dataset: { group: name } },
        h('h2', {}, name, h('span', { class: 'detail' }, call ? ` ${missing} missing of ${members.length}` : ` ${members.length}`)),
        h('ul', { class: 'plain roll-people' }, members.map((p) => person(p, call))),
      );
    });
  }

  function person(p, call) {
    const seen = p.last_seen_at ? `seen ${time(p.last_seen_at)}${p.room ? ' · ' + p.room : ''}` : 'on the register';
    const detail = [seen, p.expected ? null : 'not expected', p.accounted_at ? `here ${time(p.accounted_at)}` : null].filter(Boolean).join(' · ');
    if (!call) return h('li', { dataset: { student: p.student } }, h('span', { class: 'name' }, p.name), h('span', { class: 'detail' }, ` ${detail}`));
    const box = h('input', { type: 'checkbox', checked: p.accounted_at !== null, onchange: () => tick(call, p, box.checked) });
    return h(
      'li',
      { dataset: { student: p.student, here: String(p.accounted_at !== null) } },
      h('label', { class: 'roll-person' }, box, h('span', { class: 'name' }, p.name), h('span', { class: 'detail' }, detail)),
    );
  }

  async function tick(call, p, here) {
    if (!call) return announce(`No roll call is under way: ${p.name} was not ticked off. Start one first.`, 'error');
    busy = true;
    try {
      await api.put(`/roll-calls/${api.seg(call.id)}/people/${api.seg(p.student)}`, { here });
      announce(here ? `${p.name} is here.` : `${p.name} is not ticked off any more.`);
    } catch (e) {
      failed(`Could not tick ${p.name} off`, e);
    } finally {
      busy = false;
    }
    await refresh();
  }

  async function start(kind) {
    try {
      await api.post('/roll-calls', { kind });
      announce(`${KINDS[kind]} started: tick each student off as they arrive.`);
      await refresh();
    } catch (e) {
      failed('Could not start the roll call', e);
    }
  }

  async function end() {
    const missing = [...state.people, ...state.staff, ...state.visitors].filter((p) => p.accounted_at === null).length;
    const question = missing ? `End the roll call with ${missing} still missing? It is kept as it stands.` : 'End the roll call? Everyone is accounted for.';
    if (!(await confirm(question, 'End roll call'))) return;
    try {
      const ended = await api.post(`/roll-calls/${api.seg(state.roll_call.id)}/end`);
      fill(found);
      announce(`Roll call ended: ${ended.accounted} of ${students(ended.people)}, ${ended.staff_accounted} of ${staffOf(ended.staff)} and ${ended.visitors_accounted} of ${visitorsOf(ended.visitors)} accounted for.`);
      await refresh();
      await showHistory();
    } catch (e) {
      failed('Could not end the roll call', e);
    }
  }

  // Someone who reached the assembly point though the list did not have them.
  function addForm() {
    const name = h('input', { name: 'find', autocomplete: 'off', minlength: 2 });
    return h(
      'form',
      {
        class: 'card no-print roll-add',
        onsubmit: async (e) => {
          e.preventDefault();
          if (!state || !state.roll_call) return announce('Start a roll call first.', 'error');
          try {
            const r = await api.get(`/roll-call?find=${encodeURIComponent(name.value.trim())}`);
            fill(
              found,
              r.found.length
                ? r.found.map((s) => h('li', {}, h('button', { type: 'button', class: 'small', onclick: () => (fill(found), (name.value = ''), tick(state && state.roll_call, s, true)) }, `${s.name} is here`)))
                : h('li', { class: 'empty' }, 'Nobody of that name.'),
            );
          } catch (err) {
            failed('Could not search', err);
          }
        },
      },
      h('h2', {}, 'Someone not on the list'),
      field('Name', name, 'At least two letters'),
      h('button', { type: 'submit' }, 'Find'),
      found,
    );
  }

  async function showHistory() {
    const calls = await api.get('/roll-calls?limit=20');
    fill(
      history,
      h('h2', { id: 'past-title' }, 'Past roll calls'),
      calls.length
        ? h('ul', { class: 'plain' }, calls.map((c) => h('li', {}, h('a', { href: `#/roll-call/${c.id}` }, `${KINDS[c.kind]}, ${dateTime(c.started_at)}`), h('span', { class: 'detail' }, c.ended_at ? ` ${c.accounted} of ${students(c.people)}, ${c.staff_accounted} of ${staffOf(c.staff)}, ${c.visitors_accounted} of ${visitorsOf(c.visitors)} accounted for` : ' under way'))))
        : h('p', { class: 'empty' }, 'None yet.'),
    );
  }

  await showHistory();
  return poll(REFRESH_MS, refresh);
}

// One past roll call, as the record of the drill.
async function past(main, id) {
  main.append(h('p', { class: 'no-print' }, h('a', { href: '#/roll-call' }, '← Roll call')));
  try {
    const { roll_call: call, people, staff, visitors } = await api.get(`/roll-calls/${api.seg(id)}`);
    const staffMissing = staff.filter((m) => m.accounted_at === null);
    const missing = people.filter((p) => p.accounted_at === null);
    const visitorsMissing = visitors.filter((v) => v.accounted_at === null);
    main.append(
      heading(`${KINDS[call.kind]}, ${dateTime(call.started_at)}`, h('button', { type: 'button', class: 'no-print', onclick: () => window.print() }, 'Print')),
      h(
        'p',
        { class: 'roll-count' },
        h('strong', {}, `${call.accounted} of ${students(call.people)}, ${call.staff_accounted} of ${staffOf(call.staff)}, ${call.visitors_accounted} of ${visitorsOf(call.visitors)} accounted for`),
        ` · started by ${byWhom(call.started_by)}`,
        call.ended_at ? `, ended ${dateTime(call.ended_at)} by ${byWhom(call.ended_by)}` : ', under way',
      ),
      h(
        'table',
        { class: 'roll-record' },
        h('caption', {}, missing.length ? `${missing.length} never ticked off: ${missing.map((p) => p.name).join(', ')}` : 'Everyone was ticked off.'),
        h('thead', {}, h('tr', {}, ['Student', 'Class', 'Last seen', 'At the assembly point'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          people.map((p) =>
            h(
              'tr',
              { dataset: { student: p.student } },
              h('th', { scope: 'row' }, p.name, p.expected ? null : h('span', { class: 'tag' }, 'not expected')),
              h('td', {}, p.class_name),
              h('td', {}, p.last_seen_at ? `${time(p.last_seen_at)}${p.room ? ' · ' + p.room : ''}` : '—'),
              h('td', {}, p.accounted_at ? `${time(p.accounted_at)} (${p.accounted_by})` : h('strong', { class: 'missing' }, 'missing')),
            ),
          ),
        ),
      ),
      staff.length
        ? h(
            'table',
            { class: 'roll-record roll-staff' },
            h('caption', {}, staffMissing.length ? `Staff: ${staffMissing.length} never ticked off: ${staffMissing.map((m) => m.name).join(', ')}` : 'Staff: everyone was ticked off.'),
            h('thead', {}, h('tr', {}, ['Member of staff', 'Code', 'Department', 'At the assembly point'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              staff.map((m) =>
                h(
                  'tr',
                  { dataset: { staff: m.staff } },
                  h('th', { scope: 'row' }, m.name, m.expected ? null : h('span', { class: 'tag' }, 'not expected')),
                  h('td', {}, m.code),
                  h('td', {}, m.department || '—'),
                  h('td', {}, m.accounted_at ? `${time(m.accounted_at)} (${m.accounted_by})` : h('strong', { class: 'missing' }, 'missing')),
                ),
              ),
            ),
          )
        : null,
      visitors.length
        ? h(
            'table',
            { class: 'roll-record roll-visitors' },
            h('caption', {}, visitorsMissing.length ? `Visitors: ${visitorsMissing.length} never ticked off: ${visitorsMissing.map((v) => v.name).join(', ')}` : 'Visitors: everyone was ticked off.'),
            h('thead', {}, h('tr', {}, ['Visitor', 'Visiting', 'Badge', 'Signed in', 'At the assembly point'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              visitors.map((v) =>
                h(
                  'tr',
                  { dataset: { visitor: v.visitor } },
                  h('th', { scope: 'row' }, v.name, v.organisation ? h('span', { class: 'detail' }, ` ${v.organisation}`) : null, v.expected ? null : h('span', { class: 'tag' }, 'not expected')),
                  h('td', {}, v.visiting),
                  h('td', {}, v.badge),
                  h('td', {}, dateTime(v.signed_in_at)),
                  h('td', {}, v.accounted_at ? `${time(v.accounted_at)} (${v.accounted_by})` : h('strong', { class: 'missing' }, 'missing')),
                ),
              ),
            ),
          )
        : null,
    );
  } catch (e) {
    main.append(heading('Roll call'), h('p', { class: 'error' }, `Could not load it: ${e.message}`));
    failed('Could not load the roll call', e);
  }
}

