// Door units set from the hub (admins, on the Devices page): for one unit or for every unit in
// a room, the settings of its edge.toml a unit takes from the hub — matching thresholds and
// margin, burst, quality gate, interval trigger, lamps. A blank field leaves the setting to the
// room (for a unit) or to the unit's own edge.toml. Each unit checks what it is sent with its
// own rules and says whether it took it; the page shows which version is in force, or why the
// unit refused it (the last good settings stay).

import * as api from './api.js';
import { announce, failed, field, fill, h, select } from './ui.js';

/** What a unit's settings are doing, for its row: nothing until the hub has set any. */
export function settingsState(d) {
  const s = d.settings;
  if (!s || s.version === 0) return null;
  if (s.refused && s.refused.version === s.version) {
    return h('p', { class: 'error', dataset: { settings: 'refused' } }, `Refused settings v${s.version}: ${s.refused.reason}`);
  }
  if (s.in_force === s.version) return h('p', { class: 'hint', dataset: { settings: 'in-force' } }, `Settings v${s.version} in force`);
  const running = s.in_force ? ` (v${s.in_force} in force)` : '';
  return h('p', { class: 'hint', dataset: { settings: 'waiting' } }, `Settings v${s.version} sent, waiting for the unit${running}`);
}

/** The unit's own settings, in a form that opens from its row. */
export function unitSettings(d, saved) {
  const form = h('form', { class: 'unit-settings' }, h('p', {}, 'Loading…'));
  const panel = h('details', { class: 'unit-change' }, h('summary', { 'aria-label': `Settings of ${d.name}` }, 'Settings'), form);
  panel.addEventListener('toggle', async () => {
    if (!panel.open) return;
    try {
      const view = await api.get(`/devices/${api.seg(d.id)}/settings`);
      const inherited = (key) => (key in view.from_room ? `room: ${shown(view.from_room[key])}` : 'edge.toml');
      draw(form, view.settable, view.own, inherited, `Blank: as the room's settings, else the unit's edge.toml.`, async (values) => {
        await api.put(`/devices/${api.seg(d.id)}/settings`, values);
        announce(`Settings sent to ${d.name}.`);
        panel.open = false;
        await saved();
      });
    } catch (e) {
      failed('Could not read the settings', e);
    }
  });
  return panel;
}

/** Settings for every unit in a room, the rooms being those of the units listed. */
export function roomSettingsCard(rooms) {
  const room = select('room', rooms.map((r) => [r, r]), rooms[0]);
  const form = h('form', { class: 'unit-settings' });
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'room-settings-title', id: 'room-settings' },
    h('h2', { id: 'room-settings-title' }, 'Settings for a room'),
    h('p', { class: 'hint' }, 'For every door unit in the room; a unit\'s own settings win over these.'),
    field('Room', room),
    form,
  );
  async function load() {
    if (!room.value) return fill(form, h('p', {}, 'No door units yet.'));
    try {
      const view = await api.get(`/room-settings?room=${encodeURIComponent(room.value)}`);
      draw(form, view.settable, view.settings, () => 'edge.toml', 'Blank: as each unit\'s edge.toml.', async (values) => {
        const r = await api.put(`/room-settings?room=${encodeURIComponent(room.value)}`, values);
        announce(`Settings sent to ${r.units.length} ${r.units.length === 1 ? 'door unit' : 'door units'} in ${room.value}.`);
      });
    } catch (e) {
      failed('Could not read the room\'s settings', e);
    }
  }
  room.addEventListener('change', load);
  load();
  return card;
}

/** Fills `form` with a field per settable key, `values` filled in; `save` gets what is set. */
function draw(form, settable, values, inherited, hint, save) {
  const controls = settable
    .filter((s) => s.key !== 'device.direction')
    .map((s) => [s, control(s, values[s.key], inherited(s.key))]);
  form.onsubmit = async (e) => {
    e.preventDefault();
    const chosen = {};
    for (const [s, c] of controls) {
      const v = read(s, c);
      if (v !== undefined) chosen[s.key] = v;
    }
    try {
      await save(chosen);
    } catch (err) {
      failed('Could not save the settings', err);
    }
  };
  fill(
    form,
    h('p', { class: 'hint' }, hint),
    h('div', { class: 'settings-grid' }, controls.map(([s, c]) => field(meaning(s), c, `In edge.toml: ${s.key}`))),
    h('button', { type: 'submit', class: 'small' }, 'Save and send'),
  );
}

/** A setting named by what it does ("Frames captured per trigger"), not by its key. */
function meaning(s) {
  return s.about.charAt(0).toUpperCase() + s.about.slice(1);
}

function control(s, value, inherited) {
  const name = s.key;
  if (s.kind.type === 'boolean') {
    const current = value === undefined ? '' : String(value);
    return select(name, [['', `As before (${inherited})`], ['true', 'On'], ['false', 'Off']], current);
  }
  const attrs = { name, value: value === undefined ? '' : String(value), placeholder: inherited, autocomplete: 'off' };
  if (s.kind.type === 'number' || s.kind.type === 'integer') {
    Object.assign(attrs, { inputmode: 'decimal', type: 'number', min: s.kind.min, max: s.kind.max, step: s.kind.type === 'integer' ? 1 : 'any' });
  }
  return h('input', attrs);
}

/** The value of one control, typed as the API takes it; `undefined` when blank. */
function read(s, c) {
  const raw = c.value.trim();
  if (raw === '') return undefined;
  switch (s.kind.type) {
    case 'boolean':
      return raw === 'true';
    case 'number':
    case 'integer':
      return Number(raw);
    default:
      return raw;
  }
}

function shown(v) {
  return typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
}
