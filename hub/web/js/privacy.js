// The school's privacy schedule, for anyone, signed in or not: what is kept of people, why,
// for how long and who can see it, as the hub's running settings make it (GET /privacy).

import * as api from './api.js';
import { h, heading } from './ui.js';

export async function render(main) {
  main.append(heading('How this school uses faces'));
  let schedule;
  try {
    schedule = await api.get('/privacy');
  } catch (e) {
    main.append(h('p', { class: 'error' }, `The hub did not answer: ${e.message}`));
    return;
  }
  main.append(
    h(
      'p',
      { class: 'lead' },
      'Rollcall takes the register from faces seen at classroom doors. This is what ',
      h('strong', {}, schedule.school),
      ' keeps, why, for how long and who can see it. It is written from the settings the school runs with, so it says what the system does today.',
    ),
    h('h2', {}, 'What is kept'),
    ...schedule.kept.map(kept),
    h('h2', {}, 'What is never kept'),
    h('ul', { class: 'card never-kept' }, ...schedule.never_kept.map((n) => h('li', {}, n))),
    h(
      'p',
      { class: 'hint' },
      'A student is recognised only with a parent’s written consent, and either may withdraw it or the student may object at any time: their faces are then deleted and their register is taken by hand. Ask the school office for a copy of what is held about your child.',
    ),
  );
}

function kept(k) {
  return h(
    'section',
    { class: 'card kept', dataset: { biometric: String(k.biometric) } },
    h('h3', {}, k.what, k.biometric ? h('span', { class: 'badge biometric' }, 'biometric') : null),
    h(
      'dl',
      {},
      h('dt', {}, 'Why'),
      h('dd', {}, k.why),
      h('dt', {}, 'For how long'),
      h('dd', {}, k.how_long),
      h('dt', {}, 'Who can see it'),
      h('dd', {}, k.who_can_see),
      h('dt', {}, 'Where'),
      h('dd', {}, k.held),
    ),
  );
}
