// Welcome (#/welcome/TOKEN, for anyone, signed in or not): the page an invitation's link
// opens. The token leaves the address bar at once and is kept only in memory; the page says
// whose invitation it is and the user name they will sign in with, and they choose their
// password. A link that was used, has expired or was never made shows the hub's reason and
// no form.

import * as api from './api.js';
import { announce, dateTime, field, fill, h, heading } from './ui.js';

export async function render(main, { args }) {
  const token = args && args[0];
  // Out of the address bar and the history before anything else; the link works once.
  window.history.replaceState(null, '', location.pathname + '#/welcome');
  const title = heading('Welcome to Rollcall');
  const error = h('p', { class: 'error', role: 'alert', id: 'welcome-error' });
  const body = h('div', { class: 'signin', id: 'welcome' }, error);
  main.append(title, body);
  if (!token) {
    error.textContent = 'This page needs the whole link from your invitation. Open it again from the e-mail, or ask the school office for a new one.';
    return;
  }
  let invited;
  try {
    invited = await api.postOpen('/invitations/look-up', { token });
  } catch (e) {
    error.textContent = e.status === 404 || e.status === 410 ? e.message : `The hub did not answer: ${e.message}`;
    return;
  }
  fill(title.querySelector('h1'), `Welcome, ${invited.display_name}`);
  body.append(
    h('p', { class: 'lead' }, `Choose a password for Rollcall. This link works until ${dateTime(invited.expires_at)}, once.`),
    passwordForm(token, invited, error, (next) => {
      body.replaceChildren(error, next);
      next.querySelector('h2').focus();
    }),
  );
}

/** The user name they will sign in with, and the new password twice. */
function passwordForm(token, invited, error, finished) {
  const username = h('input', { name: 'username', value: invited.username, readonly: true, autocomplete: 'username' });
  const fresh = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: 12 });
  const again = h('input', { name: 'again', type: 'password', required: true, autocomplete: 'new-password', minlength: 12 });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Set my password');
  // The hub checks the rule and says what is wrong, so the browser's own checks are off.
  return h(
    'form',
    { class: 'card signin', id: 'welcome-form', 'aria-labelledby': 'page-title', novalidate: true, onsubmit: submit },
    field('Your user name', username, 'You sign in with it.'),
    field('New password', fresh, 'At least 12 characters, not a common password.'),
    field('New password again', again),
    button,
  );

  async function submit(event) {
    event.preventDefault();
    error.textContent = '';
    if (fresh.value !== again.value) {
      error.textContent = 'The two passwords differ: type the same one twice.';
      return again.select();
    }
    button.disabled = true;
    try {
      const set = await api.postOpen('/invitations/accept', { token, password: fresh.value });
      finished(done(set.username));
      announce('Your password is set.');
    } catch (e) {
      error.textContent = e.message;
      if (e.status === 404 || e.status === 410) event.target.remove();
      else fresh.select();
    } finally {
      button.disabled = false;
    }
  }
}

/** What to do next: sign in (as someone else first signs out of this tab). */
function done(username) {
  const signIn = api.signedIn()
    ? h('button', { type: 'button', class: 'primary', id: 'welcome-sign-in', onclick: switchUser }, `Sign out, then sign in as ${username}`)
    : h('a', { class: 'button primary', id: 'welcome-sign-in', href: '#/' }, 'Sign in');
  return h(
    'section',
    { class: 'card', id: 'welcome-done', 'aria-labelledby': 'welcome-done-title' },
    h('h2', { id: 'welcome-done-title', tabindex: -1 }, 'Your password is set'),
    h('p', {}, 'Sign in with the user name ', h('strong', {}, username), ' and your new password.'),
    h('p', {}, signIn),
  );
}

function switchUser() {
  window.history.replaceState(null, '', location.pathname + '#/');
  api.signOut({ end: true });
}
