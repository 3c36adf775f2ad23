// Face recognition at the gates (the Staff page; admins only): a member's consent to be
// recognised by the door units at the school's gates, every change of it, and their
// enrolment photos: uploaded once consent is given (each checked at once), shown as
// thumbnails, deleted one by one. Refusing or withdrawing erases the photos at once. The
// rules are the hub's; this file only shows them and sends what the admin records.

import * as api from './api.js';
import { announce, byWhom, confirm, dateTime, face, failed, field, fill, h, select } from './ui.js';

const STATES = {
  not_asked: 'Not asked',
  requested: 'Form sent',
  given: 'Given',
  refused: 'Refused',
  withdrawn: 'Withdrawn',
};

// States whose recording erases the member's photos at once.
const ERASING = ['refused', 'withdrawn'];
const IMAGES = 'image/jpeg,image/png,image/tiff,image/webp,image/bmp,.tif,.tiff';
const NO_UPLOAD = 'Photos can be added once the member’s written consent is recorded as given above.';

/** A short badge for a member's consent. */
export function badge(state) {
  const title = state === 'given' ? 'Consent given: recognised at the gates' : 'No consent: signs in and out at reception';
  return h('span', { class: `consent ${state}`, title }, STATES[state] || state);
}

/** The list's cell for member `m`: their consent and how many photos the gates know them by. */
export function gatesCell(m) {
  return [badge(m.consent), ' ', h('span', { class: 'hint gate-photos' }, photos(m.faces))];
}

function photos(n) {
  return `${n} ${n === 1 ? 'photo' : 'photos'}`;
}

/**
 * The panel of one member at a time. `open(m, back)` shows `m`'s and puts the focus on its
 * title; Close hides it and gives the focus to `back()`. `changed` runs after every change
 * (the list's counts); `today()` is the hub's day (no form is signed after it).
 */
