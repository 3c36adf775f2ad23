// A year's photos in one go, on the Students page (admins): the photographer's folder (or
// many photos) chosen at once, each photo named by the student's reference (S0042.jpg,
// S0042-2.jpg) or given one by a mapping file (photo,reference). The photos go one at a time
// to POST /enrolment/photos, so the page shows each outcome as it comes, and a stopped run
// loses nothing: what was enrolled stays, and the hub never enrols the same photo twice. A
// zip of the folder (up to 25 MB: a class's photos) goes whole, and the hub answers for each
// photo in it. The outcome table downloads as CSV.

import * as api from './api.js';
import { announce, download, failed, field, h } from './ui.js';

const PHOTO = /\.(jpe?g|png|tiff?|bmp|webp)$/i;
const ZIP = /\.zip$/i;
/** The most one request may carry (the hub's upload limit). */
const MAX_UPLOAD = 25 * 1024 * 1024;
const SAID = {
  enrolled: 'Enrolled',
  already_enrolled: 'Already enrolled',
  refused: 'Refused',
  no_such_reference: 'No such reference',
  no_consent: 'No consent',
  looks_like_another_student: 'Looks like another student',
};

/** Why, in words: the refusal, the consent, or whom the face looks like. */
function detail(line) {
  if (line.reason) return line.reason;
  if (line.consent) return `consent is ${line.consent.replace('_', ' ')}`;
  if (line.like) {
    const where = line.like.classes.length ? `, enrolled in ${line.like.classes.join(', ')}` : '';
    return `looks like ${line.like.name}${where}: enrol it from the student's page if it really is them`;
  }
  return '';
}

export function folderForm() {
  const folder = h('input', { type: 'file', name: 'folder', webkitdirectory: '', multiple: true });
  const photos = h('input', { type: 'file', name: 'photos', accept: 'image/jpeg,image/png,image/tiff,image/webp,image/bmp,.tif,.tiff', multiple: true });
  const zip = h('input', { type: 'file', name: 'zip', accept: '.zip,application/zip' });
  const mapping = h('input', { type: 'file', name: 'mapping', accept: '.csv,text/csv' });
  const start = h('button', { type: 'submit', class: 'primary' }, 'Enrol photos');
  const progress = h('progress', { id: 'folder-progress', value: 0, max: 1, hidden: true, 'aria-label': 'Photos done' });
  const status = h('p', { class: 'hint', id: 'folder-status', 'aria-live': 'polite' });
  const rows = h('tbody', {});
  const table = h(
    'table',
    { id: 'folder-outcomes', hidden: true },
    h('caption', {}, 'Each photo'),
    h('thead', {}, h('tr', {}, ['Photo', 'Reference', 'Whose', 'Outcome', 'Why'].map((c) => h('th', { scope: 'col' }, c)))),
    rows,
  );
  const save = h('button', { type: 'button', id: 'folder-csv', hidden: true, onclick: () => saveCsv() }, 'Download the outcomes (CSV)');
  const lines = [];
  return h(
    'form',
    { class: 'card', id: 'enrol-folder', onsubmit: run },
    h('h2', {}, 'Enrol a folder of photos'),
    h('p', { class: 'hint' }, 'Each photo named by the student’s school reference (S0042.jpg; S0042-2.jpg for a second one), or a member of staff’s personnel code (T042.jpg), as a school photographer delivers them. Anyone without consent is skipped and listed; a photo enrolled before is not enrolled again, so you can run a folder again after a break.'),
    field('The photographer’s folder', folder),
    field('Or photos', photos),
    field('Or a zip of the folder', zip, 'Up to 25 MB, about a class’s photos; for a larger one choose the folder, or use rollcall-hub enrol on the hub.'),
    field('Mapping file (optional)', mapping, 'A CSV with the columns photo and reference, when the photos are named otherwise.'),
    start,
    progress,
    status,
    h('div', { class: 'table-scroll' }, table),
    save,
  );

  async function run(event) {
    event.preventDefault();
    const files = [...folder.files, ...photos.files].filter((f) => PHOTO.test(f.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    files.push(...[...zip.files].filter((f) => ZIP.test(f.name)));
    if (!files.length) {
      announce('Choose a folder, photos or a zip first.', 'error');
      return;
    }
    const zips = files.filter((f) => ZIP.test(f.name));
    if (zips.length && mapping.files[0]) {
      announce('A mapping file works with a folder or photos; for a zip, name the photos by reference or use rollcall-hub enrol --mapping.', 'error');
      return;
    }
    const large = zips.find((f) => f.size > MAX_UPLOAD);
    if (large) {
      announce(`${large.name} is over 25 MB: unzip it and choose the folder, or split it.`, 'error');
      return;
    }
    let names;
    try {
      names = mapping.files[0] ? parseMapping(await mapping.files[0].text()) : null;
    } catch (e) {
      failed('The mapping file could not be read', e);
      return;
    }
    start.disabled = true;
    lines.length = 0;
    rows.replaceChildren();
    table.hidden = false;
    save.hidden = true;
    progress.hidden = false;
    progress.max = files.length;
    progress.value = 0;
    try {
      for (const file of files) {
        const query = names ? `?reference=${encodeURIComponent(names.get(file.name) || '')}` : '';
        const answer = await api.upload('/enrolment/photos' + query, [file]);
        for (const line of answer) show(line);
        progress.value += 1;
        status.textContent = `${progress.value} of ${files.length} ${zips.length ? 'files' : 'photos'} done`;
      }
      const enrolled = lines.filter((l) => l.outcome === 'enrolled').length;
      announce(`${enrolled} of ${lines.length} photos enrolled.`);
    } catch (e) {
      failed(`Stopped after ${progress.value} of ${files.length} photos (what was enrolled is kept)`, e);
    } finally {
      start.disabled = false;
      save.hidden = lines.length === 0;
    }
  }

  function show(line) {
    lines.push(line);
    const why = detail(line);
    rows.append(
      h(
        'tr',
        { dataset: { outcome: line.outcome } },
        h('td', {}, line.photo),
        h('td', {}, line.reference),
        h('td', {}, line.name ? (line.whose === 'staff' ? `${line.name} (staff)` : line.name) : '—'),
        h('td', {}, SAID[line.outcome] || line.outcome),
        h('td', {}, why),
      ),
    );
  }

  function saveCsv() {
    const quote = (v) => `"${String(v ?? '').replaceAll('"', '""')}"`;
    const text = [['photo', 'reference', 'whose', 'name', 'outcome', 'detail'], ...lines.map((l) => [l.photo, l.reference, l.whose || '', l.name || '', l.outcome, l.reason || l.consent || (l.like ? `looks like ${l.like.name}` : '')])]
      .map((r) => r.map(quote).join(','))
      .join('\r\n');
    download(new Blob([text + '\r\n'], { type: 'text/csv' }), 'enrolment-outcomes.csv');
  }
}

/** A mapping file's `photo,reference` rows (a header naming both, any order) as a Map. */
function parseMapping(text) {
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim()).map((l) => l.split(',').map((c) => c.trim().replace(/^"|"$/g, '')));
  const header = (rows.shift() || []).map((c) => c.toLowerCase());
  const [photo, reference] = [header.indexOf('photo'), header.indexOf('reference')];
  if (photo < 0 || reference < 0) throw new Error('its first line must name the columns photo and reference');
  return new Map(rows.map((r) => [r[photo], r[reference]]));
}
