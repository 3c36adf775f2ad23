// The review queue: each pending record shows the face the door unit captured beside the
// enrolment photos of its best candidates. A card's main button is what the door judged: on a
// likely match, approve it; on a face with no close match, find who it is (approving its
// nearest anyway asks first: the door was not sure). Reject ("Not in this class"), or reassign
// to a student found by name. Each review can be taken back for a few minutes from the line
// left in the card's place. Keyboard: j/k move, a approve, r reject, s search to reassign,
// l approve all likely matches. The list and the count refresh every few seconds. Below the
// queue, the people the door did not know (strangers.js), refreshed less often: grouping
// them costs the hub more than listing records. Above it, the teacher's lesson's remaining
// faces with the hub's suggestion, to confirm in one tap (lesson_suggestion.js), and above
// that the pupils missing from the teacher's lessons and their registers not taken
// (missing.js).

import * as api from './api.js';
import { announce, confirm, face, failed, fill, h, heading, poll, score, time } from './ui.js';
import * as lessonSuggestion from './lesson_suggestion.js';
import * as missing from './missing.js';
import * as queue from './queue.js';
import * as strangers from './strangers.js';

const REFRESH_MS = 4000;
const STRANGERS_REFRESH_MS = 30000;
// A lesson's suggestion costs the hub a search of the lesson's faces: looked at less often
// than the queue, and at once after a confirmation.
const LESSONS_REFRESH_MS = 15000;
// Who is missing reads the whole day's lessons: looked at once a minute, as often as the hub's
// own pass raises alerts.
const MISSING_REFRESH_MS = 60000;
// How long the line left in a reviewed card's place offers to undo it (the hub allows 10 min).
const UNDO_SHOWN_MS = 60000;

export const SHORTCUTS = [
  ['j', 'next record'],
  ['k', 'previous record'],
  ['a', 'approve as the best match'],
  ['r', 'reject (nobody from your class)'],
  ['s', 'search for another student to reassign to'],
  ['l', 'approve all likely matches'],
];

