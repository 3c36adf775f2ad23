// The signed-in user's own password. Changing it ends every sign-in of theirs (this tab's
// too), so the page signs in again with the new password.

import * as api from './api.js';
import { announce, failed, field, h, heading } from './ui.js';

export async function render(main, { me }) {
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
  main.append(
    heading('My password'),
    h(
      'section',
      { class: 'card' },
      h(
        'form',
        { class: 'grid', onsubmit: submit },
        field('Current password', old),
        field('New password', fresh, 'At least 12 characters, not a common password.'),
        field('New password again', again),
        h('button', { type: 'submit', class: 'primary' }, 'Change password'),
      ),
    ),
  );
}
