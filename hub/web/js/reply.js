// Reply (#/reply/TOKEN, for anyone, no account): the page a family's absence notice links to.
// The token leaves the address bar at once and is kept only in memory; it goes to the hub in
// a POST body, never in a query string. The page says who is not in school and asks why:
// the school's reasons, a note (needed for "Something else"), Send, then a thank-you. A used,
// expired or unknown link shows the hub's reason and no form. Its own words are in English,
// or in Welsh for a notice in Welsh. No face, photo or record id is ever shown.

import * as api from './api.js';
import { announce, fill, h } from './ui.js';

const MAX_NOTE = 500;

/** The page's own words; the reasons' labels and the date come from the hub. */
const WORDS = {
  en: {
    title: 'Absence from school',
    loading: 'Loading…',
    headline: (r) => `${r.first_name} is not in school today, ${r.date}. Please tell ${r.school} why.`,
    why: (r) => `Why is ${r.first_name} not in school?`,
    note: 'A note for the school',
    noteOptional: `Optional, at most ${MAX_NOTE} characters.`,
    noteNeeded: (other) => `Needed for “${other}”, at most ${MAX_NOTE} characters.`,
    send: 'Send',
    noReason: 'Please choose one of the reasons.',
    needNote: 'Please tell us a little more in the box.',
    thanks: 'Thank you',
    received: (r) => `${r.school} has your reply about ${r.first_name}. You can close this page.`,
    noLink: 'This page needs the whole link from the message the school sent. Open it again from there, or call the school office.',
    unknown_reply_link: 'This link does not work. Check that you opened the whole link from the message, or call the school office.',
    reply_link_used: 'This link has been used already: the school has your reply.',
    reply_link_expired: 'This link has expired: it worked until midnight of the day it was sent. Please call the school office.',
    offline: 'The school’s server did not answer. Please try again in a moment.',
  },
  cy: {
    title: 'Absenoldeb o’r ysgol',
    loading: 'Wrthi’n llwytho…',
    headline: (r) => `Nid yw ${r.first_name} yn yr ysgol heddiw, ${r.date}. Dywedwch wrth ${r.school} pam, os gwelwch yn dda.`,
    why: (r) => `Pam nad yw ${r.first_name} yn yr ysgol?`,
    note: 'Nodyn i’r ysgol',
    noteOptional: `Dewisol, hyd at ${MAX_NOTE} nod.`,
    noteNeeded: (other) => `Mae angen nodyn ar gyfer “${other}”, hyd at ${MAX_NOTE} nod.`,
    send: 'Anfon',
    noReason: 'Dewiswch un o’r rhesymau, os gwelwch yn dda.',
    needNote: 'Dywedwch ychydig mwy wrthym yn y blwch, os gwelwch yn dda.',
    thanks: 'Diolch',
    received: (r) => `Mae eich ateb am ${r.first_name} wedi cyrraedd ${r.school}. Gallwch gau’r dudalen hon.`,
    noLink: 'Mae angen y ddolen gyfan o neges yr ysgol ar y dudalen hon. Agorwch hi eto o’r neges, neu ffoniwch swyddfa’r ysgol.',
    unknown_reply_link: 'Nid yw’r ddolen hon yn gweithio. Gwnewch yn siŵr eich bod wedi agor y ddolen gyfan o’r neges, neu ffoniwch swyddfa’r ysgol.',
    reply_link_used: 'Mae’r ddolen hon wedi cael ei defnyddio’n barod: mae eich ateb gan yr ysgol.',
    reply_link_expired: 'Mae’r ddolen hon wedi dod i ben: roedd yn gweithio tan hanner nos ar y diwrnod y cafodd ei hanfon. Ffoniwch swyddfa’r ysgol, os gwelwch yn dda.',
    offline: 'Ni atebodd gweinydd yr ysgol. Rhowch gynnig arall arni mewn munud.',
  },
};

/** Welsh for a notice in Welsh; before the look-up answers, the browser's language. */
function languageOf(tag) {
  return String(tag || '').toLowerCase().startsWith('cy') ? 'cy' : 'en';
}

export async function render(main, { args }) {
  await show(main, args && args[0]);
  // The tab's title was the family's; the next page is Rollcall's again.
  return () => (document.title = 'Rollcall');
}

