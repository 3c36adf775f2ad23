// People the door did not know: the faces door units matched to nobody, grouped by person
// across days by the hub, one card each with its clearest crops. Three actions: enrol as a
// new student (admins), add to an existing student, or dismiss (their later faces are
// dismissed as they arrive). An action names the faces the card showed, so a face that
// joined the group since is left for the next card.

import * as api from './api.js';
import { announce, confirm, dateTime, face, failed, field, fill, h, score, select } from './ui.js';

/** The section for the review page: { el, refresh }. */
export function section(me) {
  const list = h('ol', { class: 'queue strangers', id: 'strangers', 'aria-labelledby': 'strangers-title' });
  const empty = h('p', { class: 'empty', id: 'strangers-empty', hidden: true }, 'Every face the doors saw belongs to someone enrolled.');
  const el = h(
    'section',
    { class: 'strangers-section', 'aria-labelledby': 'strangers-title' },
    h('h2', { id: 'strangers-title' }, 'People the door did not know'),
    h(
      'p',
      { class: 'lead' },
      'Faces that matched nobody, grouped by person over the last days. Enrol a new pupil, add the faces to a student whose photos are out of date, or dismiss a visitor: a dismissed person is not shown again.',
    ),
    list,
    empty,
  );
  const cards = new Map(); // stranger id -> { el, key }

  async function refresh() {
    const { strangers } = await api.get('/strangers');
    const ids = new Set(strangers.map((s) => s.id));
    for (const [id, card] of cards) {
      if (!ids.has(id) && !card.el.contains(document.activeElement)) remove(id);
    }
    let before = list.firstChild;
    for (const s of strangers) {
      const key = s.records.join(',');
      let card = cards.get(s.id);
      if (card && card.key !== key && !card.el.contains(document.activeElement)) {
        const fresh = cardFor(s);
        card.el.replaceWith(fresh);
        card = { el: fresh, key };
        cards.set(s.id, card);
      } else if (!card) {
        card = { el: cardFor(s), key };
        cards.set(s.id, card);
        list.insertBefore(card.el, before);
      }
      before = card.el.nextSibling;
    }
    empty.hidden = cards.size > 0;
  }

  function remove(id) {
    const card = cards.get(id);
    if (!card) return;
    card.el.remove();
    cards.delete(id);
    empty.hidden = cards.size > 0;
  }

  function cardFor(s) {
    const titleId = 'stranger-' + s.id;
    const times = s.size === 1 ? 'once' : `${s.size} times`;
    const days = s.days === 1 ? '1 day' : `${s.days} days`;
    const title = h('h3', { id: titleId }, `Seen ${times} on ${days}, last ${dateTime(s.last_seen)} in ${s.last_room}`);
    const crops = h(
      'div',
      { class: 'photos', role: 'group', 'aria-label': 'Faces captured' },
      s.crops.map((c) => face(c.thumbnail_url, `Face captured ${dateTime(c.captured_at)} in ${c.room}`)),
    );
    const near = s.nearest && s.nearest.name
      ? h('p', { class: 'hint' }, `Most like ${s.nearest.name} (${score(s.nearest.distance)} % alike)`)
      : null;
    const box = h('div', { class: 'reassign', hidden: true });
    const buttons = [
      me && me.role === 'admin'
        ? h('button', { type: 'button', class: 'primary', 'data-action': 'enrol', onclick: () => open(s, box, enrolForm) }, 'Enrol as new student…')
        : null,
      h('button', { type: 'button', 'data-action': 'assign', onclick: () => open(s, box, assignForm) }, 'Add to a student…'),
      h('button', { type: 'button', class: 'danger', 'data-action': 'dismiss', onclick: () => dismiss(s) }, 'Dismiss'),
    ];
    return h(
      'li',
      { class: 'card stranger', 'aria-labelledby': titleId, dataset: { id: s.id } },
      title,
      crops,
      near,
      h('div', { class: 'actions' }, buttons),
      box,
    );
  }

  function open(s, box, form) {
    box.hidden = false;
    fill(box, form(s, () => {
      box.hidden = true;
      fill(box);
    }));
    const first = box.querySelector('input, select');
    if (first) first.focus();
  }

  async function act(s, action, body, said) {
    const card = cards.get(s.id);
    const buttons = card ? card.el.querySelectorAll('button') : [];
    buttons.forEach((b) => (b.disabled = true));
    try {
      await api.post(`/strangers/${api.seg(s.id)}/${action}`, { records: s.records, ...body });
      remove(s.id);
      announce(said);
      return true;
    } catch (e) {
      buttons.forEach((b) => (b.disabled = false));
      failed('Could not save', e);
      if (e.status === 409) refresh().catch(() => {});
      return false;
    }
  }

  async function dismiss(s) {
    const ok = await confirm(`Dismiss this person (${s.size} ${s.size === 1 ? 'face' : 'faces'})? Their faces count for nobody and will not be shown again.`, 'Dismiss');
    if (ok) await act(s, 'dismiss', {}, 'Dismissed: this person will not be shown again.');
  }

  function enrolForm(s, close) {
    const name = h('input', { name: 'name', required: true, autocomplete: 'off', maxlength: 200 });
    const classes = h('span', {}, '');
    api
      .get('/classes')
      .then((all) => fill(classes, field('Class', select('class_id', [['', 'No class yet'], ...all.map((c) => [c.id, c.name])], ''))))
      .catch((e) => failed('Could not load the classes', e));
    const by = h('input', { name: 'consent_by', required: true, autocomplete: 'off', maxlength: 200 });
    const signed = h('input', { name: 'consent_signed_on', type: 'date', required: true });
    const reference = h('input', { name: 'consent_reference', required: true, autocomplete: 'off', maxlength: 200 });
    const send = async (e) => {
      e.preventDefault();
      const classId = form.querySelector('select[name=class_id]')?.value || null;
      const consent = { state: 'given', by: by.value.trim(), signed_on: signed.value, reference: reference.value.trim() };
      const body = { name: name.value.trim(), class_id: classId, consent };
      if (await act(s, 'enrol', body, `Enrolled ${body.name}, with their clearest faces as photos.`)) close();
    };
    const form = h(
      'form',
      { class: 'inline', onsubmit: send },
      field('Name of the new student', name),
      classes,
      field('Written consent given by', by, 'A face is kept only with a parent’s signed consent.'),
      field('Date on the signed form', signed),
      field('Form reference', reference),
      h('button', { type: 'submit', class: 'primary' }, 'Enrol'),
      h('button', { type: 'button', class: 'link', onclick: close }, 'Cancel'),
    );
    return form;
  }

  function assignForm(s, close) {
    const input = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
    const photos = h('input', { type: 'checkbox', name: 'add_to_gallery', checked: true });
    const results = h('ul', { class: 'results', 'aria-live': 'polite' });
    let searches = 0;
    input.addEventListener('input', async () => {
      const q = input.value.trim();
      const mine = ++searches;
      if (q.length < 1) return fill(results);
      try {
        const found = await api.get('/students?q=' + encodeURIComponent(q));
        if (mine !== searches) return;
        fill(
          results,
          found.length
            ? found.slice(0, 8).map((st) =>
                h('li', {}, h('button', { type: 'button', class: 'pick', onclick: () => pick(st) }, st.name)),
              )
            : h('li', {}, 'No student with that name.'),
        );
      } catch (e) {
        failed('Search failed', e);
      }
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') close();
    });
    async function pick(st) {
      const body = { student: st.id, add_to_gallery: photos.checked };
      if (await act(s, 'assign', body, `Added ${s.size === 1 ? 'the face' : `the ${s.size} faces`} to ${st.name}.`)) close();
    }
    return h(
      'div',
      {},
      field('Find the student by name', input),
      h('label', { class: 'check' }, photos, ' Also add the clearest faces to their photos'),
      h('button', { type: 'button', class: 'link', onclick: close }, 'Cancel'),
      results,
    );
  }

  return { el, refresh };
}
