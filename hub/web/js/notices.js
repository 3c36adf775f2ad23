// Families (#/notices or #/notices/DAY; admins and teachers): the families told of an absence
// on a day, today by default. A row per student told: each message (channel, which contact,
// whether it went and when, the error when it failed), the family's reply (reason and note)
// and what the office decided. A reply not yet decided can be accepted (the register gets
// the reason's code) or rejected with a note. Counts at the top; the day downloads as CSV.
// Teachers see the students of their classes, as the API decides.

import * as api from './api.js';
import { announce, dateTime, download, failed, field, fill, h, heading, longDate, time } from './ui.js';

/** The reasons a family can give, as the reply page offers them in English. */
const REASONS = { ill: 'Ill', medical: 'Medical or dental appointment', religious: 'Religious observance', other: 'Something else' };
const CHANNELS = { email: 'E-mail', sms: 'SMS' };
const KINDS = { absence: 'Absence notice', arrived: 'Arrived after all' };

export async function render(main, { args }) {
  const counts = h('p', { class: 'count', id: 'notices-counts', 'aria-live': 'polite' });
  const day = h('input', { type: 'date', name: 'day', id: 'notices-day', required: true });
  const csv = h('button', { type: 'button', id: 'notices-csv', onclick: downloadCsv }, 'Download as CSV');
  const list = h('div', { id: 'notices' }, h('p', { class: 'loading' }, 'Loading…'));
  const form = h(
    'form',
    { class: 'card filters', id: 'notices-filter', onsubmit: (e) => (e.preventDefault(), load()) },
    field('Day', day),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show'), csv),
  );
  main.append(heading('Families', counts), form, list);
  let shown = null; // the last answer, kept to redraw one row after a decision

  try {
    day.value = /^\d{4}-\d{2}-\d{2}$/.test(args[0] || '') ? args[0] : (await api.get('/today')).date;
  } catch (e) {
    return failed('Could not load the families told', e);
  }
  await load();

  async function load() {
    if (!day.value) return;
    try {
      shown = await api.get(`/notices?day=${encodeURIComponent(day.value)}`);
      draw();
    } catch (e) {
      fill(list, h('p', { class: 'error' }, `Could not load the families told: ${e.message}`));
      failed('Could not load the families told', e);
    }
  }

  function draw() {
    const n = shown.notices;
    const replied = n.filter((x) => x.reply).length;
    const accepted = n.filter((x) => x.decision && x.decision.state === 'accepted').length;
    counts.textContent = `${shown.told} told · ${replied} replied · ${accepted} accepted`;
    if (!n.length) {
      fill(list, h('p', { class: 'empty' }, `No family was told of an absence on ${longDate(shown.day)}.`));
      return;
    }
    fill(
      list,
      h('h2', { id: 'notices-title' }, `Told on ${longDate(shown.day)}`),
      h('ol', { class: 'notices', 'aria-labelledby': 'notices-title' }, n.map((x) => row(x, shown.day, decided))),
    );
  }

  /** Puts the hub's answer for a decided notice in place and says so. */
  function decided(notice, said) {
    shown.notices = shown.notices.map((x) => (x.student === notice.student ? notice : x));
    draw();
    announce(said);
    const outcome = list.querySelector(`li[data-student="${CSS.escape(notice.student)}"] .decision`);
    if (outcome) outcome.focus();
  }

  async function downloadCsv() {
    try {
      const { blob, filename } = await api.blob(`/notices?day=${encodeURIComponent(day.value)}&format=csv`);
      download(blob, filename || `families-${day.value}.csv`);
      announce(`Downloaded ${filename || 'the CSV file'}.`);
    } catch (e) {
      failed('Could not download the CSV', e);
    }
  }
}

/** One student told: their messages, the family's reply, and the decision or its buttons. */
function row(n, day, decided) {
  const id = 'notice-' + n.student;
  return h(
    'li',
    { class: 'card notice', dataset: { student: n.student }, 'aria-labelledby': id },
    h('h3', { id }, n.name, n.arrived_at ? h('span', { class: 'tag' }, `arrived ${time(n.arrived_at)}`) : null),
    h('ul', { class: 'plain messages', 'aria-label': `Messages about ${n.name}` }, n.messages.map(message)),
    reply(n),
    n.decision ? decision(n.decision) : n.reply ? decide(n, day, decided) : null,
  );
}

function message(m) {
  const to = `${KINDS[m.kind] || m.kind} by ${CHANNELS[m.channel] || m.channel} to ${m.guardian} (contact ${m.contact}, ${m.address})`;
  return h('li', { dataset: { status: m.status, channel: m.channel } }, to, ': ', status(m));
}

function status(m) {
  const tries = m.tries === 1 ? '1 try' : `${m.tries} tries`;
  if (m.status === 'sent') return h('span', { class: 'mark present' }, `sent ${time(m.sent_at)}`);
  if (m.status === 'failed') {
    return [h('span', { class: 'mark absent' }, `failed after ${tries}`), m.last_error ? h('span', { class: 'detail' }, ` ${m.last_error}`) : null];
  }
  return h('span', { class: 'mark waiting' }, m.tries ? `not sent yet (${tries})` : 'not sent yet');
}

function reply(n) {
  if (!n.reply) return h('p', { class: 'reply empty' }, 'No reply yet.');
  const r = n.reply;
  return h(
    'p',
    { class: 'reply' },
    h('strong', {}, `Family’s reply ${time(r.replied_at)}: ${REASONS[r.reason] || r.reason}`),
    r.note ? [h('br'), h('q', {}, r.note)] : null,
  );
}

function decision(d) {
  const word = d.state === 'accepted' ? 'Accepted' : 'Rejected';
  return h(
    'p',
    { class: 'decision ' + d.state, tabindex: -1 },
    h('span', { class: 'mark ' + (d.state === 'accepted' ? 'excused' : 'absent') }, `${word} by ${d.by}`),
    ` ${dateTime(d.at)}`,
    d.note ? [': ', d.note] : null,
  );
}

/** Accept (a note if wanted) or Reject (a note needed). */
function decide(n, day, decided) {
  const note = h('input', { name: 'note', maxlength: 500, autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  // Buttons, not a submit: Enter in the note must not accept a reason meant to be rejected.
  const accept = h('button', { type: 'button', class: 'primary accept', onclick: () => send('accept') }, 'Accept');
  const reject = h('button', { type: 'button', class: 'danger reject', onclick: () => send('reject') }, 'Reject');
  const form = h(
    'form',
    { class: 'decide', onsubmit: (e) => e.preventDefault() },
    field('Note', note, 'Optional to accept; needed to reject.'),
    error,
    h('div', { class: 'actions' }, accept, reject),
  );
  for (const b of [accept, reject]) b.setAttribute('aria-label', `${b.textContent} the reason for ${n.name}`);
  return form;

  async function send(action) {
    const text = note.value.trim();
    error.textContent = '';
    note.removeAttribute('aria-invalid');
    if (action === 'reject' && !text) {
      error.textContent = 'Say why in the note to reject the reason.';
      note.setAttribute('aria-invalid', 'true');
      return note.focus();
    }
    accept.disabled = reject.disabled = true;
    try {
      const path = `/notices/${api.seg(n.student)}/${api.seg(day)}/${action}`;
      const notice = await api.post(path, text ? { note: text } : {});
      decided(notice, `${action === 'accept' ? 'Accepted' : 'Rejected'} the reason for ${n.name}.`);
    } catch (e) {
      error.textContent = e.message;
      failed(`Could not ${action} the reason`, e);
      accept.disabled = reject.disabled = false;
    }
  }
}
