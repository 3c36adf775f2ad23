// Analytics (#/analytics, every signed-in user): attendance month by month over the classes
// the user sees (an admin: the whole school; a teacher: their own classes at a glance). The
// figures of the range, the classes at risk (rate below the school's threshold) lowest first,
// a chart of each month's rate (all the classes together, and each class), the table behind
// it, and a CSV download. Built with h() and SVG elements; nothing from a CDN.

import * as api from './api.js';
import { download, failed, field, fill, h, heading, isoDate } from './ui.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const percent = (rate) => (rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)} %`);
const monthName = (ym) => `${MONTHS[Number(ym.slice(5, 7)) - 1]} ${ym.slice(0, 4)}`;

export async function render(main, { me }) {
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const out = h('div', { id: 'analytics', 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
  const form = h(
    'form',
    { class: 'card filters', onsubmit: (e) => (e.preventDefault(), show()) },
    field('From', from),
    field('To', to, 'At most a year apart'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show'), h('button', { type: 'button', id: 'analytics-csv', onclick: csv }, 'Download CSV')),
  );
  const scope = me.role === 'admin' ? 'every class in the school' : 'your classes';
  main.append(heading('Analytics'), h('p', { class: 'hint' }, `Attendance month by month over ${scope}.`), form, out);

  function query() {
    return from.value && to.value ? `?from=${from.value}&to=${to.value}` : '';
  }

  async function show() {
    try {
      const a = await api.get('/reports/analytics' + query());
      from.value = a.from;
      to.value = a.to;
      fill(out, figures(a), atRisk(a), chart(a), table(a));
    } catch (e) {
      fill(out, h('p', { class: 'error' }, `Could not load the analytics: ${e.message}`));
      failed('Could not load the analytics', e);
    }
  }

  async function csv() {
    try {
      const { blob, filename } = await api.blob('/reports/analytics' + (query() || `?from=${from.value || isoDate(new Date())}&to=${to.value || isoDate(new Date())}`) + '&format=csv');
      download(blob, filename || 'analytics.csv');
    } catch (e) {
      failed('Could not download the CSV', e);
    }
  }

  await show();
}

function figures(a) {
  const o = a.overall;
  const tile = (label, value) => h('div', { class: 'figure' }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
  return h(
    'section',
    { class: 'card range-figures', 'aria-label': 'The range in figures' },
    tile('attendance', percent(o.attendance_rate)),
    tile('lessons attended', String(o.present + o.late)),
    tile('of which late', String(o.late)),
    tile('unauthorised absences', String(o.absent)),
    tile('authorised absences', String(o.excused)),
    tile(a.at_risk.length === 1 ? 'class at risk' : 'classes at risk', String(a.at_risk.length)),
  );
}

function atRisk(a) {
  const byId = new Map(a.classes.map((c) => [c.class_id, c]));
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'risk-title' },
    h('h2', { id: 'risk-title' }, `Classes below ${percent(a.threshold)}`),
    a.at_risk.length
      ? h('ol', { class: 'plain at-risk-classes' }, a.at_risk.map((id) => byId.get(id)).map((c) => h('li', { dataset: { class: c.class_id } }, h('strong', {}, c.class_name), ` ${percent(c.overall.attendance_rate)}`, h('span', { class: 'detail' }, ` (${c.overall.absent} unauthorised absences)`))))
      : h('p', { class: 'empty' }, 'None: every class is at or above the threshold.'),
  );
}

/** Each month's rate: all the classes together (thick), each class (thin), the threshold. */
function chart(a) {
  const figure = h('figure', { class: 'card chart' }, h('figcaption', {}, 'Attendance rate by month'));
  const months = a.months.map((m) => m.month);
  if (!months.some((m, i) => a.months[i].attendance_rate !== null)) return fill(figure, figure.firstChild, h('p', { class: 'empty' }, 'No marks in this range yet.'));
  const [w, ht, pad] = [640, 240, 40];
  const x = (i) => pad + (months.length === 1 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (months.length - 1));
  const y = (r) => ht - pad - r * (ht - 2 * pad);
  const path = (series) => {
    const points = series.map((m) => [months.indexOf(m.month), m.attendance_rate]).filter(([, r]) => r !== null);
    return points.map(([i, r], k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(r).toFixed(1)}`).join(' ');
  };
  const school = a.months;
  const svg = h(
    'svg:svg',
    {
      viewBox: `0 0 ${w} ${ht}`,
      role: 'img',
      class: 'rate-chart months',
      'aria-label': `Attendance by month, ${monthName(months[0])} to ${monthName(months[months.length - 1])}: ${school.map((m) => `${monthName(m.month)} ${percent(m.attendance_rate)}`).join(', ')}`,
    },
    [0, 0.5, 1].map((r) => [h('svg:line', { x1: pad, x2: w - pad, y1: y(r), y2: y(r), class: 'grid' }), h('svg:text', { x: 2, y: y(r) + 4, class: 'axis' }, `${r * 100}%`)]),
    h('svg:line', { x1: pad, x2: w - pad, y1: y(a.threshold), y2: y(a.threshold), class: 'concern' }),
    months.map((m, i) => h('svg:text', { x: x(i), y: ht - 12, class: 'axis middle' }, MONTHS[Number(m.slice(5, 7)) - 1])),
    a.classes.map((c, k) => h('svg:path', { d: path(c.months), class: `class-line c${k % 6}${c.at_risk ? ' risky' : ''}` }, h('svg:title', {}, c.class_name))),
    h('svg:path', { d: path(school), class: 'rate' }),
    school.map((m, i) => (m.attendance_rate === null ? null : h('svg:circle', { cx: x(i), cy: y(m.attendance_rate), r: 4, class: 'dot' }, h('svg:title', {}, `${monthName(m.month)}: ${percent(m.attendance_rate)}`)))),
  );
  const legend = h(
    'ul',
    { class: 'plain legend' },
    h('li', {}, h('span', { class: 'swatch all' }), 'All the classes'),
    a.classes.map((c, k) => h('li', {}, h('span', { class: `swatch c${k % 6}` }), c.class_name, c.at_risk ? ' (at risk)' : '')),
  );
  return fill(figure, figure.firstChild, svg, legend);
}

function table(a) {
  const months = a.months.map((m) => m.month);
  const cell = (counts, risky) => h('td', { class: risky ? 'under' : null }, percent(counts ? counts.attendance_rate : null));
  const below = (counts) => counts && counts.attendance_rate !== null && counts.attendance_rate < a.threshold;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'months-title' },
    h('h2', { id: 'months-title' }, 'Month by month'),
    h(
      'div',
      { class: 'scroll', tabindex: 0, role: 'region', 'aria-labelledby': 'months-title' },
      h(
        'table',
        { class: 'analytics keep-columns' },
        h('caption', { class: 'visually-hidden' }, 'Attendance rate of each class by month'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Class'), months.map((m) => h('th', { scope: 'col' }, monthName(m))), h('th', { scope: 'col' }, 'Range'))),
        h(
          'tbody',
          {},
          a.classes.map((c) => {
            const by = new Map(c.months.map((m) => [m.month, m]));
            return h(
              'tr',
              { dataset: { class: c.class_id, risky: String(c.at_risk) } },
              h('th', { scope: 'row' }, c.class_name, c.at_risk ? h('span', { class: 'tag unknown' }, 'at risk') : null),
              months.map((m) => cell(by.get(m), below(by.get(m)))),
              cell(c.overall, c.at_risk),
            );
          }),
          h('tr', { class: 'total' }, h('th', { scope: 'row' }, 'All'), a.months.map((m) => cell(m, below(m))), cell(a.overall, below(a.overall))),
        ),
      ),
    ),
  );
}
