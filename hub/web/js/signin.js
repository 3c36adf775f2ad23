// Sign in: with the school's account when the hub has it set up (the provider's own page,
// then back here), and with the user name and password an admin gave you unless passwords
// are switched off. `error` is why a sign-in with the school's account did not happen.

import * as api from './api.js';
import { field, h, heading } from './ui.js';

export function render(main, { onSignedIn, error: why }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, why || '');
  main.append(heading('Sign in to Rollcall'));
  const shown = h('div', { class: 'signin' }, error);
  main.append(shown);
  api.methods().then(
    (methods) => offer(methods),
    () => offer({ passwords: true, school_account: null }),
  );

  function offer({ passwords, school_account: school }) {
    if (school) {
      shown.append(
        h('p', {}, h('a', { class: 'button primary', id: 'school-signin', href: school.start }, `Sign in with ${school.name}`)),
      );
    }
    if (passwords) {
      if (school) shown.append(h('p', { class: 'or' }, 'or with your Rollcall user name and password:'));
      shown.append(passwordForm());
    }
  }

  function passwordForm() {
    const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    const form = h(
      'form',
      { class: 'card signin', 'aria-labelledby': 'page-title', onsubmit: submit },
      field('User name', username),
      field('Password', password),
      button,
    );
    if (!why) queueMicrotask(() => username.focus());
    return form;

    async function submit(event) {
      event.preventDefault();
      error.textContent = '';
      button.disabled = true;
      try {
        await api.signIn(username.value.trim(), password.value);
        onSignedIn();
      } catch (e) {
        error.textContent =
          e.status === 401 ? 'Wrong user name or password.' : `Could not sign in: ${e.message}`;
        password.select();
      } finally {
        button.disabled = false;
      }
    }
  }
}
