// Reception (#/reception, every signed-in user; laid out for a tablet on the front desk): sign a
// visitor in (name, organisation, whom they visit, a vehicle's registration) and print their
// badge; see who is on site now and sign them out from the list, or by the badge's code or
// part of their name (several visitors matching are listed to choose from). No photo of a
// visitor is taken. A member of staff signs in or out by their personnel code (the Staff page
// has the list). Pupils leaving during the day are signed out and back in below
// (pupils_out.js).

import * as api from './api.js';
import { announce, dateTime, failed, field, fill, h, heading, time } from './ui.js';
import * as pupilsOut from './pupils_out.js';

export async function render(main) {
  const badge = h('section', { class: 'card badge-card', id: 'visitor-badge', hidden: true, 'aria-labelledby': 'badge-title' });
  const here = h('ul', { class: 'plain visitors', id: 'visitors-on-site' });
  const count = h('p', { class: 'hint', id: 'visitors-count', 'aria-live': 'polite' });
  main.append(
    heading('Reception'),
    h('div', { class: 'reception no-print' }, signInForm(), signOutForm(), staffForm()),
    badge,
    h('section', { class: 'card no-print', 'aria-labelledby': 'here-title' }, h('h2', { id: 'here-title' }, 'Visitors on site'), count, here),
  );
  const pupils = pupilsOut.section();
  main.append(pupils.el);
  let onSite = [];
  await Promise.all([refresh(), pupils.refresh()]);

  async function refresh() {
    const day = await api.get('/visitors');
    const on = day.visitors.filter((v) => v.signed_out_at === null);
    onSite = on;
    count.textContent = `${on.length} ${on.length === 1 ? 'visitor' : 'visitors'} on site`;
    fill(
      here,
      on.length
        ? on.map((v) =>
            h(
              'li',
              { dataset: { badge: v.badge } },
              h('span', { class: 'name' }, v.name),
              h('span', { class: 'hint' }, `${v.organisation ? v.organisation + ' · ' : ''}visiting ${v.visiting} · since ${time(v.signed_in_at)} · badge ${v.badge}`),
              h('button', { type: 'button', class: 'small', 'aria-label': `Sign ${v.name} out`, onclick: () => leave(`/visitors/${api.seg(v.id)}/sign-out`, {}) }, 'Sign out'),
            ),
          )
        : h('li', { class: 'empty' }, 'No visitor is signed in.'),
    );
  }

  function signInForm() {
    const input = (name, attrs = {}) => h('input', { name, autocomplete: 'off', ...attrs });
    const name = input('name', { required: true, maxlength: 200 });
    const organisation = input('organisation', { maxlength: 200 });
    const visiting = input('visiting', { required: true, maxlength: 200 });
    const vehicle = input('vehicle', { maxlength: 16, autocapitalize: 'characters' });
    return h(
      'form',
      {
        class: 'card',
        id: 'visitor-sign-in',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const v = await api.post('/visitors', {
              name: name.value,
              organisation: organisation.value || null,
              visiting: visiting.value,
              vehicle: vehicle.value || null,
            });
            e.target.reset();
            showBadge(v);
            announce(`${v.name} signed in: badge ${v.badge}.`);
            await refresh();
          } catch (err) {
            failed('Could not sign the visitor in', err);
          }
        },
      },
      h('h2', {}, 'Sign a visitor in'),
      field('Name', name),
      field('Organisation (optional)', organisation),
      field('Visiting', visiting, 'Whom they came to see.'),
      field('Vehicle registration (optional)', vehicle),
      h('button', { type: 'submit', class: 'primary big' }, 'Sign in'),
    );
  }

  function signOutForm() {
    const who = h('input', { name: 'leaving', autocomplete: 'off', required: true, maxlength: 200 });
    const choices = h('ul', { class: 'plain choices', id: 'sign-out-choices', 'aria-live': 'polite' });
    /** The visitors on site whose name has every word of `text` at the start of one of its words. */
    const matching = (text) => {
      const words = text.toLowerCase().split(/\s+/).filter(Boolean);
      return onSite.filter((v) => {
        const parts = v.name.toLowerCase().split(/[\s-]+/);
        return words.every((w) => parts.some((p) => p.startsWith(w)));
      });
    };
    return h(
      'form',
      {
        class: 'card',
        id: 'visitor-sign-out',
        onsubmit: async (e) => {
          e.preventDefault();
          const text = who.value.trim();
          // Six letters and digits may be a badge's code; else, or when no badge has it, a name.
          fill(choices);
          let gone = false;
          if (/^[A-Za-z0-9]{6}$/.test(text)) gone = await leave('/visitors/sign-out', { badge: text }, { quietly: true });
          if (!gone) {
            const found = matching(text);
            if (found.length > 1) {
              announce(`${found.length} visitors match “${text}”: choose one.`);
              return fill(choices, found.map((v) => h('li', {}, h('button', { type: 'button', onclick: () => chosen(v, e.target) }, `Sign out ${v.name} (${v.organisation || 'visiting ' + v.visiting}, badge ${v.badge})`))));
            }
            gone = found.length === 1
              ? await leave(`/visitors/${api.seg(found[0].id)}/sign-out`, {})
              : await leave('/visitors/sign-out', { name: text });
          }
          if (gone) e.target.reset();
        },
      },
      h('h2', {}, 'Sign a visitor out'),
      field('Badge code or name', who, 'The code on their badge, or part of their name.'),
      h('button', { type: 'submit', class: 'big' }, 'Sign out'),
      choices,
    );

    async function chosen(v, form) {
      if (await leave(`/visitors/${api.seg(v.id)}/sign-out`, {})) {
        fill(choices);
        form.reset();
      }
    }
  }

  /** A member of staff by their personnel code: the button pressed says in or out. */
  function staffForm() {
    const code = h('input', { name: 'code', autocomplete: 'off', required: true, maxlength: 32, autocapitalize: 'characters' });
    return h(
      'form',
      {
        class: 'card',
        id: 'staff-sign',
        onsubmit: async (e) => {
          e.preventDefault();
          const way = e.submitter && e.submitter.value === 'out' ? 'out' : 'in';
          try {
            const entry = await api.post(`/staff/sign-${way}`, { code: code.value.trim() });
            announce(`${entry.name} signed ${way} at ${time(entry.at)}.`);
            e.target.reset();
          } catch (err) {
            failed(`Could not sign ${way}`, err);
          }
        },
      },
      h('h2', {}, 'Staff'),
      field('Personnel code', code, 'The code on their staff card, in any case.'),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary big', value: 'in' }, 'Sign in'),
        h('button', { type: 'submit', class: 'big', value: 'out' }, 'Sign out'),
      ),
    );
  }

  /** Signs a visitor out; `quietly`, a visitor not found is no error (the caller tries again). */
  async function leave(path, body, { quietly = false } = {}) {
    try {
      const v = await api.post(path, body);
      announce(`${v.name} signed out at ${time(v.signed_out_at)}.`);
      badge.hidden = true;
      await refresh();
      return true;
    } catch (err) {
      if (!(quietly && err.status === 404)) failed('Could not sign the visitor out', err);
      return false;
    }
  }

  function showBadge(v) {
    fill(
      badge,
      h('h2', { id: 'badge-title', class: 'visually-hidden' }, 'Visitor badge'),
      h('p', { class: 'badge-kind' }, 'VISITOR'),
      h('p', { class: 'badge-name' }, v.name),
      v.organisation ? h('p', {}, v.organisation) : null,
      h('p', {}, `Visiting ${v.visiting}`),
      h('p', {}, `In at ${dateTime(v.signed_in_at)}`),
      h('p', { class: 'badge-code' }, 'Badge ', h('strong', {}, v.badge)),
      h('button', { type: 'button', class: 'no-print', onclick: () => window.print() }, 'Print badge'),
    );
    badge.hidden = false;
  }
}
