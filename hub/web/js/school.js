// School report (admins): the school-wide attendance rate day by day over a date range, as a
// line and a table, and the students below the school's at-risk threshold class by class,
// each with its CSV download. Everything is built with h(); no data goes through innerHTML.

import * as api from './api.js';
import { announce, download, failed, field, fill, h, heading, isoDate } from './ui.js';

export async function render(main) {
  const today = (await api.get('/today')).date;
  const start = new Date(today + 'T12:00:00');
  start.setDate(start.getDate() - 27);
  const from = h('input', { type: 'date', name: 'from', value: isoDate(start), required: true });
  const to = h('input', { type: 'date', name: 'to', value: today, required: true });
  const trendCsv = h('button', { type: 'button', id: 'trend-csv', onclick: () => csv('trend') }, 'Download trend CSV');
  const riskCsv = h('button', { type: 'button', id: 'at-risk-csv', onclick: () => csv('at-risk') }, 'Download at-risk CSV');
  const out = h('div', { id: 'school-report' });
  const form = h(
    'form',
    { class: 'card filters', onsubmit: show },
    field('From', from),
    field('To', to),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show'), trendCsv, riskCsv),
  );
  main.append(heading('School report'), form, out);
  await show();

  function query(report) {
    return `/reports/school/${report}?from=${from.value}&to=${to.value}`;
  }

  async function show(event) {
    if (event) event.preventDefault();
    try {
      const [trend, risk] = await Promise.all([api.get(query('trend')), api.get(query('at-risk'))]);
      fill(out, chart(trend.days), trendTable(trend.days), atRisk(risk));
    } catch (e) {
      failed('Could not load the report', e);
    }
  }

  async function csv(report) {
    try {
      const { blob, filename } = await api.blob(query(report) + '&format=csv');
      download(blob, filename || `${report}.csv`);
      announce(`Downloaded ${filename || 'the CSV file'}.`);
    } catch (e) {
      failed('Could not download the CSV', e);
    }
  }
}

function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)} %`;
}

function chart(days) {
  const points = days.filter((d) => d.attendance_rate !== null);
  const figure = h('figure', { class: 'card chart' });
  const caption = h('figcaption', {}, 'School attendance rate, day by day');
  if (!points.length) return fill(figure, caption, h('p', { class: 'empty' }, 'No marks in this range yet.'));
  const [w, ht, pad] = [600, 220, 32];
  const x = (i) => pad + (points.length === 1 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (points.length - 1));
  const y = (r) => ht - pad - r * (ht - 2 * pad);
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.attendance_rate).toFixed(1)}`).join(' ');
  const svg = h(
    'svg:svg',
    { viewBox: `0 0 ${w} ${ht}`, role: 'img', 'aria-label': `Attendance rate over ${points.length} school days`, class: 'rate-chart' },
    [0, 0.5, 1].map((r) => [
      h('svg:line', { x1: pad, x2: w - pad, y1: y(r), y2: y(r), class: 'grid' }),
      h('svg:text', { x: 2, y: y(r) + 4, class: 'axis' }, `${r * 100}%`),
    ]),
    h('svg:path', { d: line, class: 'rate' }),
    points.map((p, i) => h('svg:circle', { cx: x(i), cy: y(p.attendance_rate), r: 4, class: 'dot' }, h('svg:title', {}, `${p.day}: ${percent(p.attendance_rate)}`))),
  );
  return fill(figure, caption, svg);
}

const COLUMNS = [
  ['expected', 'Expected'],
  ['present', 'Present'],
  ['late', 'Late'],
  ['excused', 'Authorised absence'],
  ['absent', 'Unauthorised absence'],
  ['not_required', 'Not required'],
];

function trendTable(days) {
  const head = h('tr', {}, h('th', { scope: 'col' }, 'Day'), COLUMNS.map(([, t]) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, 'Rate'));
  const rows = days.map((d) =>
    h('tr', { dataset: { day: d.day } }, h('th', { scope: 'row' }, d.day), COLUMNS.map(([k]) => h('td', {}, d[k])), h('td', { class: 'rate' }, percent(d.attendance_rate))),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'trend-title' },
    h('h2', { id: 'trend-title' }, 'Day by day'),
    days.length
      ? h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Daily figures' }, h('table', { class: 'trend' }, h('thead', {}, head), h('tbody', {}, rows)))
      : h('p', { class: 'empty' }, 'No school days in this range.'),
  );
}

function atRisk(risk) {
  const below = `below ${percent(risk.threshold)}`;
  const classes = risk.classes.map((c) =>
    h(
      'div',
      { class: 'at-risk-class', dataset: { class: c.class_id } },
      h('h3', {}, c.class_name),
      c.students.length
        ? h(
            'table',
            { class: 'at-risk' },
            h('thead', {}, h('tr', {}, ['Student', 'Sessions', 'Rate', 'Absent', 'Excused'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              c.students.map((s) =>
                h(
                  'tr',
                  { dataset: { student: s.student } },
                  h('th', { scope: 'row' }, s.name),
                  h('td', {}, s.present + s.late + s.absent),
                  h('td', { class: 'rate' }, percent(s.attendance_rate)),
                  h('td', {}, s.absent),
                  h('td', {}, s.excused),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, `Nobody is ${below}.`),
    ),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'risk-title' },
    h('h2', { id: 'risk-title' }, `At risk: attendance ${below}`),
    h('p', { class: 'hint' }, `${risk.from} to ${risk.to}. The threshold is the school's setting (reports.at_risk_below).`),
    classes.length ? classes : h('p', { class: 'empty' }, 'No classes yet.'),
  );
}
