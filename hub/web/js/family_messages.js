// Messages to families (#/family-messages, admins): the words of the absence notice and of
// "arrived after all" in each language in force. English and Welsh are built in; other
// languages are the school's. #/family-messages/KIND/LANGUAGE opens one in the editor: the
// subject, the e-mail and the SMS, with the placeholders the message may use. Preview shows the
// draft as a family would read it today; Save stores it after the hub checks it, and shows the
// hub's reason when it refuses. "Back to the built-in words" deletes the school's own; a
// language the school added can be given up. "Add a language" opens the editor with the
// English words to translate.

import * as api from './api.js';
import { announce, byWhom, confirm, dateTime, failed, fill, field, h, heading, select } from './ui.js';

const KINDS = {
  absence: { name: 'Absence notice', the: 'the absence notice', about: 'Sent in the morning when a child is not in school and nobody has said why.' },
  arrived: { name: 'Arrived after all', the: 'the “arrived after all” message', about: 'Sent when a child whose family was told of an absence is marked in school later.' },
};

/** What each placeholder becomes, in plain words. */
const PLACEHOLDERS = {
  school: "the school's name",
  first_name: "the child's first name",
  date: 'the day, written out (in Welsh in a Welsh message, in English in any other)',
  reply_link: 'the link where the family gives the reason (the e-mail and the SMS must have it)',
  time: 'the time the child arrived, such as 09:42',
};

/** A language tag as the hub takes it: pl, cy, pt-BR. */
const TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
const LIST = '#/family-messages';

export async function render(main, { args }) {
  let catalogue;
  try {
    catalogue = await api.get('/family-messages');
  } catch (e) {
    main.append(heading('Messages to families'), h('p', { class: 'error' }, `Could not load the messages: ${e.message}`));
    return failed('Could not load the messages', e);
  }
  const [kind, tag] = args;
  if (!kind) return list(main, catalogue);
  const language = normalised(tag || '');
  if (!catalogue.placeholders[kind] || !TAG.test(language)) {
    main.append(back(), heading('Messages to families'), h('p', { class: 'error' }, `There is no message “${kind}” in “${tag || ''}”.`));
    return;
  }
  editor(main, catalogue, kind, language);
}

/** "pl", "pt-BR": the language in lower case, as the hub keeps it. */
function normalised(tag) {
  const [first, ...rest] = tag.trim().split('-');
  return [first.toLowerCase(), ...rest].join('-');
}

