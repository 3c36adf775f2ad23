// One tap for what is left of a lesson: the lesson's remaining faces beside the students not
// yet marked, each face with the student the hub suggests ("these 4 faces are probably these
// 4 children"). The teacher confirms them all in one tap, or first corrects one with its
// list (another student, or "leave it for later"). Confirming marks each face as a review of
// it would, all at once or none (GET /review/lessons, POST /sessions/{slot}/{day}/suggestion).
// Once no face is left, the pupils nobody has marked are listed to tap (taps.js): tap who is
// not there, and one button marks everyone else present (POST /sessions/{slot}/{day}/register).
// A class of 30 with 4 faces and one pupil away is 3 taps.

import * as api from './api.js';
import * as queue from './queue.js';
import * as taps from './taps.js';
import { announce, face, failed, h, score, time } from './ui.js';

const LATER = '';

/** The section for the review page: { el, refresh }; `done` runs after a confirmation. */
export function section(done) {
  const el = h('section', { class: 'lessons', id: 'lessons', 'aria-label': "This lesson's faces", hidden: true });
  // The choices a teacher made, kept across refreshes: record id -> student id or LATER.
  const chosen = new Map();
  let shown = '';

  async function refresh() {
    const [{ lessons }, waiting] = await Promise.all([api.get('/review/lessons'), queue.waiting()]);
    // A lesson whose faces or register wait on this phone is done here: an answer kept from
    // before (offline) must not bring it back.
    const held = new Set(waiting.map((e) => e.path.split('/').slice(0, 4).join('/')));
    const mine = (l) => !held.has(`/sessions/${api.seg(l.slot_id)}/${api.seg(l.day)}`);
    const offered = lessons.filter(mine).filter((l) => l.cards.some((c) => c.suggested) || (l.cards.length === 0 && l.not_marked.length > 0));
    const key = JSON.stringify(offered.map((l) => [l.slot_id, l.cards.map((c) => c.record), l.unmarked.map((u) => u.student), l.not_marked.map((u) => u.student)]));
    if (key === shown || el.contains(document.activeElement)) return;
    shown = key;
    el.replaceChildren(...offered.map(lessonFor));
    el.hidden = offered.length === 0;
  }

  function lessonFor(lesson) {
    if (lesson.cards.length === 0) return rest(lesson);
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

  /** A lesson with no face left: its pupils nobody has marked, to tap. */
  function rest(lesson) {
    const id = `lesson-${lesson.slot_id}`;
    const send = h('button', { type: 'button', class: 'primary all-present' });
    const pupils = taps.register(lesson.not_marked, `Pupils of ${lesson.class_name} not marked: tap who is not here`, () => (send.textContent = taps.allPresentExcept(pupils.away())));
    send.textContent = taps.allPresentExcept(0);
    send.addEventListener('click', async () => {
      const [absent, late] = [pupils.named('absent'), pupils.named('late')];
      const away = new Set([...absent, ...late]);
      const present = lesson.not_marked.map((p) => p.student).filter((s) => !away.has(s));
      send.disabled = true;
      try {
        const path = `/sessions/${api.seg(lesson.slot_id)}/${api.seg(lesson.day)}/register`;
        const what = `${lesson.class_name}: ${taps.allPresentExcept(absent.length + late.length)}`;
        const sent = await queue.decide('POST', path, { present, absent, late }, what);
        announce(sent.queued ? `${what}: saved on this phone.` : `${what}: the register is taken.`);
        shown = '';
        await Promise.all([refresh(), done()]);
      } catch (e) {
        send.disabled = false;
        failed('Could not take the register', e);
        shown = '';
        refresh();
      }
    });
    const n = lesson.not_marked.length;
    return h(
      'div',
      { class: 'lesson card', 'aria-labelledby': id },
      h('h2', { id }, `${lesson.class_name} · ${lesson.room} · ${lesson.start}–${lesson.end}`),
      h('p', { class: 'lead' }, `${n === 1 ? '1 pupil is' : `${n} pupils are`} not marked yet. Tap who is not here, then mark everyone else present.`),
      pupils.el,
      h('div', { class: 'actions' }, send),
    );
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
