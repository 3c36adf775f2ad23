// The MIS (admins): the register written back to the school's management information system.
// Which MIS, when it last took a write, how many days wait, the days it is refusing for now
// (tried again by themselves, with the MIS's own words) and the days it refused for good (each
// with why, and "Write again" once the cause is fixed); Try the connection; and the code table
// that turns each of Rollcall's codes into the MIS's; and what the nightly comparison found,
// each difference settled by writing Rollcall's marks again or taking the MIS's into the
// register. The lesson registers' marks have their own card: counts, those not taken yet or
// refused, and a class's MIS reference set where it is missing. Refreshed every 30 s.

import * as api from './api.js';
import { announce, byWhom, confirm, dateTime, download, failed, fill, h, heading, poll } from './ui.js';

const REFRESH_MS = 30000;

export function render(main) {
  const state = h('section', { class: 'card', 'aria-labelledby': 'mis-state' });
  const failing = h('section', { class: 'card', 'aria-labelledby': 'mis-failing' });
  const refused = h('section', { class: 'card', 'aria-labelledby': 'mis-refused' });
  const lessons = h('section', { class: 'card', 'aria-labelledby': 'mis-lessons' });
  const codes = h('section', { class: 'card', 'aria-labelledby': 'mis-codes' });
  const compared = h('section', { class: 'card', 'aria-labelledby': 'mis-compared' });
  main.append(heading('The MIS'), state, failing, refused, lessons, compared, codes);

  async function refresh() {
    const mis = await api.get('/mis');
    fill(state, status(mis));
    fill(failing, failingList(mis.failing));
    fill(refused, refusedList(mis.refused, refresh));
    fill(lessons, mis.connector && mis.lessons_on ? lessonList(mis.lessons, refresh) : []);
    lessons.hidden = !(mis.connector && mis.lessons_on);
    fill(compared, mis.connector ? differenceList(await api.get('/mis/differences'), refresh) : []);
    if (mis.connector && !codes.dataset.shown) {
      codes.dataset.shown = 'true';
      await codeTable(codes);
    } else if (!mis.connector) {
      fill(codes, h('h2', { id: 'mis-codes' }, 'Code table'), h('p', { class: 'hint' }, 'Set up a connector first.'));
    }
  }
  return poll(REFRESH_MS, refresh);
}

function status(mis) {
  const title = h('h2', { id: 'mis-state' }, 'Write-back');
  if (!mis.connector) {
    return [title, h('p', { class: 'hint' }, 'Write-back is not set up: add [mis.wonde] or [mis.edfi] to hub.toml (docs/MIS.md).')];
  }
  const c = mis.counts;
  const answer = h('p', { class: 'try-answer', 'aria-live': 'polite' });
  const tryIt = async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    answer.className = 'try-answer';
    answer.textContent = 'Asking the MIS…';
    try {
      const r = await api.post('/mis/try', {});
      answer.className = r.ok ? 'try-answer ok' : 'try-answer error';
      answer.textContent = r.ok ? r.said : `It did not work: ${r.said}`;
    } catch (err) {
      failed('Could not try the connection', err);
    } finally {
      button.disabled = false;
    }
  };
  const unmapped = mis.unmapped.length
    ? h('p', { class: 'error unmapped' }, `Codes with no MIS code yet: ${mis.unmapped.join(' ')}. Days with them are refused until the code table maps them.`)
    : null;
  return [
    title,
    h(
      'dl',
      { class: 'details' },
      h('dt', {}, 'MIS'),
      h('dd', { class: 'connector' }, mis.connector),
      h('dt', {}, 'Last write it took'),
      h('dd', { class: 'last-written' }, c.last_written_at ? dateTime(c.last_written_at) : 'none yet'),
      h('dt', {}, 'Days written'),
      h('dd', { class: 'written' }, String(c.written)),
      h('dt', {}, 'Waiting to be written'),
      h('dd', { class: 'pending' }, String(c.pending)),
      h('dt', {}, 'Refused'),
      h('dd', { class: 'refused' }, String(c.refused)),
    ),
    h('p', { class: 'hint' }, `The last ${mis.days_back} days are kept in step: a mark is written when its register closes and again when it is amended.`),
    unmapped,
    h('button', { type: 'button', class: 'primary', id: 'try-connection', onclick: tryIt }, 'Try the connection'),
    answer,
  ];
}

function marks(d) {
  return `${d.am ?? '–'} / ${d.pm ?? '–'}`;
}

function table(label, headers, rows) {
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': label },
    h('table', { class: 'ops mis' }, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)),
  );
}

