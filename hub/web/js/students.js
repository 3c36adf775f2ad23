// Students: find a student by name or reference, narrowed by year group, form and whether they
// are active; a student's details (student_details.js), their consent to face recognition
// (consent.js), their enrolment photos with their quality figures, uploading new ones once
// consent is given (each photo accepted or refused with the reason at once), switching a bad
// one off without deleting it, and deleting one after a confirmation. Changing students and
// their photos needs the admin role; admins also import students' guardians from a CSV file
// here (guardians.js).

import * as api from './api.js';
import { badge, card } from './consent.js';
import { describe, detailsCard, inactiveBadge } from './student_details.js';
import { folderForm } from './enrol_folder.js';
import { importCard as guardiansImport } from './guardians.js';
import { announce, confirm, dateTime, download, face, failed, field, fill, h, heading, select } from './ui.js';

export async function render(main, { me, args }) {
  if (args[0]) return student(main, me, args[0]);
  return list(main, me);
}

async function list(main, me) {
  // The choices of year group and form are the ones the school's students have.
  const everyone = await api.get('/students');
  const choices = (key) => [['', 'All'], ...[...new Set(everyone.map((s) => s[key]).filter(Boolean))].sort(byNumber).map((v) => [v, v])];
  const q = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
  const year = select('year_group', choices('year_group'), '');
  const form = select('form', choices('form'), '');
  const shown = select('active', [['true', 'Active'], ['false', 'Inactive'], ['', 'Everyone']], 'true');
  const count = h('p', { class: 'hint', id: 'student-count', 'aria-live': 'polite' });
  const results = h('ul', { class: 'students', id: 'student-list' });
  main.append(
    heading('Students'),
    h(
      'div',
      { class: 'card filters', role: 'search' },
      field('Find a student', q, 'Part of a name or school reference.'),
      field('Year group', year),
      field('Form', form),
      field('Show', shown),
    ),
    count,
    results,
  );
  if (me.role === 'admin') main.append(addForm(), folderForm(), guardiansImport());
  let seq = 0;
  async function search() {
    const mine = ++seq;
    const query = new URLSearchParams();
    for (const [key, control] of [['q', q], ['year_group', year], ['form', form], ['active', shown]]) {
      if (control.value.trim()) query.set(key, control.value.trim());
    }
    const found = await api.get('/students?' + query);
    if (mine !== seq) return;
    count.textContent = `${found.length} ${found.length === 1 ? 'student' : 'students'}`;
    fill(
      results,
      found.length
        ? found.map((s) =>
            h(
              'li',
              { dataset: { consent: s.consent, active: String(s.active) } },
              h('a', { href: '#/students/' + encodeURIComponent(s.id), class: 'student-name' }, s.name),
              h('span', { class: 'hint' }, describe(s)),
              inactiveBadge(s),
              badge(s.consent),
            ),
          )
        : h('li', { class: 'empty' }, 'No student matches.'),
    );
  }
  const again = () => search().catch((e) => failed('Search failed', e));
  q.addEventListener('input', again);
  for (const control of [year, form, shown]) control.addEventListener('change', again);
  await search();
}

/** Year groups in the order of their numbers (Year 7, Year 8, …, Year 10). */
function byNumber(a, b) {
  return a.localeCompare(b, 'en', { numeric: true });
}

function addForm() {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const ref = h('input', { name: 'external_ref', autocomplete: 'off' });
  const year = h('input', { name: 'year_group', autocomplete: 'off', maxlength: 64 });
  const form = h('input', { name: 'form', autocomplete: 'off', maxlength: 64 });
  const born = h('input', { name: 'born_on', type: 'date' });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const s = await api.post('/students', {
            name: name.value.trim(),
            external_ref: ref.value.trim() || null,
            year_group: year.value.trim() || null,
            form: form.value.trim() || null,
            born_on: born.value || null,
          });
          announce(`Added ${s.name}.`);
          location.hash = '#/students/' + encodeURIComponent(s.id);
        } catch (err) {
          failed('Could not add the student', err);
        }
      },
    },
    h('h2', {}, 'Add a student'),
    field('Name', name),
    field('School reference (optional)', ref),
    field('Year group (optional)', year),
    field('Form (optional)', form),
    field('Date of birth (optional)', born),
    h('button', { type: 'submit', class: 'primary' }, 'Add student'),
  );
}