async function show(main, token) {
  // Out of the address bar and the history before anything else; the link works once.
  window.history.replaceState(null, '', location.pathname + '#/reply');
  const page = h('div', { id: 'reply' });
  main.append(page);
  let lang = languageOf(navigator.language);
  draw(page, lang, h('p', { class: 'loading' }, WORDS[lang].loading));
  if (!token) return draw(page, lang, problem(WORDS[lang].noLink));
  let found;
  try {
    found = await api.postOpen('/replies/look-up', { token });
  } catch (e) {
    return draw(page, lang, problem(refusal(e, WORDS[lang])));
  }
  lang = languageOf(found.language);
  const done = (sent) => {
    draw(page, lang, thanks(WORDS[lang], { ...found, ...sent }));
    page.querySelector('h2').focus();
    announce(WORDS[lang].thanks);
  };
  draw(
    page,
    lang,
    h('p', { id: 'reply-headline', class: 'headline' }, WORDS[lang].headline(found)),
    replyForm(token, found, WORDS[lang], done),
  );
}

/** The page's heading and `children`, in `lang`. */
function draw(page, lang, ...children) {
  const words = WORDS[lang];
  page.lang = lang;
  document.title = words.title;
  fill(page, h('div', { class: 'page-head' }, h('h1', { id: 'page-title' }, words.title)), children);
}

function problem(text) {
  return h('p', { class: 'error', role: 'alert', id: 'reply-error' }, text);
}

/** Why the hub refused the link: its own message in English, the page's words in Welsh. */
function refusal(e, words) {
  if (e.status !== 404 && e.status !== 410) return words.offline;
  if (words === WORDS.en && e.body && e.body.error) return e.message;
  return words[e.code] || e.message;
}

/** The reasons as radio buttons, the note, and Send. */
function replyForm(token, found, words, done) {
  // Beside the button, where a thumb on a phone just pressed it.
  const error = problem('');
  const hint = h('span', { class: 'hint', id: 'reply-note-hint' }, words.noteOptional);
  const note = h('textarea', { name: 'note', id: 'reply-note', rows: 3, maxlength: MAX_NOTE, 'aria-describedby': 'reply-note-hint' });
  const reasons = h(
    'fieldset',
    { class: 'reasons' },
    h('legend', {}, words.why(found)),
    found.reasons.map((r) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'reason', value: r.code, onchange: chosen }), ' ', r.label)),
  );
  const button = h('button', { type: 'submit', class: 'primary' }, words.send);
  const form = h(
    'form',
    { class: 'card reply-form', id: 'reply-form', novalidate: true, onsubmit: submit },
    reasons,
    h('div', { class: 'field' }, h('label', { for: 'reply-note' }, words.note), note, hint),
    error,
    button,
  );
  return form;

  function reason() {
    const picked = form.querySelector('input[name=reason]:checked');
    return picked ? picked.value : null;
  }

  function chosen() {
    const needed = reason() === 'other';
    note.required = needed;
    hint.textContent = needed ? words.noteNeeded(otherLabel(found)) : words.noteOptional;
    note.removeAttribute('aria-invalid');
  }

  async function submit(event) {
    event.preventDefault();
    error.textContent = '';
    const picked = reason();
    if (!picked) {
      error.textContent = words.noReason;
      return form.querySelector('input[name=reason]').focus();
    }
    const text = note.value.trim();
    if (picked === 'other' && !text) {
      error.textContent = words.needNote;
      note.setAttribute('aria-invalid', 'true');
      return note.focus();
    }
    button.disabled = true;
    try {
      const body = { token, reason: picked };
      if (text) body.note = text;
      done(await api.postOpen('/replies', body));
    } catch (e) {
      if (e.status === 404 || e.status === 410) {
        form.replaceWith(problem(refusal(e, words)));
      } else {
        error.textContent = e.status === 400 ? e.message : words.offline;
      }
    } finally {
      button.disabled = false;
    }
  }
}

/** The school's label for "other", without its "(please tell us)". */
function otherLabel(found) {
  const other = found.reasons.find((r) => r.code === 'other');
  return other ? other.label.replace(/\s*\(.*\)\s*$/, '') : 'other';
}

function thanks(words, sent) {
  return h(
    'section',
    { class: 'card', id: 'reply-done', 'aria-labelledby': 'reply-done-title' },
    h('h2', { id: 'reply-done-title', tabindex: -1 }, words.thanks),
    h('p', {}, words.received(sent)),
  );
}