function failingList(days) {
  return [
    h('h2', { id: 'mis-failing' }, 'Not taken yet'),
    days.length
      ? [
          h('p', { class: 'hint' }, 'The MIS did not take these; they are tried again by themselves, waiting longer each time (at most an hour).'),
          table('Days not taken yet', ['Day', 'Pupil', 'AM / PM', 'Tries', 'Next try', 'What the MIS said'], days.map((d) =>
            h('tr', { dataset: { student: d.student, day: d.day } },
              h('td', {}, d.day),
              h('td', {}, d.name),
              h('td', {}, h('code', {}, marks(d))),
              h('td', {}, String(d.tries)),
              h('td', {}, dateTime(d.next_try_at)),
              h('td', { class: 'said' }, d.last_error || '')),
          )),
        ]
      : h('p', { class: 'empty' }, 'Nothing is waiting on the MIS.'),
  ];
}

function refusedList(days, refresh) {
  const again = (d) => async () => {
    try {
      await api.post(`/mis/days/${d.student}/${d.day}/again`, {});
      announce(`${d.name}'s ${d.day} will be written again.`);
      await refresh();
    } catch (e) {
      failed('Could not write it again', e);
    }
  };
  return [
    h('h2', { id: 'mis-refused' }, 'Refused'),
    days.length
      ? [
          h('p', { class: 'hint' }, 'These are not tried again until the cause is fixed: give the pupil their MIS reference, map the code, or ask the MIS why, then write the day again.'),
          table('Days refused', ['Day', 'Pupil', 'AM / PM', 'Why', ''], days.map((d) =>
            h('tr', { dataset: { student: d.student, day: d.day } },
              h('td', {}, d.day),
              h('td', {}, d.name),
              h('td', {}, h('code', {}, marks(d))),
              h('td', { class: 'said' }, d.last_error || ''),
              h('td', {}, h('button', { type: 'button', class: 'again', onclick: again(d), 'aria-label': `Write ${d.name}'s ${d.day} again` }, 'Write again'))),
          )),
        ]
      : h('p', { class: 'empty' }, 'The MIS has refused nothing.'),
  ];
}

function clock(minute) {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

function lessonList({ counts, failing, refused }, refresh) {
  const again = (l) => async () => {
    try {
      await api.post(`/mis/lessons/${l.slot}/${l.day}/${l.student}/again`, {});
      announce(`${l.name}'s mark in ${l.class_name} on ${l.day} will be written again.`);
      await refresh();
    } catch (e) {
      failed('Could not write it again', e);
    }
  };
  // One form per class the MIS cannot be told about: its reference is the MIS's id of it.
  const classes = new Map(refused.filter((l) => !l.class_ref).map((l) => [l.class, l.class_name]));
  const referenceForm = ([id, name]) => {
    const input = h('input', { type: 'text', id: `class-ref-${id}`, required: true, maxlength: 100, autocomplete: 'off' });
    const submit = async (e) => {
      e.preventDefault();
      try {
        const r = await api.put(`/classes/${id}/reference`, { reference: input.value.trim() });
        announce(`${name}'s MIS reference is set; ${r.written_again} ${r.written_again === 1 ? 'mark' : 'marks'} will be written again.`);
        await refresh();
      } catch (err) {
        failed("Could not set the class's MIS reference", err);
      }
    };
    return h('form', { class: 'class-reference', onsubmit: submit },
      h('label', { for: `class-ref-${id}` }, `${name}'s id in the MIS`),
      input,
      h('button', { type: 'submit' }, 'Set'));
  };
  const row = (l, last) =>
    h('tr', { dataset: { student: l.student, day: l.day, slot: l.slot } },
      h('td', {}, l.day),
      h('td', {}, `${l.class_name} ${clock(l.start_minute)}`),
      h('td', {}, l.name),
      h('td', {}, h('code', {}, l.code)),
      h('td', { class: 'said' }, l.last_error || ''),
      last(l));
  const retried = (l) => h('td', {}, dateTime(l.next_try_at));
  const button = (l) => h('td', {}, h('button', { type: 'button', class: 'again', onclick: again(l), 'aria-label': `Write ${l.name}'s mark in ${l.class_name} on ${l.day} again` }, 'Write again'));
  return [
    h('h2', { id: 'mis-lessons' }, 'Lesson registers'),
    h('p', { class: 'lesson-counts' }, `${counts.written} lesson marks written, ${counts.pending} waiting, ${counts.refused} refused.`),
    h('p', { class: 'hint' }, "Each pupil's mark in each lesson goes to the MIS's own lesson, found by the class's id in the MIS and the lesson's time in the MIS's timetable."),
    [...classes].map(referenceForm),
    failing.length ? table('Lesson marks not taken yet', ['Day', 'Lesson', 'Pupil', 'Code', 'What the MIS said', 'Next try'], failing.map((l) => row(l, retried))) : null,
    refused.length
      ? table('Lesson marks refused', ['Day', 'Lesson', 'Pupil', 'Code', 'Why', ''], refused.map((l) => row(l, button)))
      : h('p', { class: 'empty' }, 'The MIS has refused no lesson mark.'),
  ];
}

function differenceList({ from, to, differences }, refresh) {
  const settle = (d, how) => async () => {
    const question = how === 'ours'
      ? `Write Rollcall's marks for ${d.name} on ${d.day} to the MIS again?`
      : `Take the MIS's marks for ${d.name} on ${d.day} into Rollcall's register? The lessons they were made from are amended.`;
    if (!(await confirm(question, how === 'ours' ? 'Write ours again' : "Take the MIS's"))) return;
    try {
      await api.post(`/mis/differences/${d.student}/${d.day}/${how}`, {});
      announce(how === 'ours' ? `${d.name}'s ${d.day} will be written again.` : `${d.name}'s ${d.day} now has the MIS's marks.`);
      await refresh();
    } catch (e) {
      failed('Could not settle it', e);
    }
  };
  const compareNow = async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      const c = await api.post('/mis/compare', {});
      announce(`Compared ${c.pupils} pupils with the MIS: ${c.differences} ${c.differences === 1 ? 'difference' : 'differences'}.`);
      await refresh();
    } catch (err) {
      failed('Could not compare with the MIS', err);
    } finally {
      button.disabled = false;
    }
  };
  const csv = async () => {
    try {
      const { blob, filename } = await api.blob(`/mis/differences?from=${from}&to=${to}&format=csv`);
      download(blob, filename || `mis-differences-${from}-${to}.csv`);
    } catch (e) {
      failed('Could not download the differences', e);
    }
  };
  const side = (am, pm) => h('code', {}, `${am ?? '–'} / ${pm ?? '–'}`);
  return [
    h('h2', { id: 'mis-compared' }, 'Compared with the MIS'),
    h('p', { class: 'hint' }, `Every night each day's marks are read back from the MIS and set beside what Rollcall wrote (${from} to ${to} here, in the MIS's codes).`),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'compare-now', onclick: compareNow }, 'Compare today now'),
      h('button', { type: 'button', id: 'download-differences', onclick: csv }, 'Download CSV')),
    differences.length
      ? table('Differences with the MIS', ['Day', 'Pupil', 'Rollcall AM / PM', 'MIS AM / PM', ''], differences.map((d) =>
          h('tr', { dataset: { student: d.student, day: d.day, settled: d.settled || '' } },
            h('td', {}, d.day),
            h('td', {}, d.name),
            h('td', {}, side(d.ours_am, d.ours_pm)),
            h('td', {}, side(d.theirs_am, d.theirs_pm)),
            h('td', {}, d.settled
              ? `${d.settled === 'ours' ? 'Ours written again' : "The MIS's taken"} by ${byWhom(d.settled_by)}`
              : h('div', { class: 'actions' },
                  h('button', { type: 'button', class: 'ours', onclick: settle(d, 'ours') }, 'Write ours again'),
                  h('button', { type: 'button', class: 'theirs', onclick: settle(d, 'theirs') }, "Take the MIS's")))),
        ))
      : h('p', { class: 'empty' }, 'No differences found.'),
  ];
}

