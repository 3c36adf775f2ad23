// A register taken by tapping, as on a phone at a coach door or a classroom's: each pupil is
// one big button, present until tapped; a tap makes them absent, a second late, a third
// present again. One button then sends the lot ("All present except 2"). Used by a trip's
// register (activities.js) and a lesson's pupils the door did not see (lesson_suggestion.js).

import { MARKS, fill, h } from './ui.js';

// What a tap on a pupil makes of them.
const NEXT = { present: 'absent', absent: 'late', late: 'present' };

/**
 * The pupils' buttons: `pupils` are { student, name, mark } (a mark of absent or late is
 * shown as it is, anything else as present); `changed` runs after each tap. Answers { el,
 * named(mark) (the students tapped as `mark`), away() (how many are not present) }.
 */
export function register(pupils, label, changed, { disabled = false } = {}) {
  const marks = new Map(pupils.map((p) => [p.student, p.mark === 'absent' || p.mark === 'late' ? p.mark : 'present']));
  const button = (p) => {
    const b = h('button', { type: 'button', class: 'tap-pupil', dataset: { student: p.student }, disabled });
    const show = () => {
      const mark = marks.get(p.student);
      b.dataset.mark = mark;
      b.setAttribute('aria-pressed', String(mark !== 'present'));
      fill(b, h('span', { class: 'name' }, p.name), h('span', { class: 'mark' }, MARKS[mark]));
    };
    b.addEventListener('click', () => {
      marks.set(p.student, NEXT[marks.get(p.student)]);
      show();
      changed();
    });
    show();
    return h('li', {}, b);
  };
  return {
    el: h('ul', { class: 'plain tap-pupils', 'aria-label': label }, pupils.map(button)),
    named: (mark) => [...marks].filter(([, m]) => m === mark).map(([s]) => s),
    away: () => [...marks.values()].filter((m) => m !== 'present').length,
  };
}

/** The sending button's words. */
export const allPresentExcept = (away) => (away ? `All present except ${away}` : 'All present');