/** "Welsh (cy)" for "cy"; the tag alone where the browser knows no name for it. */
function languageName(tag) {
  try {
    const name = new Intl.DisplayNames(['en-GB'], { type: 'language' }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

function inForce(catalogue, kind, language) {
  return catalogue.templates.find((t) => t.kind === kind && t.language === language) || null;
}

function back() {
  return h('a', { href: LIST, class: 'back', id: 'fm-back' }, '← All messages to families');
}

/** Who saved the words and when: "admin 2026-11-23 09:05". */
function saved(t) {
  return `${byWhom(t.updated_by)} ${dateTime(t.updated_at)}`;
}

/** Every message in force, a section per kind, and the form adding a language. */
function list(main, catalogue) {
  const own = catalogue.templates.filter((t) => t.edited).length;
  const count = `${catalogue.templates.length} in force · ${own} in the school's own words`;
  main.append(
    heading('Messages to families', h('p', { class: 'count', id: 'fm-count' }, count)),
    h(
      'p',
      { class: 'lead' },
      "Each family is written to in their contact's preferred language, or in English when the school has no words in it. " +
        'English and Welsh are built in.',
    ),
    ...Object.keys(KINDS).map((kind) => kindSection(kind, catalogue.templates.filter((t) => t.kind === kind))),
    addLanguage(),
  );
}

function kindSection(kind, templates) {
  const id = `fm-${kind}`;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, KINDS[kind].name),
    h('p', { class: 'hint' }, KINDS[kind].about),
    h('ul', { class: 'fm-list', 'aria-labelledby': id }, templates.map(entry)),
  );
}

function entry(t) {
  return h(
    'li',
    { dataset: { kind: t.kind, language: t.language, edited: String(t.edited) } },
    h('a', { href: `${LIST}/${t.kind}/${api.seg(t.language)}` }, languageName(t.language), h('span', { class: 'visually-hidden' }, `: ${KINDS[t.kind].name}`)),
    h('span', { class: t.edited ? 'tag own' : 'tag' }, t.edited ? "the school's own words" : 'built-in words'),
    t.edited ? h('span', { class: 'detail' }, `saved by ${saved(t)}`) : null,
    h('span', { class: 'detail fm-subject' }, t.subject),
  );
}

/** A language tag and a kind: opens the editor, on the English words for a new language. */
function addLanguage() {
  const error = h('p', { class: 'error', id: 'fm-add-error', role: 'alert' });
  const tag = h('input', { name: 'language', id: 'fm-language', required: true, maxlength: 35, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const kind = select('kind', Object.entries(KINDS).map(([k, v]) => [k, v.name]), 'absence');
  kind.id = 'fm-kind';
  const open = (e) => {
    e.preventDefault();
    const language = normalised(tag.value);
    if (!TAG.test(language)) {
      error.textContent = 'Give a language tag, such as pl, ur or pt-BR.';
      tag.setAttribute('aria-invalid', 'true');
      return tag.focus();
    }
    location.hash = `${LIST}/${kind.value}/${api.seg(language)}`;
  };
  const hint = 'Such as pl (Polish), ur (Urdu) or pt-BR (Brazilian Portuguese).';
  const form = h('form', { class: 'grid', id: 'fm-add-form', novalidate: true, onsubmit: open }, field('Language tag', tag, hint), field('Message', kind), h('button', { type: 'submit', class: 'primary' }, 'Write the words'));
  tag.setAttribute('aria-describedby', `${tag.id}-hint fm-add-error`);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'fm-add' },
    h('h2', { id: 'fm-add' }, 'Add a language'),
    h('p', { class: 'hint' }, 'The editor opens with the English words to translate. Families are written to in the new language once it is saved.'),
    form,
    error,
  );
}

/** The editor of `kind` in `language`: its fields, the placeholders, Preview, Save and reset. */
function editor(main, catalogue, kind, language) {
  const ed = {
    path: `/family-messages/${kind}/${api.seg(language)}`,
    kind,
    language,
    what: `${KINDS[kind].the} in ${languageName(language)}`,
    current: inForce(catalogue, kind, language),
    fields: {
      subject: h('input', { name: 'subject', id: 'fm-subject', required: true, autocomplete: 'off' }),
      email: h('textarea', { name: 'email', id: 'fm-email', rows: 12, required: true }),
      sms: h('textarea', { name: 'sms', id: 'fm-sms', rows: 4, required: true }),
    },
    state: h('p', { id: 'fm-state' }),
    error: h('p', { class: 'error', id: 'fm-error', role: 'alert' }),
    preview: h('section', { id: 'fm-preview', class: 'fm-preview', 'aria-labelledby': 'fm-preview-title', hidden: true }),
  };
  ed.reset = h('button', { type: 'button', class: 'danger', id: 'fm-reset', onclick: () => resetWords(ed) }, 'Back to the built-in words');
  ed.remove = h('button', { type: 'button', class: 'danger', id: 'fm-remove', onclick: () => removeLanguage(ed) }, `Stop writing in ${languageName(language)}`);
  const title = `${KINDS[kind].name} in ${languageName(language)}`;
  const about = h('p', { class: 'hint' }, KINDS[kind].about);
  main.append(back(), heading(title), about, ed.state, h('div', { class: 'fm-editor' }, editorForm(ed, catalogue.placeholders[kind]), ed.preview));
  put(ed, ed.current || inForce(catalogue, kind, 'en'));
  drawState(ed);
}

function editorForm(ed, names) {
  const { subject, email, sms } = ed.fields;
  const smsHint = 'One SMS holds 160 plain characters, or 70 with letters such as ŵ or ń; a longer text is sent in parts.';
  const buttons = h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', id: 'fm-preview-button', onclick: () => show(ed) }, 'Preview'),
    h('button', { type: 'submit', class: 'primary', id: 'fm-save' }, 'Save'),
    ed.reset,
    ed.remove,
  );
  const form = h('form', { class: 'fm-form', id: 'fm-form', novalidate: true, onsubmit: (e) => (e.preventDefault(), save(ed)) });
  form.append(placeholders(names), field('Subject (e-mail)', subject), field('E-mail text', email), field('SMS text', sms, smsHint), ed.error, buttons);
  for (const f of Object.values(ed.fields)) f.dataset.describedby = f.getAttribute('aria-describedby') || '';
  return form;
}

function put(ed, t) {
  for (const [name, f] of Object.entries(ed.fields)) f.value = t[name];
}

function draft(ed) {
  const { subject, email, sms } = ed.fields;
  return { subject: subject.value, email: email.value, sms: sms.value };
}

