// Class report: the attendance matrix of a class over a date range, the class's attendance
// rate session by session, students below the school's at-risk threshold ([reports]
// at_risk_below, sent with the stats) highlighted, the morning and afternoon sessions
// ([register.statutory]) with their DfE codes, and the CSV downloads.

import * as api from './api.js';
import { announce, download, failed, field, fill, h, heading, isoDate } from './ui.js';

const LETTER = { present: 'P', late: 'L', absent: 'A', excused: 'E', not_required: 'X' };
const WORD = { present: 'Present', late: 'Late', absent: 'Absent', excused: 'Excused', not_required: 'Not required' };

export async function render(main, { me }) {
  const classes = await api.get('/classes');
  const today = (await api.get('/today')).date;
  const start = new Date(today + 'T12:00:00');
  start.setDate(start.getDate() - 27);
  const klass = h('select', { name: 'class', required: true }, classes.map((c) => h('option', { value: c.id }, c.name)));
  // The class the teacher chose to open on (My account), when it is still theirs.
  if (classes.some((c) => c.id === me.default_class)) klass.value = me.default_class;
  const from = h('input', { type: 'date', name: 'from', value: isoDate(start), required: true });
  const to = h('input', { type: 'date', name: 'to', value: today, required: true });
  const csv = h('button', { type: 'button', id: 'download-csv', onclick: () => downloadCsv(query()) }, 'Download CSV');
  const sessionsCsv = h(
    'button',
    { type: 'button', id: 'download-sessions-csv', onclick: () => downloadCsv(query().replace('?', '/statutory?')) },
    'Download AM/PM CSV',
  );
  const out = h('div', { id: 'report' });
  const form = h(
    'form',
    { class: 'card filters', onsubmit: show },
    field('Class', klass),
    field('From', from),
    field('To', to),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show'), csv, sessionsCsv),
  );
  main.append(heading('Class report'), form, out);
  if (!classes.length) {
    fill(out, h('p', { class: 'empty' }, 'You have no classes yet.'));
    csv.disabled = true;
    sessionsCsv.disabled = true;
    return;
  }
  await show();

  function query() {
    return `/reports/classes/${api.seg(klass.value)}?from=${from.value}&to=${to.value}`;
  }

  async function show(event) {
    if (event) event.preventDefault();
    try {
      const [matrix, stats, sessions] = await Promise.all([
        api.get(query()),
        api.get(query().replace('?', '/stats?')),
        api.get(query().replace('?', '/statutory?')),
      ]);
      const name = klass.selectedOptions[0].textContent;
      fill(out, chart(matrix, name, stats.threshold), table(matrix, stats, name), statutory(sessions, name));
    } catch (e) {
      failed('Could not load the report', e);
    }
  }

  async function downloadCsv(path) {
    try {
      const { blob, filename } = await api.blob(path + '&format=csv');
      download(blob, filename || 'attendance.csv');
      announce(`Downloaded ${filename || 'the CSV file'}.`);
    } catch (e) {
      failed('Could not download the CSV', e);
    }
  }
}

/** Attendance rate of each session that has marks: (present + late) / (present + late + absent). */
function rates(matrix) {
  return matrix.sessions
    .map((s, i) => {
      let attended = 0;
      let counted = 0;
      for (const st of matrix.students) {
        const m = st.marks[i];
        if (m === 'present' || m === 'late') attended++;
        if (m === 'present' || m === 'late' || m === 'absent') counted++;
      }
      return { session: s, rate: counted ? attended / counted : null };
    })
    .filter((r) => r.rate !== null);
}

/** "90 %" for 0.9. */
function percent(fraction) {
  return `${Math.round(fraction * 100)} %`;
}