export function gatesPanel(today, changed) {
  const section = h('section', { class: 'card consent-card', id: 'staff-gates', 'aria-labelledby': 'gates-title', hidden: true });
  let view = null;

  async function open(m, back) {
    view = { m, back, held: 0, parts: skeleton(m) };
    fill(section, ...Object.values(view.parts.layout));
    await refresh();
    section.hidden = false;
    view.parts.title.focus();
  }

  function close() {
    if (!view) return;
    const back = view.back();
    section.hidden = true;
    view = null;
    if (back) back.focus();
  }

  /** Draws what the hub holds of the member now (unless the panel moved on meanwhile). */
  async function refresh() {
    const shown = view;
    if (!shown) return;
    const held = await api.get(`/staff/${api.seg(shown.m.id)}/faces`);
    if (view !== shown) return;
    const { parts } = shown;
    shown.held = held.faces.length;
    const given = held.consent === 'given';
    fill(parts.state, badge(held.consent));
    fill(parts.meaning, given ? 'Recognised at the gates.' : 'Not recognised at the gates: signs in and out at reception.');
    fill(parts.history, held.consent_history.length ? history(held.consent_history) : h('p', { class: 'hint' }, 'No answer recorded yet.'));
    parts.file.disabled = parts.send.disabled = !given;
    parts.fileHint.textContent = given ? 'One face each, looking at the camera. You can pick several; each one is checked at once.' : NO_UPLOAD;
    fill(parts.faces, held.faces.length ? held.faces.map((f, i) => faceCard(f, i)) : h('li', { class: 'empty' }, 'No photos: the gates cannot recognise this member.'));
  }

  /** Runs after the hub changed something: the panel and the list drawn again. */
  async function after() {
    await refresh();
    await changed();
  }

  function skeleton(m) {
    const title = h('h2', { id: 'gates-title', tabindex: -1 }, `Face recognition at the gates: ${m.name}`);
    const state = h('span', { id: 'gates-consent' });
    const meaning = h('span', {});
    const history = h('div', { id: 'gates-history' });
    const faces = h('ul', { class: 'faces', id: 'gates-faces' });
    const facesTitle = h('h3', { id: 'gates-faces-title', tabindex: -1 }, 'Enrolled photos');
    const upload = uploadForm(m);
    const layout = {
      head: h('div', { class: 'page-head' }, title, h('button', { type: 'button', id: 'gates-close', onclick: close }, 'Close')),
      why: h(
        'p',
        { class: 'lead' },
        `${m.name}’s face is used only by the door units at the school’s gates, to log them in and out, and only with their written consent. `,
        'Refusing or withdrawing consent erases their photos at once, here and at every gate.',
      ),
      now: h('p', {}, 'Consent: ', state, ' ', meaning),
      history,
      form: consentForm(m),
      upload: upload.form,
      facesTitle,
      faces,
    };
    return { title, state, meaning, history, faces, facesTitle, layout, file: upload.file, send: upload.send, fileHint: upload.hint };
  }

  /** Records what the member says; a refusal or withdrawal asks first when photos are held. */
  function consentForm(m) {
    const state = select('state', Object.entries(STATES), 'given');
    const signed = h('input', { name: 'signed_on', type: 'date', max: today() });
    const reference = h('input', { name: 'reference', autocomplete: 'off', maxlength: 200 });
    const note = h('input', { name: 'note', autocomplete: 'off' });
    const needs = () => {
      signed.required = reference.required = state.value === 'given';
    };
    state.addEventListener('change', needs);
    needs();
    async function submit(e) {
      e.preventDefault();
      const statement = {
        state: state.value,
        signed_on: signed.value || null,
        reference: reference.value.trim() || null,
        note: note.value.trim() || null,
      };
      const held = view.held;
      const ask = `This erases ${m.name}’s ${photos(held)} at once, here and at every gate. Go on?`;
      if (ERASING.includes(statement.state) && held && !(await confirm(ask, 'Record and erase'))) return;
      try {
        const done = await api.put(`/staff/${api.seg(m.id)}/consent`, statement);
        const erased = done.erased ? ` ${photos(done.erased)} erased.` : '';
        announce(`Consent recorded for ${m.name}: ${STATES[done.consent]}.${erased}`);
        e.target.reset();
        state.value = 'given';
        needs();
        await after();
      } catch (err) {
        failed('Could not record consent', err);
      }
    }
    return h(
      'form',
      { class: 'consent-form', id: 'gates-consent-form', onsubmit: submit },
      h('h3', {}, 'Record an answer'),
      field('Answer', state),
      field('Date on the signed form', signed, 'Needed when consent is given.'),
      field('Form reference', reference, 'Where the signed form is filed, e.g. “HR form 7”. Needed when consent is given.'),
      field('Note (optional)', note),
      h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Record')),
    );
  }

  /** Photos of `m`, sent as soon as they are picked; each accepted or refused with the reason. */
  function uploadForm(m) {
    const file = h('input', { type: 'file', name: 'photo', accept: IMAGES, multiple: true, disabled: true });
    const send = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Upload');
    const outcome = h('ul', { class: 'outcomes', id: 'gates-outcome', 'aria-live': 'polite' });
    const labelled = field('Photos of the member', file, NO_UPLOAD);
    const form = h('form', { id: 'gates-upload', onsubmit: submit }, h('h3', {}, 'Add photos'), labelled, send, outcome);
    file.addEventListener('change', () => file.files.length && form.requestSubmit());
    return { form, file, send, hint: labelled.querySelector('.hint') };

    async function submit(e) {
      e.preventDefault();
      const files = [...file.files];
      if (!files.length) return;
      send.disabled = true;
      fill(outcome, h('li', {}, `Checking ${photos(files.length)}…`));
      try {
        show((await api.upload(`/staff/${api.seg(m.id)}/faces`, files)).photos);
      } catch (err) {
        const each = err.body && err.body.error && err.body.error.photos;
        if (!each) {
          fill(outcome, h('li', { class: 'refused', dataset: { code: err.code } }, `✗ Not uploaded: ${err.message}`));
          failed('Could not add the photos', err);
          return;
        }
        show(each);
      } finally {
        file.value = '';
        send.disabled = file.disabled;
      }
      const refused = outcome.querySelectorAll('.refused').length;
      announce(refused ? `${photos(refused)} refused.` : `${photos(files.length)} of ${m.name} added.`, refused ? 'error' : 'ok');
      await after().catch((err) => failed('Could not show the photos', err));
    }

    function show(each) {
      fill(
        outcome,
        each.map((p) =>
          p.accepted
            ? h('li', { class: 'accepted' }, `✓ ${p.photo}: ${p.already_enrolled ? 'already enrolled' : 'accepted'}`)
            : h('li', { class: 'refused', dataset: { code: p.error.code } }, `✗ ${p.photo}: refused — ${p.error.message}`),
        ),
      );
    }
  }

  function faceCard(f, i) {
    const { m } = view;
    const label = `Photo ${i + 1} of ${m.name}`;
    async function remove() {
      if (!(await confirm(`Delete this photo of ${m.name}? The gates will forget it.`, 'Delete photo'))) return;
      try {
        await api.del(`/staff/${api.seg(m.id)}/faces/${api.seg(f.id)}`);
        announce('Photo deleted.');
        await after();
        view.parts.facesTitle.focus();
      } catch (err) {
        failed('Could not delete the photo', err);
      }
    }
    return h(
      'li',
      { class: 'card face-card', dataset: { face: f.id } },
      face(f.thumbnail_url, label),
      h('p', { class: 'hint' }, `Added ${dateTime(f.created_at)}`),
      h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete', h('span', { class: 'visually-hidden' }, ` ${label.toLowerCase()}`)),
    );
  }

  return { section, open };
}

/** Every change of a member's consent, newest first. */
function history(changes) {
  const form = (c) => [c.signed_on && `form signed ${c.signed_on}`, c.reference].filter(Boolean).join(', ');
  const item = (c) =>
    h(
      'li',
      {},
      badge(c.state),
      form(c) ? ` ${form(c)}` : null,
      c.note ? h('span', { class: 'hint' }, ` “${c.note}”`) : null,
      h('span', { class: 'hint' }, ` · recorded ${dateTime(c.recorded_at)} by ${byWhom(c.recorded_by)}`),
    );
  return h('ul', { class: 'plain', 'aria-label': 'Every change of consent' }, changes.slice().reverse().map(item));
}