/** What the words in the editor are, and the buttons that fit them. */
function drawState(ed) {
  const t = ed.current;
  ed.reset.hidden = !(t && t.edited && t.built_in);
  ed.remove.hidden = !(t && t.edited && !t.built_in);
  if (!t) {
    const name = languageName(ed.language);
    ed.state.textContent = `Not written in ${name} yet: these are the English words to translate. Until you save, families who read it get English.`;
  } else if (t.edited) {
    ed.state.textContent = `The school's own words, saved by ${saved(t)}.`;
  } else {
    ed.state.textContent = "The built-in words. Saving a change makes them the school's own.";
  }
}

/** Shows the hub's refusal beside the form; marks and focuses the field it names. */
function refused(ed, e) {
  ed.error.textContent = e.message;
  const named = /^(?:the absence notice's )?(subject|email|sms)\b/.exec(e.message);
  const control = named && ed.fields[named[1]];
  if (!control) return;
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', `${control.dataset.describedby} fm-error`.trim());
  control.focus();
}

function clearError(ed) {
  ed.error.textContent = '';
  for (const f of Object.values(ed.fields)) {
    f.removeAttribute('aria-invalid');
    if (f.dataset.describedby) f.setAttribute('aria-describedby', f.dataset.describedby);
    else f.removeAttribute('aria-describedby');
  }
}

async function show(ed) {
  clearError(ed);
  try {
    const filled = await api.post(`${ed.path}/preview`, draft(ed));
    drawPreview(ed.preview, filled);
    announce(`Preview: ${size(filled)}.`);
  } catch (e) {
    if (e.status === 400) refused(ed, e);
    else failed('Could not preview the message', e);
  }
}

async function save(ed) {
  clearError(ed);
  try {
    ed.current = await api.put(ed.path, draft(ed));
    put(ed, ed.current);
    drawState(ed);
    announce(`Saved ${ed.what}.`);
  } catch (e) {
    if (e.status === 400) refused(ed, e);
    else failed('Could not save the words', e);
  }
}

/** Deletes the school's own words after asking; the built-in words are back in the editor. */
async function resetWords(ed) {
  const question = `Go back to the built-in words of ${ed.what}? The school's own words are deleted.`;
  if (!(await confirm(question, 'Back to the built-in words'))) return;
  try {
    await api.del(ed.path);
    ed.current = inForce(await api.get('/family-messages'), ed.kind, ed.language);
    put(ed, ed.current);
    clearError(ed);
    drawState(ed);
    announce(`Back to the built-in words of ${ed.what}.`);
    // The button pressed is hidden now: the focus goes to what the words are.
    ed.state.tabIndex = -1;
    ed.state.focus();
  } catch (e) {
    failed('Could not go back to the built-in words', e);
  }
}

/** Deletes a language the school added (families who read it get English); back to the list. */
async function removeLanguage(ed) {
  const question = `Stop writing ${ed.what}? Families who read it get the English words.`;
  if (!(await confirm(question, 'Stop writing in it'))) return;
  try {
    await api.del(ed.path);
    announce(`Removed ${ed.what}.`);
    location.hash = LIST;
  } catch (e) {
    failed('Could not remove the words', e);
  }
}

/** The placeholders `kind` may use, each with what it becomes. */
function placeholders(names) {
  return h(
    'div',
    { class: 'fm-placeholders', id: 'fm-placeholders' },
    h('p', {}, 'Words in braces are filled in for each family:'),
    h('ul', {}, names.map((name) => h('li', {}, h('code', {}, `{${name}}`), ` is ${PLACEHOLDERS[name] || 'filled in by the hub'}`))),
  );
}

function size(filled) {
  const parts = filled.sms_parts === 1 ? '1 SMS part' : `${filled.sms_parts} SMS parts`;
  return `${filled.sms_characters} characters, ${parts}`;
}

function drawPreview(preview, filled) {
  preview.hidden = false;
  fill(
    preview,
    h('h2', { id: 'fm-preview-title' }, 'Preview'),
    h('p', { class: 'hint' }, 'As a family would read it today, for a child called Ada, with a sample link.'),
    h(
      'dl',
      {},
      h('dt', {}, 'Subject'),
      h('dd', { id: 'fm-preview-subject' }, filled.subject),
      h('dt', {}, 'E-mail'),
      h('dd', { id: 'fm-preview-email' }, filled.email),
      h('dt', {}, 'SMS'),
      h('dd', { id: 'fm-preview-sms' }, filled.sms),
    ),
    h('p', { id: 'fm-sms-size' }, size(filled)),
  );
}