export function render(main, { me, setCount }) {
  const count = h('p', { class: 'count', id: 'queue-count', 'aria-live': 'polite' });
  const bulk = h('button', { type: 'button', id: 'approve-likely', onclick: approveLikely }, 'Approve all likely matches');
  const list = h('ol', { class: 'queue', id: 'queue', 'aria-labelledby': 'page-title' });
  const empty = h('p', { class: 'empty', id: 'queue-empty', hidden: true }, 'Nothing to review. Well done!');
  const help = h(
    'details',
    { class: 'help' },
    h('summary', {}, 'Keyboard shortcuts'),
    h('dl', { class: 'keys' }, SHORTCUTS.map(([k, what]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, what)])),
  );
  main.append(
    heading('Review queue', count),
    h(
      'p',
      { class: 'lead' },
      'The door camera was not sure about these faces. Compare each captured face with the enrolled photos, then approve, reject or pick the right student.',
    ),
  );
  const lessons = lessonSuggestion.section(() => refresh());
  const away = missing.section();
  main.append(away.el, lessons.el, h('div', { class: 'toolbar' }, bulk, help), list, empty);
  const people = strangers.section(me);
  main.append(people.el);

  const cards = new Map(); // record id -> { el, record }
  let total = 0;
  // Bumped by every refresh and every review: an answer that left the hub before the latest
  // change is dropped rather than bring back a card just reviewed.
  let seq = 0;

  function showCount() {
    count.textContent = total === 1 ? '1 record waiting' : `${total} records waiting`;
    setCount(total);
    empty.hidden = cards.size > 0;
    const likely = [...cards.values()].filter((c) => isLikely(c.record)).length;
    bulk.textContent = `Approve all likely matches (${likely})`;
    bulk.disabled = likely === 0;
  }

  async function refresh() {
    const mine = ++seq;
    const [answer, waiting] = await Promise.all([api.get('/review'), queue.waiting()]);
    if (mine !== seq) return;
    // A card decided on this phone and not yet sent is decided: an answer kept from before
    // (offline) must not bring it back.
    const held = new Set(waiting.map((e) => e.path.split('/')[2]));
    const records = answer.records.filter((r) => !held.has(r.id));
    total = answer.count - (answer.records.length - records.length);
    const ids = new Set(records.map((r) => r.id));
    for (const [id, card] of cards) {
      if (!ids.has(id) && !card.el.contains(document.activeElement)) remove(id);
    }
    let before = list.firstChild;
    for (const record of records) {
      let card = cards.get(record.id);
      if (!card) {
        card = { el: cardFor(record), record };
        cards.set(record.id, card);
        list.insertBefore(card.el, before);
      }
      before = card.el.nextSibling;
    }
    showCount();
  }

  function remove(id) {
    const card = cards.get(id);
    if (!card) return;
    card.el.remove();
    cards.delete(id);
  }

  function cardFor(record) {
    const best = record.candidates[0];
    const when = time(record.captured_at);
    const titleId = 'rec-' + record.id;
    const title = h(
      'h2',
      { id: titleId },
      `${when} · ${record.room}`,
      h('span', { class: 'tag ' + record.decision }, record.decision === 'uncertain' ? 'Likely match' : 'No close match'),
      record.clock_synchronised === false
        ? h('span', { class: 'tag clock', title: "The door unit's clock was not synchronised: this time may be wrong." }, 'Time uncertain')
        : null,
      record.liveness && record.liveness.live === false
        ? h('span', { class: 'tag spoof', title: 'The door unit judged this face not live: look at it. A photo or a phone screen held up to the door is someone marking another student present.' }, 'Possible photo or screen')
        : null,
    );
    const captured = h(
      'figure',
      { class: 'captured' },
      face(record.thumbnail_url, `Face captured at ${when} in ${record.room}`),
      h('figcaption', {}, 'Captured'),
    );
    const candidates = h(
      'ul',
      { class: 'candidates', 'aria-label': 'Best matches' },
      record.candidates.length
        ? record.candidates.map((c, i) => candidateItem(c, i === 0))
        : h('li', { class: 'none' }, 'Nobody enrolled looks close.'),
    );
    const reassignBox = h('div', { class: 'reassign', hidden: true });
    // The main button is what the door judged: approve a likely match, find who a face with no
    // close match is. Approving a face the door was not sure of asks first.
    const likely = isLikely(record);
    const approve = best
      ? h(
          'button',
          { type: 'button', class: likely ? 'primary' : '', 'data-action': 'approve', onclick: () => approveCard(record) },
          likely ? `Approve as ${best.name}` : `It is ${best.name || 'the best match'}…`,
        )
      : null;
    const reject = h('button', { type: 'button', 'data-action': 'reject', onclick: () => act(record, 'reject') }, 'Not in this class');
    const reassign = h(
      'button',
      { type: 'button', class: likely ? '' : 'primary', 'data-action': 'reassign', 'aria-expanded': 'false', onclick: () => openSearch(record, el) },
      likely ? 'Someone else…' : 'Who is this?',
    );
    const buttons = likely ? [approve, reject, reassign] : [reassign, reject, approve];
    const el = h(
      'li',
      { class: 'card record', tabindex: 0, 'aria-labelledby': titleId, dataset: { id: record.id } },
      title,
      h('div', { class: 'compare' }, captured, candidates),
      h('div', { class: 'actions' }, buttons),
      reassignBox,
    );
    return el;
  }

  /** Approves the best candidate; on a face the door was not sure of, only once asked. */
  async function approveCard(record) {
    const best = record.candidates[0];
    if (!best) return;
    if (!isLikely(record)) {
      const who = best.name || 'the best match';
      const ok = await confirm(`Mark ${who} present? The door was not sure.`, `Mark ${who} present`);
      if (!ok) return;
    }
    act(record, 'approve');
  }

  function candidateItem(c, best) {
    const name = c.name || 'A student outside your classes';
    return h(
      'li',
      { class: best ? 'candidate best' : 'candidate' },
      h(
        'div',
        { class: 'photos' },
        c.faces.length
          ? c.faces.map((f, i) => face(f.thumbnail_url, `Enrolled photo ${i + 1} of ${name}`))
          : h('span', { class: 'no-photo' }, 'no photo'),
      ),
      h('p', { class: 'name' }, name),
      h('p', { class: 'score' }, `${score(c.distance)} % alike`),
    );
  }

  async function act(record, action, body = {}, name = '') {
    const card = cards.get(record.id);
    if (!card) return;
    const buttons = card.el.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    try {
      // Decided on the card as shown: refused if someone decided it since (if_pending), and
      // kept on the phone to be sent later when the hub cannot be reached.
      const path = `/records/${api.seg(record.id)}/${action}`;
      const sent = await queue.decide('POST', path, { ...body, if_pending: true }, done(record, action, name));
      seq++;
      const next = card.el.nextElementSibling || card.el.previousElementSibling;
      const said = sent.queued
        ? `Saved on this phone, sent when the hub can be reached: ${done(record, action, name)}`
        : done(record, action, name, sent.answer && sent.answer.gallery);
      card.el.replaceWith(sent.queued ? h('li', { class: 'undo-line', dataset: { queued: record.id } }, h('span', {}, said)) : undoLine(record, said));
      cards.delete(record.id);
      total = Math.max(0, total - 1);
      showCount();
      announce(said);
      lessons.refresh().catch(() => {});
      people.refresh().catch(() => {});
      if (next && next.matches('.record')) next.focus();
      else main.querySelector('h1').focus();
    } catch (e) {
      buttons.forEach((b) => (b.disabled = false));
      failed('Could not save the review', e);
    }
  }

  /** The line left where a card was reviewed: what was done, and a way to take it back. */
  function undoLine(record, said) {
    const undo = h('button', { type: 'button', class: 'link', 'data-action': 'undo', onclick: takeBack }, 'Undo');
    const line = h('li', { class: 'undo-line', dataset: { undo: record.id } }, h('span', {}, said), undo);
    const timer = setTimeout(() => line.remove(), UNDO_SHOWN_MS);
    async function takeBack() {
      undo.disabled = true;
      try {
        await api.post(`/records/${api.seg(record.id)}/undo`, {});
        clearTimeout(timer);
        line.remove();
        announce(`Undone: the face seen at ${time(record.captured_at)} waits for a review again.`);
        seq++;
        await refresh();
        cards.get(record.id)?.el.focus();
      } catch (e) {
        undo.disabled = false;
        failed('Could not undo the review', e);
      }
    }
    return line;
  }

  function done(record, action, name, gallery) {
    const when = time(record.captured_at);
    if (action === 'approve') return `Approved: ${record.candidates[0].name || 'best match'} at ${when}.`;
    if (action === 'reject') return `Rejected the face seen at ${when}.`;
    const said = `Reassigned the face seen at ${when} to ${name}.`;
    if (!gallery) return said;
    if (gallery.added) return `${said} It is one of their photos now: the door will know them next time.`;
    return `${said} Not added to their photos: ${gallery.why}`;
  }

  function openSearch(record, el) {
    const box = el.querySelector('.reassign');
    const toggle = el.querySelector('[data-action=reassign]');
    if (!box.hidden) {
      box.querySelector('input').focus();
      return;
    }
    box.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    const input = h('input', { type: 'search', name: 'q', autocomplete: 'off', id: 'search-' + record.id });
    const results = h('ul', { class: 'results', 'aria-live': 'polite' });
    const close = h('button', { type: 'button', class: 'link', onclick: shut }, 'Cancel');
    fill(
      box,
      h('label', { for: input.id }, 'Find the student by name'),
      input,
      close,
      results,
    );
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
            ? found.slice(0, 8).map((s) =>
                h('li', {}, h('button', { type: 'button', class: 'pick', onclick: () => act(record, 'reassign', { student: s.id, add_to_gallery: true }, s.name) }, s.name)),
              )
            : h('li', {}, 'No student with that name.'),
        );
      } catch (e) {
        failed('Search failed', e);
      }
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') shut();
    });
    input.focus();
    function shut() {
      box.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      fill(box);
      toggle.focus();
    }
  }

  async function approveLikely() {
    const likely = [...cards.values()].map((c) => c.record).filter(isLikely);
    if (!likely.length) return;
    const ok = await confirm(
      `Approve ${likely.length} likely ${likely.length === 1 ? 'match' : 'matches'} as their best candidate?`,
      'Approve all',
    );
    if (!ok) return;
    for (const record of likely) await act(record, 'approve');
  }

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target.matches('input, select, textarea') || document.getElementById('confirm').open) return;
    const all = [...list.querySelectorAll('.record')];
    if (!all.length) return;
    const current = target.closest && target.closest('.record');
    const i = current ? all.indexOf(current) : -1;
    const record = current && cards.get(current.dataset.id)?.record;
    const key = e.key.toLowerCase();
    if (key === 'j') all[Math.min(i + 1, all.length - 1)].focus();
    else if (key === 'k') all[Math.max(i - 1, 0)].focus();
    else if (key === 'l') approveLikely();
    else if (!record) return;
    else if (key === 'a' && record.candidates.length) approveCard(record);
    else if (key === 'r') act(record, 'reject');
    else if (key === 's') openSearch(record, current);
    else return;
    e.preventDefault();
  }

  document.addEventListener('keydown', onKey);
  const stop = poll(REFRESH_MS, refresh);
  const stopLessons = poll(LESSONS_REFRESH_MS, lessons.refresh);
  const stopStrangers = poll(STRANGERS_REFRESH_MS, people.refresh);
  const stopMissing = poll(MISSING_REFRESH_MS, away.refresh);
  return () => {
    stop();
    stopLessons();
    stopMissing();
    stopStrangers();
    document.removeEventListener('keydown', onKey);
  };
}

/** A pending record whose best candidate is close and known to the reviewer. */
function isLikely(record) {
  return record.decision === 'uncertain' && record.candidates.length > 0 && record.candidates[0].name;
}
