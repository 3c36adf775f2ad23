// My account: what the signed-in user chooses for themselves (their e-mail address, the daily
// digest on or off and at what time, the class their pages open on) and their own password.
// Changing the password ends every sign-in of theirs (this tab's too), so the page signs in
// again with the new password.

import * as api from './api.js';
import { announce, failed, field, h, heading } from './ui.js';

export async function render(main, { me }) {
  const account = await api.get('/account');
  main.append(heading('My account'), choices(account, me), passwordCard(me));
}

/** E-mail, digest and default class: one form, saved together. */
function choices({ user, classes, school_digest_at: schoolAt }, me) {
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', value: user.email || '' });
  const digest = h('input', { name: 'digest', type: 'checkbox', id: 'account-digest', checked: user.digest });
  const at = h('input', { name: 'digest_at', type: 'time', value: user.digest_at || '' });
  const reminders = h('input', { name: 'register_reminders', type: 'checkbox', id: 'account-reminders', checked: user.register_reminders });
  const klass = h(
    'select',
    { name: 'default_class' },
    h('option', { value: '' }, 'No default: the first of my classes'),
    classes.map((c) => h('option', { value: c.id, selected: c.id === user.default_class }, c.name)),
  );
  const error = h('p', { class: 'error', role: 'alert' });
  const when = schoolAt
    ? `Empty: the school's time, ${schoolAt}. Sent on school days, only when something waits for you.`
    : 'This school’s Rollcall sends no e-mail yet: your admin sets it up.';
  const submit = async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      const saved = await api.patch('/account', {
        email: email.value.trim() || null,
        digest: digest.checked,
        digest_at: at.value || null,
        default_class: klass.value || null,
        register_reminders: reminders.checked,
      });
      me.email = saved.user.email;
      me.default_class = saved.user.default_class;
      announce(saved.user.digest && saved.user.email
        ? `Saved. Your digest goes to ${saved.user.email} at ${saved.user.digest_at || schoolAt || 'the school’s time'}.`
        : 'Saved. You get no daily digest.');
    } catch (e2) {
      error.textContent = e2.message;
    }
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'account-choices' },
    h('h2', { id: 'account-choices' }, 'E-mail, digest and my class'),
    h(
      'form',
      { class: 'grid', onsubmit: submit, novalidate: true },
      field('My e-mail address', email, 'Where the daily digest goes. Empty: no e-mail.'),
      h('label', { class: 'check' }, digest, ' Send me the daily digest (faces waiting for review, students at risk)'),
      field('Digest time', at, when),
      h('label', { class: 'check' }, reminders, ' E-mail me when a register of mine is not taken in time (the review page always says so)'),
      field('The class my pages open on', klass, 'The class report starts with it.'),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
    ),
  );
}

/** The user's own password, changed by giving the current one (a student's page has it too). */
export function passwordCard(me) {
  const old = h('input', { name: 'old_password', type: 'password', required: true, autocomplete: 'current-password' });
  const fresh = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: 12 });
  const again = h('input', { name: 'again', type: 'password', required: true, autocomplete: 'new-password', minlength: 12 });
  const submit = async (e) => {
    e.preventDefault();
    if (fresh.value !== again.value) return failed('Could not change the password', new Error('the new passwords differ'));
    try {
      await api.post(`/users/${api.seg(me.user_id)}/password`, { old_password: old.value, password: fresh.value });
      await api.signIn(me.username, fresh.value);
      announce('Password changed; your other sign-ins have ended.');
      for (const input of [old, fresh, again]) input.value = '';
    } catch (e2) {
      failed('Could not change the password', e2);
    }
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'account-password' },
    h('h2', { id: 'account-password' }, 'My password'),
    h(
      'form',
      { class: 'grid', onsubmit: submit },
      field('Current password', old),
      field('New password', fresh, 'At least 12 characters, not a common password.'),
      field('New password again', again),
      h('button', { type: 'submit', class: 'primary' }, 'Change password'),
    ),
  );
}
