// Sign in with the user name and password an admin gave you.

import * as api from './api.js';
import { field, h, heading } from './ui.js';

export function render(main, { onSignedIn }) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'page-title', onsubmit: submit },
    field('User name', username),
    field('Password', password),
    error,
    button,
  );
  main.append(heading('Sign in to Rollcall'), form);
  username.focus();

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
