// Today: the signed-in teacher's sessions with a live roster. A student is Present, Late,
// Absent or Excused, waiting for review (a face that may be theirs is in the review queue),
// to be marked by hand (no consent to face recognition: the door does not know them), or not
// seen yet. A mark can be set by hand, always with a reason. Once the session's register
// is written (its entries carry attendance codes) a change is an amendment: a code and a
// reason, shown beside the original. A lesson's register can also be taken from class photos
// (class_photo.js).

import * as api from './api.js';
import * as queue from './queue.js';
import * as classPhoto from './class_photo.js';
import { MARKS, announce, failed, fill, h, heading, longDate, poll, select, time } from './ui.js';

const REFRESH_MS = 5000;

export function render(main) {
  const date = h('p', { class: 'count', id: 'today-date' });
  const saved = h('p', { class: 'saved', id: 'today-saved', 'aria-live': 'polite' });
  const sessions = h('div', { id: 'sessions' });
  main.append(heading('Today', date), saved, sessions);
  let editing = null; // "slot/student" of the open mark form
  let seq = 0; // only the latest refresh's answer is shown
  let codes = null; // the attendance codes, fetched when first needed
  const photos = new Map(); // slot → the element holding its class photos' results

  async function refresh() {
    if (editing) return;
    const mine = ++seq;
    const today = await api.get('/today');
    if (mine !== seq || editing) return;
    date.textContent = longDate(today.date);
    const byDoor = today.sessions.reduce((n, s) => n + s.by_door, 0);
    const told = today.families_told
      ? ` Families told of an absence: ${today.families_told}, ${today.families_replied} replied (the Families page).`
      : '';
    saved.textContent = (byDoor
      ? `The door marked ${byDoor} ${byDoor === 1 ? 'student' : 'students'} by itself today: ${byDoor} fewer to check.`
      : '') + told;
    fill(
      sessions,
      today.sessions.length
        ? today.sessions.map((s) => session(s, today.date))
        : h('p', { class: 'empty' }, 'You have no lessons today.'),
    );
  }

  function session({ session: s, rows, pending, by_door: byDoor }, day) {
    const id = 'session-' + s.slot_id;
    const counts = {};
    for (const row of rows) counts[status(row).key] = (counts[status(row).key] || 0) + 1;
    const summary = ['present', 'late', 'absent', 'excused', 'not_required', 'waiting', 'by_hand', 'unseen']
      .filter((k) => counts[k])
      .map((k) => h('li', { class: 'pill ' + k }, `${LABELS[k]} ${counts[k]}`));
    return h(
      'section',
      { class: 'card session', 'aria-labelledby': id, dataset: { slot: s.slot_id } },
      h('h2', { id }, `${s.class_name} · ${s.room} · ${s.start}–${s.end}`, h('span', { class: 'tag' }, s.locked ? 'register closed' : s.closed ? 'ended' : 'open')),
      h('ul', { class: 'summary', 'aria-label': 'Totals' }, summary),
      byDoor ? h('p', { class: 'hint' }, `${byDoor} of ${rows.length} marked by the door without anyone checking.`) : null,
      pending
        ? h('p', {}, h('a', { href: '#/review' }, `${pending} ${pending === 1 ? 'face' : 'faces'} waiting for review`))
        : null,
      s.locked ? null : classPhoto.controls(s, day, results(s.slot_id), refresh),
      photos.get(s.slot_id) || null,
      h(
        'table',
        { class: 'roster' },
        h('caption', { class: 'visually-hidden' }, `Roster of ${s.class_name}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Student'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Change')))),
        h('tbody', {}, rows.map((row) => line(s, day, row))),
      ),
    );
  }

  function results(slot) {
    if (!photos.has(slot)) photos.set(slot, h('div', { class: 'photo-results' }));
    return photos.get(slot);
  }

  function line(s, day, row) {
    const st = status(row);
    const detail = [
      row.code ? `code ${row.code}` : null,
      row.amendments && row.amendments.length ? amended(row) : null,
      row.first_seen_at ? `seen ${time(row.first_seen_at)}` : null,
      row.left_at ? `left ${time(row.left_at)}` : null,
      row.reason ? `“${row.reason}”` : null,
    ].filter(Boolean);
    const change = s.locked
      ? h('button', { type: 'button', class: 'small', onclick: () => amend(tr, s, day, row), 'aria-label': `Amend the entry of ${row.name}` }, 'Amend')
      : h('button', { type: 'button', class: 'small', onclick: () => edit(tr, s, day, row), 'aria-label': `Change mark of ${row.name}` }, 'Change');
    const tr = h(
      'tr',
      { dataset: { student: row.student, status: st.key } },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: '#/history/' + encodeURIComponent(row.student), title: `Attendance history of ${row.name}` }, row.name),
        row.register_by_hand ? h('span', { class: 'tag by-hand', title: 'No consent to face recognition: the door does not know this student. Mark them yourself.' }, 'register by hand') : null,
      ),
      h('td', {}, h('span', { class: 'mark ' + st.key }, st.label), detail.length ? h('span', { class: 'detail' }, ' ' + detail.join(' · ')) : null),
      h('td', {}, change),
    );
    return tr;
  }

  // A closed entry: pick a code, give a reason; the original and every amendment stay.
  async function amend(tr, s, day, row) {
    if (editing) return;
    editing = `${s.slot_id}/${row.student}`;
    try {
      codes = codes || (await api.get('/codes'));
    } catch (e) {
      editing = null;
      return failed('Could not load the attendance codes', e);
    }
    // Retired codes are offered no more (the entry's own stays shown).
    const offered = codes.filter((c) => !c.retired || c.code === row.code);
    const code = select('code', offered.map((c) => [c.code, `${c.code} · ${c.meaning}`]), row.code || 'N');
    const reason = h('input', { name: 'reason', required: true, maxlength: 1000 });
    code.id = 'code-' + row.student;
    reason.id = 'reason-' + row.student;
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      { class: 'mark-form', onsubmit: save, novalidate: true },
      h('div', { class: 'field' }, h('label', { for: code.id }, `Code for ${row.name}`), code),
      h('div', { class: 'field' }, h('label', { for: reason.id }, 'Reason for the amendment (required)'), reason),
      error,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Save amendment'),
        h('button', { type: 'button', class: 'link', onclick: close }, 'Cancel'),
      ),
    );
    tr.after(h('tr', { class: 'editing' }, h('td', { colspan: 3 }, form)));
    code.focus();

    async function save(event) {
      event.preventDefault();
      if (!reason.value.trim()) {
        error.textContent = 'Please give a reason for the amendment.';
        reason.setAttribute('aria-invalid', 'true');
        reason.focus();
        return;
      }
      try {
        const path = `/sessions/${api.seg(s.slot_id)}/${api.seg(day)}/amendments/${api.seg(row.student)}`;
        await api.post(path, { code: code.value, reason: reason.value.trim() });
        announce(`${row.name}: amended to ${code.value}.`);
        await close();
      } catch (e) {
        error.textContent = e.message;
      }
    }
    async function close() {
      editing = null;
      await refresh();
      const again = sessions.querySelector(`[data-slot="${s.slot_id}"] tr[data-student="${row.student}"] button`);
      if (again) again.focus();
    }
  }

  function edit(tr, s, day, row) {
    if (editing) return;
    editing = `${s.slot_id}/${row.student}`;
    const mark = select('mark', Object.entries(MARKS), row.mark || 'present');
    const reason = h('input', { name: 'reason', required: true, value: row.source === 'override' ? row.reason || '' : '' });
    mark.id = 'mark-' + row.student;
    reason.id = 'reason-' + row.student;
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      { class: 'mark-form', onsubmit: save, novalidate: true },
      h('div', { class: 'field' }, h('label', { for: mark.id }, `Mark for ${row.name}`), mark),
      h('div', { class: 'field' }, h('label', { for: reason.id }, 'Reason (required)'), reason),
      error,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Save mark'),
        row.source === 'override' ? h('button', { type: 'button', onclick: clear }, 'Remove override') : null,
        h('button', { type: 'button', class: 'link', onclick: cancel }, 'Cancel'),
      ),
    );
    const cell = h('td', { colspan: 3 }, form);
    const editRow = h('tr', { class: 'editing' }, cell);
    tr.after(editRow);
    mark.focus();
    const path = `/sessions/${api.seg(s.slot_id)}/${api.seg(day)}/marks/${api.seg(row.student)}`;

    async function save(event) {
      event.preventDefault();
      if (!reason.value.trim()) {
        error.textContent = 'Please give a reason for the change.';
        reason.setAttribute('aria-invalid', 'true');
        reason.focus();
        return;
      }
      try {
        const sent = await queue.decide('PUT', path, { mark: mark.value, reason: reason.value.trim() }, `${row.name}: ${MARKS[mark.value]}`);
        announce(sent.queued ? `${row.name}: ${MARKS[mark.value]}, saved on this phone.` : `${row.name}: ${MARKS[mark.value]}.`);
        await close();
      } catch (e) {
        error.textContent = e.message;
      }
    }
    async function clear() {
      try {
        const sent = await queue.decide('DELETE', path, undefined, `${row.name}: override removed`);
        announce(sent.queued ? `${row.name}: override removed, saved on this phone.` : `${row.name}: override removed.`);
        await close();
      } catch (e) {
        failed('Could not remove the override', e);
      }
    }
    async function cancel() {
      await close();
    }
    async function close() {
      editing = null;
      await refresh();
      const again = sessions.querySelector(`[data-slot="${s.slot_id}"] tr[data-student="${row.student}"] button`);
      if (again) again.focus();
    }
  }

  return poll(REFRESH_MS, refresh);
}

const LABELS = {
  present: 'Present',
  late: 'Late',
  absent: 'Absent',
  excused: 'Excused',
  not_required: 'Not required',
  waiting: 'Waiting for review',
  by_hand: 'Mark by hand',
  unseen: 'Not seen yet',
};

/** "amended from N by Tess Teacher (teacher)". */
function amended(row) {
  const last = row.amendments[row.amendments.length - 1];
  return `amended from ${row.original_code} by ${last.by_name} (${last.by_role})`;
}

function status(row) {
  const key = row.mark ? row.mark : row.waiting ? 'waiting' : row.register_by_hand ? 'by_hand' : 'unseen';
  return { key, label: LABELS[key] };
}
