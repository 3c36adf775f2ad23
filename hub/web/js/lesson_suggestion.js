// One tap for what is left of a lesson: the lesson's remaining faces beside the students not
// yet marked, each face with the student the hub suggests ("these 4 faces are probably these
// 4 children"). The teacher confirms them all in one tap, or first corrects one with its
// list (another student, or "leave it for later"). Confirming marks each face as a review of
// it would, all at once or none (GET /review/lessons, POST /sessions/{slot}/{day}/suggestion).

import * as api from './api.js';
import * as queue from './queue.js';
import { announce, face, failed, h, score, time } from './ui.js';

const LATER = '';

/** The section for the review page: { el, refresh }; `done` runs after a confirmation. */
export function section(done) {
  const el = h('section', { class: 'lessons', id: 'lessons', 'aria-label': "This lesson's faces", hidden: true });
  // The choices a teacher made, kept across refreshes: record id -> student id or LATER.
  const chosen = new Map();
  let shown = '';

  async function refresh() {
    const { lessons } = await api.get('/review/lessons');
    const offered = lessons.filter((l) => l.cards.some((c) => c.suggested));
    const key = JSON.stringify(offered.map((l) => [l.slot_id, l.cards.map((c) => c.record), l.unmarked.map((u) => u.student)]));
    if (key === shown || el.contains(document.activeElement)) return;
    shown = key;
    el.replaceChildren(...offered.map(lessonFor));
    el.hidden = offered.length === 0;
  }

  function lessonFor(lesson) {
    const id = `lesson-${lesson.slot_id}`;
    const names = new Map(lesson.unmarked.map((u) => [u.student, u.name]));
    const rows = lesson.cards.map((card) => rowFor(lesson, card, names));
    const confirm = h('button', { type: 'button', class: 'primary confirm-all', onclick: () => send(lesson, rows, confirm) });
    const summary = h('p', { class: 'lead', 'aria-live': 'polite' });
    const update = () => {
      const n = rows.filter((r) => r.select.value !== LATER).length;
      const faces = n === 1 ? '1 face is' : `${n} faces are`;
      const children = n === 1 ? 'this child' : `these ${n} children`;
      summary.textContent = `${faces} probably ${children}. Check them, correct any that is wrong, then confirm.`;
      confirm.textContent = n === 1 ? 'Confirm 1' : `Confirm all ${n}`;
      confirm.disabled = n === 0;
    };
    // A student is one face: choosing them for a face leaves any other face they had for later.
    rows.forEach((r) =>
      r.select.addEventListener('change', () => {
        const taken = r.select.value;
        for (const other of rows) {
          if (other !== r && taken !== LATER && other.select.value === taken) {
            other.select.value = LATER;
            chosen.set(other.record, LATER);
            announce(`${names.get(taken) || 'That student'} was chosen for another face: that face is left for later.`);
          }
        }
        update();
      }),
    );
    update();
    return h(
      'div',
      { class: 'lesson card', 'aria-labelledby': id },
      h('h2', { id }, `${lesson.class_name} · ${lesson.room} · ${lesson.start}–${lesson.end}`),
      summary,
      h('ol', { class: 'pairs' }, rows.map((r) => r.el)),
      h('div', { class: 'actions' }, confirm),
    );
  }

  function rowFor(lesson, card, names) {
    const when = time(card.captured_at);
    const label = `Who is the face seen at ${when}?`;
    const suggested = card.suggested?.student ?? LATER;
    const options = [
      ...lesson.unmarked.map((u) => [u.student, u.name]),
      [LATER, 'Leave for later'],
    ];
    const value = chosen.get(card.record) ?? suggested;
    const selectId = `pair-${card.record}`;
    const select = h(
      'select',
      { id: selectId, name: 'student', dataset: { record: card.record } },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
    );
    select.addEventListener('change', () => chosen.set(card.record, select.value));
    const likeness = card.suggested
      ? h('span', { class: 'hint' }, `Suggested: ${names.get(card.suggested.student) || 'a student'}, ${score(card.suggested.distance)} % alike`)
      : h('span', { class: 'hint' }, 'No suggestion: pick the student, or leave it for later');
    const el = h(
      'li',
      { class: 'pair', dataset: { record: card.record } },
      face(card.thumbnail_url, `Face captured at ${when} in ${lesson.room}`),
      h('div', { class: 'field' }, h('label', { for: selectId }, label), select, likeness),
    );
    return { el, select, record: card.record };
  }

  async function send(lesson, rows, button) {
    const pairs = rows
      .filter((r) => r.select.value !== LATER)
      .map((r) => ({ record: r.record, student: r.select.value }));
    button.disabled = true;
    try {
      const path = `/sessions/${api.seg(lesson.slot_id)}/${api.seg(lesson.day)}/suggestion`;
      const n = pairs.length;
      const sent = await queue.decide('POST', path, { pairs }, `Confirm ${n} ${n === 1 ? 'face' : 'faces'} of ${lesson.class_name || 'the lesson'}`);
      rows.forEach((r) => chosen.delete(r.record));
      if (sent.queued) {
        el.hidden = true;
        announce(`Saved on this phone: ${n} ${n === 1 ? 'student' : 'students'} marked present when the hub can be reached.`);
        return;
      }
      const { confirmed } = sent.answer;
      announce(confirmed === 1 ? '1 student marked present.' : `${confirmed} students marked present.`);
      shown = '';
      await Promise.all([refresh(), done()]);
    } catch (e) {
      button.disabled = false;
      failed('Could not confirm the faces', e);
      shown = '';
      refresh();
    }
  }

  return { el, refresh };
}
