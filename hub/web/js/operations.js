// Deliveries and backups (admins): what the hub does unattended, and whether it worked.
// Webhook deliveries with their attempts, failures and next try; the e-mail digests, sent or
// not, with the relay's last error; the scheduled backups: where, how often, the last, when
// the next is due (said loudly when it is overdue) and each one's size. Refreshed every 30 s.

import * as api from './api.js';
import { dateTime, fill, h, heading, poll } from './ui.js';

const REFRESH_MS = 30000;

export function render(main) {
  const hooks = h('section', { class: 'card', 'aria-labelledby': 'ops-webhooks' });
  const mail = h('section', { class: 'card', 'aria-labelledby': 'ops-email' });
  const backups = h('section', { class: 'card', 'aria-labelledby': 'ops-backups' });
  main.append(heading('Deliveries and backups'), hooks, mail, backups);

  async function refresh() {
    const [d, e, b] = await Promise.all([api.get('/webhooks/deliveries?limit=50'), api.get('/email/digests'), api.get('/backups')]);
    fill(hooks, webhooks(d));
    fill(mail, digests(e));
    fill(backups, backupList(b));
  }
  return poll(REFRESH_MS, refresh);
}

function table(label, headers, rows) {
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': label },
    h('table', { class: 'ops' }, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)),
  );
}

function webhooks({ receivers, deliveries }) {
  const failed = deliveries.filter((d) => d.standing === 'failed').length;
  const waiting = deliveries.filter((d) => d.standing === 'waiting').length;
  return [
    h('h2', { id: 'ops-webhooks' }, 'Webhook deliveries'),
    h('p', { class: failed ? 'error' : 'hint' }, receivers
      ? `${receivers} ${receivers === 1 ? 'receiver' : 'receivers'}; of the last ${deliveries.length} deliveries ${failed} failed and ${waiting} wait for a retry.`
      : 'No webhook receivers are set up ([[webhooks]] in hub.toml).'),
    deliveries.length
      ? table('Webhook deliveries', ['When', 'Event', 'Receiver', 'State', 'Tries', 'Last error'], deliveries.map((d) =>
          h('tr', { dataset: { standing: d.standing } },
            h('td', {}, dateTime(d.created_at)),
            h('td', {}, h('code', {}, d.event)),
            h('td', { class: 'url' }, d.url),
            h('td', {}, standing(d)),
            h('td', {}, String(d.attempts)),
            h('td', {}, d.last_error || '')),
        ))
      : null,
  ];
}

function standing(d) {
  if (d.standing === 'delivered') return h('span', { class: 'mark present' }, `delivered ${dateTime(d.delivered_at)}`);
  if (d.standing === 'failed') return h('span', { class: 'mark absent' }, `gave up ${dateTime(d.failed_at)}`);
  return h('span', { class: 'mark waiting' }, `next try ${dateTime(d.next_at)}`);
}

function digests({ configured, digests: rows }) {
  return [
    h('h2', { id: 'ops-email' }, 'E-mail digests'),
    configured ? null : h('p', { class: 'hint' }, 'E-mail is not set up ([email] in hub.toml): no digest is sent.'),
    rows.length
      ? table('E-mail digests', ['Day', 'To', 'State', 'Tries', 'Last error'], rows.map((r) =>
          h('tr', { dataset: { status: r.status } },
            h('td', {}, r.day),
            h('td', {}, r.username),
            h('td', {}, r.status),
            h('td', {}, String(r.attempts)),
            h('td', {}, r.last_error || '')),
        ))
      : h('p', { class: 'empty' }, 'No digest has been tried yet.'),
  ];
}

function backupList(b) {
  const title = h('h2', { id: 'ops-backups' }, 'Backups');
  if (!b.configured) {
    return [title, h('p', { class: 'hint' }, b.engine === 'postgres'
      ? 'The database is PostgreSQL: back it up with the database server’s own tools (docs/DISTRICT.md).'
      : 'Scheduled backups are off: set [backup] dir in hub.toml (docs/OPERATIONS.md).')];
  }
  const overdue = b.overdue;
  return [
    title,
    h('p', {}, `Every ${b.every_hours} h into ${b.dir}, the newest ${b.keep} kept (${size(b.total_bytes)} in all).`),
    h('p', { class: overdue ? 'error' : 'hint', role: overdue ? 'alert' : null },
      b.last_at ? `Last ${dateTime(b.last_at)}. ` : 'None taken yet. ',
      overdue ? `The next was due ${dateTime(b.next_at)} and has not been taken: see the hub’s log.` : `Next due ${dateTime(b.next_at)}.`),
    b.backups.length
      ? table('Backups', ['Taken', 'File', 'Size'], b.backups.map((x) => h('tr', {}, h('td', {}, dateTime(x.at)), h('td', {}, h('code', {}, x.file)), h('td', {}, size(x.bytes)))))
      : null,
  ];
}

function size(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}
