// Missing now (#/missing, every member of staff; GET /missing): pupils in school today (seen at a
// door, or present in an earlier lesson) who are not marked in a lesson that started the
// school's minutes ago, with what put them in school; today's alerts that ended (found, with
// the time); and the registers not taken. Admins and pastoral staff see the whole school, a
// teacher their own classes' lessons. The review page shows a teacher's part of it above the
// queue (section()).

import * as api from './api.js';
import { fill, h, heading, poll, time } from './ui.js';

const REFRESH_MS = 15000;
const ENDINGS = {
  found: 'found',
  reason: 'given a reason',
  left: 'seen leaving',
  lesson_over: 'lesson ended',
  lesson_gone: 'lesson taken off the timetable',
};

export function render(main) {
  const lead = h('p', { class: 'lead' });
  const now = h('section', { class: 'card', id: 'missing-now', 'aria-labelledby': 'missing-now-title' });
  const registers = h('section', { class: 'card', id: 'not-taken', 'aria-labelledby': 'not-taken-title' });
  const ended = h('section', { class: 'card', id: 'missing-ended', 'aria-labelledby': 'missing-ended-title' });
  main.append(heading('Missing now'), lead, now, registers, ended);

  async function refresh() {
    const board = await api.get('/missing');
    lead.textContent = `${board.whole_school ? 'The whole school' : 'Your classes’ lessons'}: pupils in school today and not marked in a lesson ${board.after_minutes} minutes after it started. Refreshed every few seconds.`;
    fill(now, h('h2', { id: 'missing-now-title' }, `Missing now (${board.missing.length})`), missingList(board.missing));
    fill(registers, h('h2', { id: 'not-taken-title' }, `Registers not taken (${board.not_taken.length})`), notTakenList(board.not_taken));
    fill(ended, h('h2', { id: 'missing-ended-title' }, 'Earlier today'), endedList(board.ended));
  }
  return poll(REFRESH_MS, refresh);
}

/** The review page's part: a teacher's pupils missing now and registers not taken. */
export function section() {
  const el = h('section', { class: 'card missing-mine', id: 'missing-mine', 'aria-label': 'Missing from your lessons', hidden: true });
  async function refresh() {
    const board = await api.get('/missing');
    const missing = board.missing.filter((m) => m.mine);
    const registers = board.not_taken.filter((r) => r.mine);
    el.hidden = missing.length === 0 && registers.length === 0;
    if (el.hidden) return;
    fill(
      el,
      missing.length ? [h('h2', {}, `Missing from a lesson (${missing.length})`), missingList(missing)] : null,
      registers.length ? [h('h2', {}, 'Registers not taken'), notTakenList(registers)] : null,
    );
  }
  return { el, refresh };
}

function missingList(missing) {
  if (!missing.length) return h('p', { class: 'empty' }, 'Nobody is missing.');
  return h(
    'ul',
    { class: 'plain missing-list' },
    missing.map((m) =>
      h(
        'li',
        { dataset: { student: m.student, slot: m.slot_id } },
        h('strong', { class: 'name' }, m.name),
        ` is not in ${m.class_name} (${m.room}, from ${time(m.starts_at)})`,
        h('span', { class: 'detail' }, ` · ${m.in_school}${m.alerted_at ? ` · alert sent ${time(m.alerted_at)}` : ''}`),
      ),
    ),
  );
}

function notTakenList(registers) {
  if (!registers.length) return h('p', { class: 'empty' }, 'Every register is taken.');
  return h(
    'ul',
    { class: 'plain not-taken-list' },
    registers.map((r) => {
      const what = [r.unmarked ? `${r.unmarked} to mark` : null, r.cards ? `${r.cards} ${r.cards === 1 ? 'card' : 'cards'} to decide` : null].filter(Boolean).join(', ');
      return h('li', { dataset: { slot: r.slot_id } }, h('strong', {}, r.class_name), ` ${r.room}, from ${time(r.starts_at)}: ${what}`);
    }),
  );
}

function endedList(ended) {
  if (!ended.length) return h('p', { class: 'empty' }, 'No alert has ended today.');
  return h(
    'ul',
    { class: 'plain missing-ended-list' },
    ended.map((a) =>
      h(
        'li',
        { dataset: { student: a.student, ended: a.ended } },
        h('strong', { class: 'name' }, a.name),
        ` missing from ${a.class_name} at ${time(a.alerted_at)}: ${ENDINGS[a.ended]} at ${time(a.ended_at)}`,
      ),
    ),
  );
}