async function student(main, me, id) {
  const s = await api.get('/students/' + api.seg(id));
  const faces = h('ul', { class: 'faces', id: 'faces' });
  const outcome = h('ul', { class: 'outcomes', id: 'upload-outcome', 'aria-live': 'polite' });
  main.append(
    h('p', {}, h('a', { href: '#/students' }, '← All students')),
    heading(s.name, [
      h('a', { href: '#/history/' + encodeURIComponent(s.id), id: 'history-link' }, 'Attendance history'),
      me.role === 'admin' ? h('button', { type: 'button', id: 'archive', class: 'small', onclick: () => archive(s) }, 'Download everything held') : null,
    ]),
    detailsCard(s, me, async () => {
      main.replaceChildren();
      await student(main, me, id);
    }),
    await card(s, me, async () => {
      main.replaceChildren();
      await student(main, me, id);
    }),
    me.role === 'admin' ? await classesCard(s) : null,
    h('section', { class: 'card', 'aria-labelledby': 'faces-title' }, h('h2', { id: 'faces-title' }, 'Enrolment photos'), faces),
  );
  if (me.role === 'admin' && s.consent === 'given') main.append(uploadForm(s, outcome, () => refresh()));
  else if (me.role === 'admin') main.append(h('p', { class: 'hint', id: 'no-upload' }, 'Photos can be added once a parent’s written consent is recorded above.'));
  await refresh();

  async function refresh() {
    const list = await api.get(`/students/${api.seg(s.id)}/faces`);
    fill(
      faces,
      list.length
        ? list.map((f, i) => faceCard(s, f, i, me, refresh))
        : h('li', { class: 'empty' }, 'No photos yet: the door cameras cannot recognise this student.'),
    );
  }
}

/** Everything the hub holds about the student, as one archive for them or their family. */
async function archive(s) {
  try {
    const { blob, filename } = await api.blob(`/students/${api.seg(s.id)}/archive`);
    download(blob, filename || 'rollcall-student.zip');
    announce(`Everything held about ${s.name} is downloading.`);
  } catch (e) {
    failed('Could not make the archive', e);
  }
}

function faceCard(s, f, i, me, refresh) {
  const label = `Enrolment photo ${i + 1} of ${s.name}`;
  return h(
    'li',
    { class: f.active ? 'card face-card' : 'card face-card off', dataset: { face: f.id, active: String(f.active) } },
    face(f.thumbnail_url, label),
    h('dl', { class: 'figures' }, figures(f.quality)),
    h('p', { class: 'hint' }, `Added ${dateTime(f.created_at)}`),
    f.active ? null : h('p', { class: 'switched-off' }, 'Switched off: not matched at the door'),
    me.role === 'admin' ? switchButton(s, f, label, refresh) : null,
    me.role === 'admin'
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'aria-label': `Delete ${label.toLowerCase()}`,
            onclick: async () => {
              if (!(await confirm(`Delete this photo of ${s.name}? The door cameras will forget it.`, 'Delete photo'))) return;
              try {
                await api.del(`/students/${api.seg(s.id)}/faces/${api.seg(f.id)}`);
                announce('Photo deleted.');
                await refresh();
              } catch (e) {
                failed('Could not delete the photo', e);
              }
            },
          },
          'Delete',
        )
      : null,
  );
}

/** Switches a photo off (kept, matched nowhere: a bad photo) or on again. */
function switchButton(s, f, label, refresh) {
  const on = !f.active;
  return h(
    'button',
    {
      type: 'button',
      class: 'small',
      'aria-label': `${on ? 'Switch on' : 'Switch off'} ${label.toLowerCase()}`,
      onclick: async () => {
        try {
          await api.patch(`/students/${api.seg(s.id)}/faces/${api.seg(f.id)}`, { active: on });
          announce(on ? 'Photo switched on: the door cameras will use it again.' : 'Photo switched off: kept, but the door cameras will not use it.');
          await refresh();
        } catch (e) {
          failed('Could not change the photo', e);
        }
      },
    },
    on ? 'Switch on' : 'Switch off',
  );
}

