// Devices (admin): each door unit's state as it last reported it — online or offline, silent
// for too long, last heartbeat, records waiting in its outbox, free disk, the gallery version
// it holds, its software, model and clock — with re-sync, enable/disable, rename, move or
// turn (which way it faces: in, out or both), its settings from the hub (unit_settings.js),
// replace, retire, a one-time set-up code for a unit (typed on it with `rollcall-edge enrol`,
// or read from its QR code), and registering a new unit; settings for a room. Below, the
// records the hub held back (a door unit's clock far off, a student not on the roster), each
// with its reason, for the admin to fix the unit and let the record go.

import * as api from './api.js';
import { ago, announce, confirm, dateTime, face, failed, field, fill, h, heading, poll, select } from './ui.js';
import { roomSettingsCard, settingsState, unitSettings } from './unit_settings.js';

const REFRESH_MS = 10000;

export function render(main) {
  const body = h('tbody', { id: 'devices' });
  const table = h(
    'div',
    { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Door units' },
    h(
      'table',
      { class: 'devices' },
      h('thead', {}, h('tr', {}, ['Door unit', 'State', 'Last heartbeat', 'Outbox', 'Gallery', 'Software', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      body,
    ),
  );
  const held = h('div', { id: 'quarantine' });
  const rooms = h('div', { id: 'rooms' });
  const setup = h('section', { class: 'card', id: 'setup-code', hidden: true, 'aria-live': 'polite' });
  main.append(
    heading('Devices'),
    setup,
    h('section', { class: 'card' }, table),
    rooms,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'held-title' },
      h('h2', { id: 'held-title' }, 'Records held back'),
      h('p', { class: 'hint' }, 'Acknowledged to the door unit but not counted: fix the cause (usually the unit\'s clock), then let them go.'),
      held,
    ),
    registerForm(() => refresh(), (d) => makeCode(d)),
  );
  let names = new Map();

  async function refresh() {
    // Never re-draw under someone's hands: a focused control, or a unit's edit form open.
    const busy = ['BUTTON', 'INPUT', 'SUMMARY'].includes(document.activeElement.tagName);
    if ((main.contains(document.activeElement) && busy) || body.querySelector('details[open]')) return;
    const [devices, records] = await Promise.all([api.get('/devices'), api.get('/quarantine?limit=200')]);
    names = new Map(devices.map((d) => [d.id, d.name]));
    const roomsNow = [...new Set(devices.filter((d) => d.retired_at === null).map((d) => d.room))].sort();
    if (rooms.dataset.rooms !== roomsNow.join('\n')) {
      rooms.dataset.rooms = roomsNow.join('\n');
      fill(rooms, roomSettingsCard(roomsNow));
    }
    fill(body, devices.length ? devices.map(row) : h('tr', {}, h('td', { colspan: 7 }, 'No door units registered yet.')));
    fill(held, records.length ? h('ul', { class: 'held' }, records.map(heldItem)) : h('p', {}, 'None: every record from the door units was believed.'));
  }

  function heldItem(q) {
    const unit = names.get(q.device_id) || 'a removed door unit';
    return h(
      'li',
      { dataset: { record: q.record_id, reason: q.reason } },
      face(q.has_thumbnail ? `/quarantine/${api.seg(q.record_id)}/thumbnail` : null, `Face held from ${unit}`, 'face small'),
      h(
        'div',
        {},
        h('p', {}, h('strong', {}, unit), ` (says ${q.room}), captured ${when(q.captured_at)}, received ${dateTime(q.received_at)}`),
        h('p', { class: 'error' }, q.detail),
        h('button', { type: 'button', class: 'small', onclick: () => dismiss(q, unit) }, 'Let go'),
      ),
    );
  }

  async function dismiss(q, unit) {
    if (!(await confirm(`Delete this record from ${unit}? It will never count.`, 'Delete'))) return;
    try {
      await api.del(`/quarantine/${api.seg(q.record_id)}`);
      announce('Record deleted.');
      document.activeElement.blur();
      await refresh();
    } catch (e) {
      failed('Could not delete the record', e);
    }
  }

  const gigabytes = (bytes) => `${(bytes / 1e9).toFixed(1)} GB`;

  // "12 min", "3 h 5 min", "2 days".
  function duration(ms) {
    const minutes = Math.floor(ms / 60_000);
    if (minutes < 60) return `${minutes} min`;
    if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
    return `${Math.floor(minutes / 1440)} days`;
  }

  // A door unit's clock more than a minute off stamps its records wrongly: say so.
  function clockOff(ms) {
    if (ms === null || Math.abs(ms) < 60_000) return null;
    const minutes = Math.round(Math.abs(ms) / 60_000);
    return `Clock ${minutes} min ${ms < 0 ? 'slow' : 'fast'}`;
  }

  function row(d) {
    const state = d.retired_at !== null ? 'retired' : !d.enabled ? 'disabled' : d.online ? 'online' : 'offline';
    const successor = d.replaced_by && names.get(d.replaced_by);
    return h(
      'tr',
      { dataset: { device: d.id, state } },
      h('th', { scope: 'row' }, d.name, h('br'), h('span', { class: 'hint' }, `${d.room} · ${FACING[d.direction]}`)),
      h(
        'td',
        {},
        h('span', { class: 'state ' + state }, state[0].toUpperCase() + state.slice(1)),
        successor ? h('span', { class: 'hint' }, h('br'), `replaced by ${successor}`) : null,
        d.silent_for_ms !== null ? h('p', { class: 'error alert' }, `Silent for ${duration(d.silent_for_ms)}`) : null,
        d.last_error ? h('p', { class: 'error' }, d.last_error) : null,
        settingsState(d),
      ),
      h('td', {}, h('span', { title: dateTime(d.last_seen_at) }, ago(d.last_seen_at))),
      h('td', {}, d.outbox_depth === null ? '—' : `${d.outbox_depth} waiting`, d.free_disk_bytes === null ? null : h('span', { class: 'hint' }, h('br'), `${gigabytes(d.free_disk_bytes)} free`)),
      h('td', {}, d.gallery_version === null ? '—' : `v${d.gallery_version}`),
      h(
        'td',
        {},
        d.software_version || '—',
        d.protocol_version === null ? null : h('span', { class: 'hint' }, h('br'), `protocol ${d.protocol_version}`),
        d.model ? h('span', { class: 'hint' }, h('br'), d.model) : null,
        clockOff(d.clock_offset_ms) ? h('p', { class: 'error' }, clockOff(d.clock_offset_ms)) : null,
        d.clock_synchronised === false ? h('p', { class: 'error', title: 'The unit cannot reach a time server: the times it records may drift.' }, 'Clock not synchronised') : null,
        d.not_live_last_7_days > 0 ? h('p', { class: 'error', title: 'Faces this unit judged not live (a photo or a phone screen held up to it) in the last 7 days: each is a review card, flagged, never a mark.' }, `${d.not_live_last_7_days} possible ${d.not_live_last_7_days === 1 ? 'photo or screen' : 'photos or screens'} (7 days)`) : null,
        d.unknown_discarded > 0 ? h('span', { class: 'hint', title: 'Faces that matched nobody, dropped as the school’s privacy setting asks: only this count is kept.' }, h('br'), `${d.unknown_discarded} unknown ${d.unknown_discarded === 1 ? 'face' : 'faces'} discarded`) : null,
      ),
      h('td', { class: 'row-actions' }, state === 'retired' ? null : actions(d)),
    );
  }

  function actions(d) {
    const name = h('input', { name: 'name', value: d.name, required: true, autocomplete: 'off' });
    const room = h('input', { name: 'room', value: d.room, required: true, autocomplete: 'off' });
    const direction = directionSelect(d.direction);
    const successor = h('input', { name: 'successor', required: true, autocomplete: 'off', placeholder: `${d.name}-new` });
    return h(
      'div',
      {},
      h('button', { type: 'button', class: 'small', onclick: () => resync(d), 'aria-label': `Re-sync ${d.name}` }, 'Re-sync'),
      d.enabled ? h('button', { type: 'button', class: 'small', onclick: () => makeCode(d), 'aria-label': `Set-up code for ${d.name}` }, 'Set-up code') : null,
      h(
        'button',
        { type: 'button', class: 'small', onclick: () => toggle(d), 'aria-label': `${d.enabled ? 'Disable' : 'Enable'} ${d.name}` },
        d.enabled ? 'Disable' : 'Enable',
      ),
      h(
        'details',
        { class: 'unit-change' },
        h('summary', { 'aria-label': `Rename, move or turn ${d.name}` }, 'Rename, move or turn'),
        h(
          'form',
          { onsubmit: (e) => (e.preventDefault(), change(d, { name: name.value.trim(), room: room.value.trim(), direction: direction.value })) },
          field('Name', name),
          field('Room', room, 'Moving sends the unit the new room\'s gallery at once'),
          field('Faces', direction, DIRECTION_HINT),
          h('button', { type: 'submit', class: 'small' }, 'Save'),
        ),
      ),
      unitSettings(d, refresh),
      h(
        'details',
        { class: 'unit-change' },
        h('summary', { 'aria-label': `Replace ${d.name}` }, 'Replace'),
        h(
          'form',
          { onsubmit: (e) => (e.preventDefault(), replace(d, successor.value.trim())) },
          field('New unit\'s name', successor, `It takes over ${d.room}; ${d.name} is retired`),
          h('button', { type: 'submit', class: 'small' }, 'Replace'),
        ),
      ),
      h('button', { type: 'button', class: 'small danger', onclick: () => retire(d), 'aria-label': `Retire ${d.name}` }, 'Retire'),
    );
  }

  async function change(d, body) {
    try {
      await api.patch(`/devices/${api.seg(d.id)}`, body);
      const turned = body.direction !== d.direction ? ` It now counts ${FACING[body.direction]}.` : '';
      announce((body.room !== d.room ? `${body.name} moved to ${body.room}; its gallery follows.` : `Saved ${body.name}.`) + turned);
      document.activeElement.blur();
      closeForms();
      await refresh();
    } catch (e) {
      failed('Could not change the door unit', e);
    }
  }

  async function retire(d) {
    if (!(await confirm(`Retire ${d.name} for good? It is cut off at once and can never log in again; its records stay.`, 'Retire'))) return;
    try {
      await api.post(`/devices/${api.seg(d.id)}/retire`);
      announce(`${d.name} retired.`);
      document.activeElement.blur();
      await refresh();
    } catch (e) {
      failed('Could not retire the door unit', e);
    }
  }

  async function replace(d, name) {
    try {
      const r = await api.post(`/devices/${api.seg(d.id)}/replace`, { name });
      announce(`${name} takes over ${d.room}; ${d.name} is retired.`);
      document.activeElement.blur();
      closeForms();
      await refresh();
      if (r.provisioning_code) showCode(r.provisioning_code);
    } catch (e) {
      failed('Could not replace the door unit', e);
    }
  }

  function closeForms() {
    for (const open of body.querySelectorAll('details[open]')) open.removeAttribute('open');
  }

  async function resync(d) {
    try {
      const r = await api.post(`/devices/${api.seg(d.id)}/resync`);
      announce(r.queued ? `${d.name} will fetch the whole gallery again.` : `Could not reach the broker: ${d.name} was not told.`, r.queued ? 'ok' : 'error');
    } catch (e) {
      failed('Re-sync failed', e);
    }
  }

  // A one-time code for the unit: the command to type on it, and the same as a QR code.
  async function makeCode(d) {
    try {
      showCode(await api.post(`/devices/${api.seg(d.id)}/provisioning-code`));
    } catch (e) {
      failed('Could not make a set-up code', e);
    }
  }

  function showCode(r) {
    const qr = URL.createObjectURL(new Blob([r.qr_svg], { type: 'image/svg+xml' }));
    setup.hidden = false;
    fill(
      setup,
      h('h2', {}, `Set-up code for ${r.device_name}`),
      h('div', { class: 'setup-code' },
        h('img', { src: qr, alt: `QR code of the set-up command for ${r.device_name}`, width: 200, height: 200 }),
        h('div', {},
          h('p', { class: 'code', dataset: { code: r.code } }, r.code),
          h('p', {}, `Works once, until ${dateTime(r.expires_at)}. On the door unit, type:`),
          h('pre', {}, h('code', {}, r.command)),
          h('p', { class: 'hint' }, 'It fetches the unit\'s settings and a new password from this hub, then starts it (docs/PI.md). A newer code for the same unit replaces this one.'),
          h('button', { type: 'button', class: 'small', onclick: () => { URL.revokeObjectURL(qr); setup.hidden = true; fill(setup); } }, 'Done'),
        ),
      ),
    );
    setup.scrollIntoView({ block: 'nearest' });
  }

  async function toggle(d) {
    try {
      await api.post(`/devices/${api.seg(d.id)}/${d.enabled ? 'disable' : 'enable'}`);
      announce(`${d.name} ${d.enabled ? 'disabled' : 'enabled'}.`);
      document.activeElement.blur();
      await refresh();
    } catch (e) {
      failed('Could not change the device', e);
    }
  }

  return poll(REFRESH_MS, refresh);
}

/** A door unit's capture time, which may be absurd (that can be why it is held). */
function when(ms) {
  return Number.isFinite(new Date(ms).getTime()) ? dateTime(ms) : `at ${ms} ms (no real date)`;
}

/** What each direction means, as the page says it. */
const FACING = { in: 'people coming in', out: 'people leaving', both: 'both ways' };
const DIRECTION_HINT = 'In: an entrance (arrivals). Out: an exit (a student leaving during a lesson is marked as leaving early). Both: a classroom door. Tell the unit too (direction in its edge.toml).';

function directionSelect(value) {
  return select('direction', [['both', 'Both ways (a classroom door)'], ['in', 'In (an entrance)'], ['out', 'Out (an exit)']], value);
}

function registerForm(refresh, makeCode) {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const room = h('input', { name: 'room', required: true, autocomplete: 'off' });
  const direction = directionSelect('both');
  const secret = h('output', { class: 'secret', 'aria-live': 'polite' });
  return h(
    'form',
    {
      class: 'card grid',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api.post('/devices', { name: name.value.trim(), room: room.value.trim(), direction: direction.value });
          fill(
            secret,
            h('p', {}, 'Registered: its set-up code is at the top of the page. To set the unit up by hand instead, copy these now, they are shown only once:'),
            h('dl', {}, h('dt', {}, 'Device id'), h('dd', {}, h('code', {}, r.device.id)), h('dt', {}, 'MQTT password'), h('dd', {}, h('code', {}, r.mqtt_password))),
          );
          name.value = room.value = '';
          direction.value = 'both';
          document.activeElement.blur();
          await refresh();
          await makeCode(r.device);
        } catch (err) {
          failed('Could not register the device', err);
        }
      },
    },
    h('h2', {}, 'Register a door unit'),
    field('Name', name, 'For example door-lab3'),
    field('Room', room, 'Exactly as in the timetable, or the entrance\'s name'),
    field('Faces', direction, DIRECTION_HINT),
    h('button', { type: 'submit', class: 'primary' }, 'Register'),
    secret,
  );
}
