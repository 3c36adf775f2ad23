// Invitations, for admins: a new teacher or admin invited to choose their own password, an
// account invited again, a class's students invited together, one student invited from their
// page, and the invitations made so far. The office sees each link too (read-only, with a
// copy button) and whether its e-mail went or why not, so that it can be given by hand.

import * as api from './api.js';
import { announce, dateTime, failed, field, fill, h, select } from './ui.js';

/** What became of each student of a class invited together. */
const OUTCOMES = {
  invited: 'Invited',
  no_address: 'Not invited: no e-mail address on their page',
  has_account: 'Not invited: has an account already',
  inactive: 'Not invited: inactive',
};

/** One link as the hub answers it (`{invitation, link}`): to copy, and whether it was e-mailed. */
export function issued({ invitation: inv, link }) {
  const input = h('input', { class: 'invitation-link', value: link, readonly: true, autocomplete: 'off', 'aria-label': `Invitation link for ${inv.display_name}` });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      announce('Link copied.');
    } catch {
      input.select();
      announce('The browser would not copy: the link is selected, copy it yourself.', 'error');
    }
  };
  return h(
    'div',
    { class: 'issued', dataset: { user: inv.user_id } },
    h('div', { class: 'copy' }, input, h('button', { type: 'button', class: 'small', onclick: copy, 'aria-label': `Copy the link for ${inv.display_name}` }, 'Copy')),
    h('p', { class: inv.sent_at ? 'hint sent' : 'hint not-sent' }, mailed(inv), ` It works once, until ${dateTime(inv.expires_at)}.`),
  );
}

function mailed(inv) {
  if (inv.sent_at) return `E-mailed to ${inv.email} at ${dateTime(inv.sent_at)}.`;
  return [h('strong', {}, 'Not e-mailed:'), ` ${inv.send_error || 'not sent yet'}.`];
}

/** "Invite someone": a teacher or admin, whose user name is their address. */
export function inviteForm(invite) {
  const display = h('input', { name: 'display_name', required: true, autocomplete: 'off', maxlength: 200 });
  const email = h('input', { name: 'email', type: 'email', required: true, autocomplete: 'off', autocapitalize: 'none' });
  const role = select('role', [['teacher', 'Teacher'], ['admin', 'Admin']], 'teacher');
  const submit = (e) => {
    e.preventDefault();
    invite({ role: role.value, display_name: display.value.trim(), email: email.value.trim() });
  };
  return h(
    'form',
    { class: 'grid', id: 'invite-form', onsubmit: submit },
    h('h3', {}, 'Invite someone'),
    field('Full name', display),
    field('E-mail', email, 'Their user name too. The link to choose a password goes there.'),
    field('Role', role),
    h('button', { type: 'submit', class: 'primary' }, 'Invite'),
  );
}

/** Every invitation made, newest first: to whom, whether it went, whether it was used. */
export function invitationList(list) {
  const state = (inv) => (inv.used_at ? `used ${dateTime(inv.used_at)}` : `open until ${dateTime(inv.expires_at)}`);
  const sent = (inv) => (inv.sent_at ? `e-mailed ${dateTime(inv.sent_at)}` : `not e-mailed (${inv.send_error || 'not sent yet'})`);
  return h(
    'details',
    { class: 'invitations', id: 'invitations' },
    h('summary', {}, `Invitations made (${list.length})`),
    list.length
      ? h(
          'ul',
          { class: 'plain' },
          list.map((inv) =>
            h(
              'li',
              { dataset: { invitation: inv.id, used: String(inv.used_at !== null) } },
              h('strong', {}, `${inv.display_name} (${inv.username})`),
              ` ${inv.role} · ${sent(inv)} · ${state(inv)}`,
            ),
          ),
        )
      : h('p', { class: 'empty' }, 'No invitation yet.'),
  );
}

/** "Invite the students of 7B": everyone with an address and no account; a row each says how it went. */
export function classInvite(c, invited) {
  const out = h('div', { class: 'class-invitations', 'aria-live': 'polite' });
  const send = async () => {
    try {
      const answer = await api.post(`/classes/${api.seg(c.id)}/invitations`, {});
      fill(out, outcomes(c, answer.students));
      announce(`${answer.invited} of the ${answer.students.length} students of ${c.name} invited.`);
      await invited();
    } catch (e) {
      failed('Could not invite the class', e);
    }
  };
  return [h('button', { type: 'button', class: 'invite-class', onclick: send }, `Invite the students of ${c.name}`), out];
}

function outcomes(c, students) {
  const row = (s) =>
    h(
      'tr',
      { dataset: { student: s.student, outcome: s.outcome } },
      h('th', { scope: 'row' }, h('a', { href: '#/students/' + encodeURIComponent(s.student) }, s.name)),
      h('td', {}, OUTCOMES[s.outcome] || s.outcome, s.invitation ? issued(s.invitation) : null),
    );
  return h(
    'div',
    { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': `Invitations of ${c.name}` },
    h(
      'table',
      { class: 'invited' },
      h('thead', {}, h('tr', {}, ['Student', 'Outcome'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, students.map(row)),
    ),
  );
}

/** "Invite to see their attendance": the student's own account, at the address the office keeps. */
export function studentInvite(s) {
  const out = h('div', { class: 'student-invitation', 'aria-live': 'polite' });
  const send = async () => {
    try {
      const answer = await api.post('/invitations', { role: 'student', student: s.id });
      fill(out, issued(answer));
      announce(`${s.name} is invited.`);
    } catch (e) {
      failed(`Could not invite ${s.name}`, e);
    }
  };
  return h(
    'div',
    { class: 'invite-student' },
    h('button', { type: 'button', id: 'invite-student', onclick: send }, 'Invite to see their attendance'),
    h('p', { class: 'hint' }, 'Their own account: their attendance, classes and timetable, nothing else. The link goes to the e-mail address above.'),
    out,
  );
}