// A photo's measurements in the words a teacher uses; the figure behind each in its title.
const FIGURES = [
  ['inter_ocular_px', 'Face size', size, (v) => `${v.toFixed(0)} px between the eyes`],
  ['face_px', 'Face size', size, (v) => `${v.toFixed(0)} px between the eyes`],
  ['sharpness', 'Sharpness', (v) => (v >= 60 ? 'sharp' : v >= 30 ? 'fair' : 'blurred'), (v) => `variance of the Laplacian ${v.toFixed(0)}`],
  ['detector_score', 'Clearly a face', (v) => (v >= 0.99 ? 'yes' : 'not quite'), (v) => `detector score ${Math.round(v * 100)} %`],
  ['yaw_deg', 'Facing the camera', (v) => (Math.abs(v) <= 10 ? 'yes' : Math.abs(v) <= 25 ? 'a little turned' : 'turned away'), (v) => `turned ${Math.abs(v).toFixed(0)}°`],
];

function size(px) {
  return px >= 60 ? 'large' : px >= 30 ? 'medium' : 'small';
}

function figures(q) {
  if (!q) return [h('dt', {}, 'Quality'), h('dd', {}, 'not measured')];
  const out = [];
  const yaw = q.pose ? q.pose.yaw_deg : q.yaw_deg;
  const values = { ...q, yaw_deg: yaw };
  for (const [key, name, say, figure] of FIGURES) {
    const v = values[key];
    if (typeof v === 'number') out.push(h('dt', {}, name), h('dd', { title: figure(v) }, say(v)));
  }
  return out;
}

/** The classes a student is in, and a class to put them in (from today: their lessons before
 * do not count them). */
async function classesCard(s) {
  const list = h('ul', { class: 'plain', id: 'student-classes' });
  const all = await api.get('/classes');
  const pick = select('class', [['', 'Choose a class'], ...all.map((c) => [c.id, c.name])], '');
  pick.id = 'add-to-class';
  async function show() {
    const members = await Promise.all(all.map((c) => api.get(`/classes/${api.seg(c.id)}/students`)));
    const mine = all.filter((c, i) => members[i].some((m) => m.id === s.id));
    fill(list, mine.length ? mine.map((c) => h('li', {}, c.name)) : h('li', { class: 'empty' }, 'In no class yet: no lesson expects them.'));
  }
  async function add(e) {
    e.preventDefault();
    const c = all.find((x) => x.id === pick.value);
    if (!c) return failed('Could not add', new Error('choose a class'));
    try {
      await api.put(`/classes/${api.seg(c.id)}/students/${api.seg(s.id)}`, {});
      announce(`${s.name} is in ${c.name} from today.`);
      pick.value = '';
      await show();
    } catch (err) {
      failed('Could not add to the class', err);
    }
  }
  await show();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'classes-title' },
    h('h2', { id: 'classes-title' }, 'Classes'),
    list,
    h('form', { class: 'inline', id: 'class-form', onsubmit: add }, field('Put in a class', pick), h('button', { type: 'submit' }, 'Add to class')),
  );
}

