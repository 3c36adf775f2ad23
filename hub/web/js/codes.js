// Attendance codes (admins): the codes the register is written in, what each means and how
// it counts. Add a school's own code, change a meaning (and the mark while no entry uses the
// code), retire a code the school no longer uses (kept for the entries that have it, offered
// for no new one) or bring it back, and delete a code nobody has used. The codes the hub
// writes when a session closes (/ L C O N X LE) stay as they are.

import * as api from './api.js';
import { announce, confirm, failed, field, fill, h, heading, select } from './ui.js';

const COUNTS = [
  ['present', 'Present'],
  ['late', 'Late'],
  ['excused', 'Excused absence'],
  ['absent', 'Absent'],
  ['not_required', 'Not required to attend'],
];
const BUILT_IN = ['/', 'L', 'B', 'C', 'I', 'M', 'O', 'N', 'X', 'LE'];

export async function render(main) {
  const list = h('tbody');
  const count = h('p', { class: 'count' });

  async function refresh() {
    const codes = await api.get('/codes');
    count.textContent = `${codes.filter((c) => !c.retired).length} in use, ${codes.filter((c) => c.retired).length} retired`;
    fill(list, codes.map(row));
  }

  async function run(said, action) {
    try {
      await action();
      announce(said);
      await refresh();
    } catch (e) {
      failed('Could not change the code', e);
    }
  }

  function row(c) {
    const meaning = h('input', { name: 'meaning', value: c.meaning, required: true, maxlength: 200, 'aria-label': `Meaning of ${c.code}` });
    const mark = select('mark', COUNTS, c.mark);
    mark.setAttribute('aria-label', `How ${c.code} counts`);
    const builtIn = BUILT_IN.includes(c.code);
    const save = (e) => {
      e.preventDefault();
      run(`Saved ${c.code}.`, () => api.put('/codes', { code: c.code, meaning: meaning.value.trim(), mark: mark.value }));
    };
    const retire = () =>
      run(c.retired ? `${c.code} is offered again.` : `${c.code} retired: kept in the register, offered no more.`, () =>
        api.put('/codes', { code: c.code, meaning: c.meaning, mark: c.mark, retired: !c.retired }));
    const remove = async () => {
      if (await confirm(`Delete the code ${c.code}? Only a code no entry uses can go.`, 'Delete')) {
        run(`Deleted ${c.code}.`, () => api.del('/codes?code=' + encodeURIComponent(c.code)));
      }
    };
    return h(
      'tr',
      { dataset: { code: c.code, retired: String(c.retired) } },
      h('th', { scope: 'row' }, h('code', {}, c.code), c.retired ? h('span', { class: 'tag' }, 'retired') : null, builtIn ? h('span', { class: 'tag' }, 'the hub writes it') : null),
      h('td', {}, h('form', { class: 'inline', onsubmit: save }, meaning, mark, h('button', { type: 'submit' }, 'Save'))),
      h(
        'td',
        {},
        builtIn
          ? null
          : h(
              'div',
              { class: 'actions' },
              h('button', { type: 'button', class: 'retire', onclick: retire }, c.retired ? 'Offer again' : 'Retire'),
              h('button', { type: 'button', class: 'danger', onclick: remove, 'aria-label': `Delete ${c.code}` }, 'Delete'),
            ),
      ),
    );
  }

  const code = h('input', { name: 'code', required: true, maxlength: 4, autocomplete: 'off' });
  const meaning = h('input', { name: 'meaning', required: true, maxlength: 200, autocomplete: 'off' });
  const mark = select('mark', COUNTS, 'excused');
  const add = (e) => {
    e.preventDefault();
    run(`Added ${code.value.trim()}.`, async () => {
      await api.put('/codes', { code: code.value.trim(), meaning: meaning.value.trim(), mark: mark.value });
      code.value = '';
      meaning.value = '';
    });
  };
  main.append(
    heading('Attendance codes', count),
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Attendance codes' },
      h(
        'table',
        { class: 'codes' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Code'), h('th', { scope: 'col' }, 'Meaning and how it counts'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Retire or delete')))),
        list,
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'new-code' },
      h('h2', { id: 'new-code' }, 'A new code'),
      h('form', { class: 'grid', onsubmit: add }, field('Code (1 to 4 characters)', code), field('Meaning', meaning), field('Counts as', mark), h('button', { type: 'submit', class: 'primary' }, 'Add code')),
    ),
  );
  await refresh();
}