function chart(matrix, name, threshold) {
  const points = rates(matrix);
  const figure = h('figure', { class: 'card chart' });
  const caption = h('figcaption', {}, `Attendance rate of ${name}, session by session`);
  if (!points.length) return fill(figure, caption, h('p', { class: 'empty' }, 'No marks in this range yet.'));
  const [w, ht, pad] = [600, 220, 32];
  const x = (i) => pad + (points.length === 1 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (points.length - 1));
  const y = (r) => ht - pad - r * (ht - 2 * pad);
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.rate).toFixed(1)}`).join(' ');
  const average = points.reduce((a, p) => a + p.rate, 0) / points.length;
  const svg = h(
    'svg:svg',
    { viewBox: `0 0 ${w} ${ht}`, role: 'img', 'aria-label': `Average ${Math.round(average * 100)} % over ${points.length} sessions`, class: 'rate-chart' },
    [0, 0.5, 1].map((r) => [
      h('svg:line', { x1: pad, x2: w - pad, y1: y(r), y2: y(r), class: 'grid' }),
      h('svg:text', { x: 2, y: y(r) + 4, class: 'axis' }, `${r * 100}%`),
    ]),
    h('svg:line', { x1: pad, x2: w - pad, y1: y(threshold), y2: y(threshold), class: 'concern' }),
    h('svg:text', { x: w - pad, y: y(threshold) - 4, class: 'axis end' }, percent(threshold)),
    h('svg:path', { d: line, class: 'rate' }),
    points.map((p, i) =>
      h('svg:circle', { cx: x(i), cy: y(p.rate), r: 4, class: 'dot' }, h('svg:title', {}, `${p.session.day} ${p.session.start}: ${Math.round(p.rate * 100)} %`)),
    ),
  );
  return fill(figure, caption, svg);
}

function table(matrix, stats, name) {
  const below = `below ${percent(stats.threshold)}`;
  const byStudent = new Map(stats.students.map((s) => [s.student, s]));
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Student'),
    h('th', { scope: 'col' }, 'Rate'),
    matrix.sessions.map((s) => h('th', { scope: 'col', class: 'day' }, shortDay(s.day), h('br'), s.start)),
  );
  const rows = matrix.students.map((st) => {
    const figures = byStudent.get(st.student);
    const rate = figures ? figures.attendance_rate : null;
    const under = rate !== null && rate < stats.threshold;
    return h(
      'tr',
      { class: under ? 'under' : null, dataset: { student: st.student } },
      h('th', { scope: 'row' }, st.name),
      // The rate beside the name, where a phone shows it without scrolling the days sideways.
      h('td', { class: 'rate' }, rate === null ? '—' : `${Math.round(rate * 100)} %`, under ? h('span', { class: 'flag' }, ` ${below}`) : null),
      st.marks.map((m) => h('td', { class: 'm ' + (m || 'none') }, m ? h('abbr', { title: WORD[m] }, LETTER[m]) : h('span', { 'aria-label': 'no mark' }, '·'))),
    );
  });
  const under = stats.at_risk.length;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'matrix-title' },
    h('h2', { id: 'matrix-title' }, `Marks of ${name}`),
    h('p', {}, under ? `${under} ${under === 1 ? 'student is' : 'students are'} ${below} (highlighted).` : `Nobody is ${below}.`),
    h('p', { class: 'hint' }, 'P present · L late · A absent · E excused · “·” no mark yet'),
    h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Attendance matrix (scrolls sideways)' }, h('table', { class: 'matrix keep-columns' }, h('thead', {}, head), h('tbody', {}, rows))),
  );
}

/** The statutory register: each pupil's morning and afternoon codes, day by day. */
function statutory(register, name) {
  const days = register.students.length ? register.students[0].days.map((d) => d.day) : [];
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Student'),
    days.map((d) => h('th', { scope: 'col', class: 'day' }, shortDay(d), h('br'), 'AM · PM')),
  );
  const code = (m, half) =>
    m ? h('span', { class: 'code', title: `${half}: ${m.code}` }, m.code) : h('span', { class: 'code none', 'aria-label': `${half}: no mark yet` }, '·');
  const rows = register.students.map((st) =>
    h(
      'tr',
      { dataset: { student: st.student } },
      h('th', { scope: 'row' }, st.name),
      st.days.map((d) => h('td', { class: 'sessions', dataset: { day: d.day } }, code(d.am, 'AM'), ' ', code(d.pm, 'PM'))),
    ),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'statutory-title' },
    h('h2', { id: 'statutory-title' }, `Morning and afternoon sessions of ${name}`),
    h(
      'p',
      { class: 'hint' },
      `The register of record: each pupil's AM and PM mark with its DfE code (/ present in the morning, \\ in the afternoon), made from their lessons; the afternoon starts at ${register.afternoon_from}. “·” no mark yet.`,
    ),
    days.length
      ? h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Morning and afternoon sessions (scrolls sideways)' }, h('table', { class: 'statutory keep-columns' }, h('thead', {}, head), h('tbody', {}, rows)))
      : h('p', { class: 'empty' }, 'No lessons in this range.'),
  );
}

function shortDay(iso) {
  const d = new Date(iso + 'T12:00:00');
  return d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
}