function uploadForm(s, outcome, refresh) {
  const input = h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png,image/tiff,image/webp,image/bmp,.tif,.tiff', multiple: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Upload');
  const form = h(
    'form',
    { class: 'card', id: 'upload', onsubmit: send },
    h('h2', {}, 'Add photos'),
    field('Photos (one face each, looking at the camera)', input, 'You can pick several. Each one is checked at once.'),
    button,
    outcome,
  );
  input.addEventListener('change', () => input.files.length && form.requestSubmit());
  return form;

  async function send(event) {
    event.preventDefault();
    const files = [...input.files];
    if (!files.length) return;
    button.disabled = true;
    fill(outcome, h('li', {}, `Checking ${files.length} ${files.length === 1 ? 'photo' : 'photos'}…`));
    try {
      let photos = await outcomes(files, false);
      show(photos, files);
      // A face that looks like another enrolled child is held: ask, one photo at a time.
      for (const held of photos.filter(looksLikeAnother)) {
        const file = files.find((f) => f.name === held.photo);
        const like = held.error.details;
        const where = like.classes.length ? `, enrolled in ${like.classes.join(', ')}` : '';
        const ok = file && (await confirm(
          `This face looks like ${like.name}${where}. Is ${held.photo} really ${s.name}? If it is not, the door could name either child as the other.`,
          `Yes, it is ${s.name}`,
        ));
        if (!ok) continue;
        const again = await outcomes([file], true);
        photos = photos.map((p) => (p === held ? again[0] : p));
        show(photos, files);
      }
      await refresh();
    } catch (e) {
      fill(outcome, h('li', { class: 'refused' }, `${files.length === 1 ? files[0].name : 'Upload'} refused: ${explain(e.code, e.message)}`));
    } finally {
      button.disabled = false;
      input.value = '';
    }
    const refused = outcome.querySelectorAll('.refused').length;
    announce(refused ? `${refused} ${refused === 1 ? 'photo was' : 'photos were'} refused.` : 'Photos added.', refused ? 'error' : 'ok');
  }

  /** Each photo's outcome: from the answer, or from the refusal that lists them. */
  async function outcomes(files, confirmed) {
    const path = `/students/${api.seg(s.id)}/faces${confirmed ? '?confirmed=true' : ''}`;
    try {
      return (await api.upload(path, files)).photos;
    } catch (e) {
      const photos = e.body && e.body.error && e.body.error.photos;
      if (photos) return photos;
      throw e;
    }
  }

  function show(photos, files) {
    fill(
      outcome,
      photos.map((p) =>
        p.accepted
          ? h('li', { class: 'accepted' }, `✓ ${p.photo}: accepted (sharpness ${p.quality.sharpness.toFixed(0)})`)
          : h(
              'li',
              { class: 'refused', dataset: { code: p.error.code } },
              `✗ ${p.photo}: refused — ${explain(p.error.code, p.error.message)}`,
              competing(files.find((f) => f.name === p.photo), p.error.details),
            ),
      ),
    );
  }
}

/** The faces that competed in a refused photo, cut from the admin's own file (nothing is
 * fetched: the hub keeps no photo). */
function competing(file, details) {
  if (!file || !details || !details.boxes) return null;
  const row = h('div', { class: 'crops', role: 'group', 'aria-label': 'The faces found' });
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    for (const [x1, y1, x2, y2] of details.boxes) {
      const pad = 0.25 * (x2 - x1);
      const sx = Math.max(0, x1 - pad);
      const sy = Math.max(0, y1 - pad);
      const sw = Math.min(img.naturalWidth, x2 + pad) - sx;
      const sh = Math.min(img.naturalHeight, y2 + pad) - sy;
      if (sw <= 0 || sh <= 0) continue;
      const canvas = h('canvas', { width: 96, height: Math.round((96 * sh) / sw), role: 'img', 'aria-label': 'A face found in the photo' });
      canvas.getContext('2d').drawImage(img, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
      row.append(canvas);
    }
    URL.revokeObjectURL(url);
  };
  img.src = url;
  return row;
}

const ADVICE = {
  no_face: 'no face was found. Use a photo where the face is clearly visible.',
  several_faces: 'several faces of about the same size, and none is clearly this student. Crop the photo to this student alone.',
  too_small: 'the face is too small. Use a closer photo.',
  blurry: 'the photo is blurred. Use a sharper one.',
  turned_away: 'the face is turned away. Use a photo looking at the camera.',
  low_score: 'the face is hard to make out. Use a clearer photo.',
  bad_landmarks: 'the eyes, nose and mouth could not be located. Use a clearer, front-facing photo.',
  not_an_image: 'this is not a photo the hub can read (use JPEG or PNG).',
  image_too_large: 'the file is too large.',
  payload_too_large: 'the files are too large together.',
};

// Refusals whose message adds nothing to the advice (the others carry measured figures).
const PLAIN = ['no_face', 'not_an_image', 'image_too_large', 'payload_too_large'];

function explain(code, message) {
  if (!ADVICE[code]) return message;
  return PLAIN.includes(code) ? ADVICE[code] : `${ADVICE[code]} (${message})`;
}

/** A photo held because its face looks like another enrolled student's. */
function looksLikeAnother(p) {
  return !p.accepted && p.error.code === 'looks_like_another_student';
}
