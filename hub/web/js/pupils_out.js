// Pupils leaving during the day, on the Reception page: sign a pupil out with a reason (a
// medical appointment, ill, collected by a named adult) and back in when they return
// (POST /sign-outs, POST /sign-outs/{id}/sign-in). Their lessons in between get the reason's
// code, the on-site list and the roll call have them as left, and they are never missing
// from a lesson. Below the form, today's: who is out now, and who came back.

import * as api from './api.js';
import { announce, failed, field, fill, h, select, time } from './ui.js';

const REASONS = [
  ['medical', 'Medical or dental appointment'],
  ['ill', 'Ill: going home'],
  ['collected', 'Collected by an adult'],
];
const SAID = { medical: 'medical appointment', ill: 'ill', collected: 'collected' };

/** The section: { el, refresh }. */
export function section() {
  const pupil = h('input', { name: 'pupil', list: 'pupils-out-names', autocomplete: 'off', required: true });
  const names = h('datalist', { id: 'pupils-out-names' });
  const reason = select('reason', REASONS, 'medical');
  const collectedBy = h('input', { name: 'collected_by', autocomplete: 'off', maxlength: 200 });
  const note = h('input', { name: 'note', autocomplete: 'off', maxlength: 200 });
  const list = h('ul', { class: 'plain pupils-out', id: 'pupils-out' });
  let students = [];

  const submit = async (e) => {
    e.preventDefault();
    const typed = pupil.value.trim().toLowerCase();
    const matching = students.filter((s) => s.name.toLowerCase() === typed);
    if (matching.length !== 1) {
      return failed('Could not sign out', new Error(matching.length ? 'several pupils have this name: type it as the list shows it' : 'choose a pupil from the list'));
    }
    try {
      const out = await api.post('/sign-outs', {
        student: matching[0].id,
        reason: reason.value,
        collected_by: collectedBy.value.trim() || null,
        note: note.value.trim() || null,
      });
      announce(`${out.name} is signed out at ${time(out.out_at)}.`);
      pupil.value = collectedBy.value = note.value = '';
      await refresh();
    } catch (err) {
      failed('Could not sign out', err);
    }
  };

  const el = h(
    'section',
    { class: 'card no-print', id: 'pupils-leaving', 'aria-labelledby': 'pupils-out-title' },
    h('h2', { id: 'pupils-out-title' }, 'Pupils leaving and coming back'),
    h(
      'form',
      { class: 'grid', id: 'pupil-sign-out', onsubmit: submit },
      field('Pupil', pupil, 'Start typing their name.'),
      names,
      field('Reason', reason),
      field('Collected by', collectedBy, 'Who collects them: needed for "Collected by an adult".'),
      field('Note', note, 'Optional: "dentist", "back after lunch".'),
      h('button', { type: 'submit', class: 'primary' }, 'Sign out'),
    ),
    list,
  );

  async function back(s) {
    try {
      await api.post(`/sign-outs/${api.seg(s.id)}/sign-in`, {});
      announce(`${s.name} is signed back in.`);
    } catch (err) {
      failed(`Could not sign ${s.name} back in`, err);
    }
    await refresh();
  }

  async function refresh() {
    const [day, pupils] = await Promise.all([api.get('/sign-outs'), students.length ? null : api.get('/students?active=true')]);
    if (pupils) {
      students = pupils;
      fill(names, pupils.map((s) => h('option', { value: s.name })));
    }
    fill(
      list,
      day.sign_outs.length
        ? day.sign_outs.map((s) =>
            h(
              'li',
              { dataset: { student: s.student, out: String(s.back_at === null) } },
              h('span', { class: 'name' }, s.name),
              h('span', { class: 'hint' }, ` ${SAID[s.reason]}${s.collected_by ? ` by ${s.collected_by}` : ''}${s.note ? ` (${s.note})` : ''} · out ${time(s.out_at)}${s.back_at ? ` · back ${time(s.back_at)}` : ''}`),
              s.back_at === null ? h('button', { type: 'button', class: 'small', 'aria-label': `Sign ${s.name} back in`, onclick: () => back(s) }, 'Signed back in') : null,
            ),
          )
        : h('li', { class: 'empty' }, 'No pupil has been signed out today.'),
    );
  }
  return { el, refresh };
}