async function codeTable(section) {
  const body = h('tbody');
  const note = h('p', { class: 'hint' });
  const options = h('datalist', { id: 'mis-code-options' });
  async function refresh() {
    const c = await api.get('/mis/codes');
    note.textContent = c.mis_error
      ? `The MIS's codes could not be read (${c.mis_error}); type its codes as it writes them.`
      : `The MIS has ${c.mis.length} codes; pick one for each of Rollcall's.`;
    fill(options, c.mis.map((m) => h('option', { value: m.code }, m.meaning || m.code)));
    fill(body, c.rollcall.filter((r) => !r.retired).map((r) => row(r, c.table.find((m) => m.code === r.code))));
  }
  function row(code, mapping) {
    const input = h('input', { name: 'mis_code', value: mapping ? mapping.mis_code : '', list: 'mis-code-options', maxlength: 306, 'aria-label': `The MIS's code for ${code.code}` });
    const save = async (e) => {
      e.preventDefault();
      try {
        const value = input.value.trim();
        if (value) await api.put('/mis/codes', { code: code.code, mis_code: value });
        else if (mapping) await api.del('/mis/codes?code=' + encodeURIComponent(code.code));
        announce(value ? `${code.code} is written as ${value}.` : `${code.code} is no longer mapped.`);
        await refresh();
      } catch (err) {
        failed('Could not save the mapping', err);
      }
    };
    return h(
      'tr',
      { dataset: { code: code.code, mapped: String(Boolean(mapping)) } },
      h('th', { scope: 'row' }, h('code', {}, code.code), ' ', code.meaning),
      h('td', {}, h('form', { class: 'inline', onsubmit: save }, input, h('button', { type: 'submit' }, 'Save'))),
    );
  }
  fill(
    section,
    h('h2', { id: 'mis-codes' }, 'Code table'),
    note,
    options,
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Code table' },
      h('table', { class: 'codes mis-codes' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, "Rollcall's code"), h('th', { scope: 'col' }, "The MIS's code"))), body),
    ),
  );
  await refresh();
}
