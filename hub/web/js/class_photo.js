// The register from a class photo, inside a lesson's card on Today: take a photo with the
// phone's camera or upload several; the hub finds every face and matches it against the
// class as the door does. Each photo is shown here (from the teacher's own file: the hub
// keeps no photo) with a box on every face: the student's name where the face counts at
// once, "check" where it waits for review, "not recognised" and "too unclear" otherwise.

import * as api from './api.js';
import { announce, h, localUrl } from './ui.js';

const KIND = {
  confident: { label: (f) => f.name, key: 'marked' },
  uncertain: { label: (f) => `Check: ${f.candidates[0] ? f.candidates[0].name : 'who?'}`, key: 'review' },
  unknown: { label: () => 'Not recognised', key: 'unknown' },
};

/**
 * The photo controls of lesson `s` on `day`; `done` is called after each upload (the roster
 * refreshes). `results` is the element the photos' results live in: kept by the caller
 * across refreshes.
 */
export function controls(s, day, results, done) {
  const id = 'photo-' + s.slot_id;
  const camera = h('input', { type: 'file', id: id + '-camera', accept: 'image/*', capture: 'environment', class: 'visually-hidden' });
  const files = h('input', { type: 'file', id: id + '-files', accept: 'image/*', multiple: true, class: 'visually-hidden' });
  const progress = h('p', { class: 'hint', 'aria-live': 'polite' });
  for (const input of [camera, files]) {
    input.addEventListener('change', async () => {
      const picked = [...input.files];
      input.value = '';
      for (const [i, file] of picked.entries()) {
        progress.textContent = picked.length > 1 ? `Reading photo ${i + 1} of ${picked.length}…` : 'Reading the photo…';
        await send(s, day, file, results);
      }
      progress.textContent = '';
      await done();
    });
  }
  return h(
    'div',
    { class: 'class-photo' },
    h('div', { class: 'actions' },
      h('label', { for: camera.id, class: 'button' }, 'Take a class photo'), camera,
      h('label', { for: files.id, class: 'button' }, 'Upload photos'), files),
    progress,
  );
}

async function send(s, day, file, results) {
  const path = `/sessions/${api.seg(s.slot_id)}/${api.seg(day)}/photos`;
  try {
    const answer = await api.upload(path, [file], { taken_at: file.lastModified || Date.now() });
    const photo = answer.photos[0];
    if (photo.error) throw new Error(photo.error.message);
    results.prepend(figure(file, photo, results.childElementCount + 1));
    const n = answer.marked.length;
    announce(`${n} ${n === 1 ? 'student' : 'students'} marked from the photo${answer.waiting ? `, ${answer.waiting} to check in review` : ''}.`);
  } catch (e) {
    results.prepend(h('p', { class: 'error', role: 'alert' }, `${file.name}: ${e.message}`));
  }
}

/** The photo with a box on every face, and the same as a list for screen readers. */
function figure(file, photo, n) {
  const boxes = photo.faces.map((f) => {
    const kind = f.decision ? KIND[f.decision] : { label: () => 'Too unclear', key: 'unclear' };
    const [x1, y1, x2, y2] = f.box;
    const pct = (v, of) => `${((100 * v) / of).toFixed(2)}%`;
    // A label under a face in the right half of the photo runs leftwards, into the photo.
    const side = x1 + x2 > photo.width ? ' leftwards' : '';
    const box = h('div', { class: 'face-box ' + kind.key + side }, h('span', {}, kind.label(f)));
    // Through the CSSOM: the Content-Security-Policy allows no inline style attribute.
    Object.assign(box.style, {
      left: pct(x1, photo.width),
      top: pct(y1, photo.height),
      width: pct(x2 - x1, photo.width),
      height: pct(y2 - y1, photo.height),
    });
    return { kind, f, box };
  });
  const count = (key) => boxes.filter((b) => b.kind.key === key).length;
  const said = [
    `${count('marked')} marked`,
    count('review') ? `${count('review')} to check in review` : null,
    count('unknown') ? `${count('unknown')} not recognised` : null,
    count('unclear') ? `${count('unclear')} too unclear to read` : null,
  ].filter(Boolean);
  const label = `Class photo ${n}`;
  return h(
    'figure',
    { class: 'photo-result' },
    h('div', { class: 'photo-frame' }, h('img', { src: localUrl(file), alt: `${label}: ${photo.faces.length} faces found` }), boxes.map((b) => b.box)),
    h('figcaption', {}, `${label} (${file.name}): ${photo.faces.length} ${photo.faces.length === 1 ? 'face' : 'faces'}, ${said.join(', ')}.`),
    h('ul', { class: 'visually-hidden' }, boxes.map((b) => h('li', {}, b.kind.label(b.f)))),
  );
}
