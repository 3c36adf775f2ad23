// The API reference, for anyone: the hub's own openapi.json (GET /api/v1/openapi.json, built
// into the binary) read and shown as a page, so it works offline and always matches the hub
// that serves it. Operations are grouped by their first path segment; each opens to its
// parameters, request body and answers, with the schemas spelled out.

import * as api from './api.js';
import { h, heading } from './ui.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export async function render(main) {
  main.append(heading('API reference'));
  let doc;
  try {
    doc = await api.get('/openapi.json');
  } catch (e) {
    main.append(h('p', { class: 'error' }, `The hub did not answer: ${e.message}`));
    return;
  }
  const base = (doc.servers && doc.servers[0] && doc.servers[0].url) || '';
  const groups = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    const group = path.split('/')[1] || '/';
    for (const method of METHODS.filter((m) => item[m])) {
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push({ path, method, op: item[method], shared: item.parameters || [] });
    }
  }
  const count = [...groups.values()].reduce((n, ops) => n + ops.length, 0);
  const search = h('input', { type: 'search', name: 'filter', autocomplete: 'off', placeholder: 'users, photos, POST…' });
  const shown = h('p', { class: 'count', 'aria-live': 'polite' }, `${count} operations`);
  const sections = [...groups.entries()].map(([group, ops]) =>
    h('section', { class: 'api-group', dataset: { group } }, h('h2', {}, '/' + group), ops.map((o) => operation(doc, base, o))),
  );
  search.addEventListener('input', () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let n = 0;
    for (const op of main.querySelectorAll('details.api-op')) {
      const hit = words.every((w) => op.dataset.text.includes(w));
      op.hidden = !hit;
      n += hit ? 1 : 0;
    }
    for (const s of sections) s.hidden = !s.querySelector('details.api-op:not([hidden])');
    shown.textContent = `${n} of ${count} operations`;
  });
  main.append(
    h('p', { class: 'lead' }, `${doc.info.title} ${doc.info.version}. ${doc.info.description || ''}`),
    h('p', {}, `Every path below is under ${base}. Send the access token from POST ${base}/auth/login as "Authorization: Bearer …"; the machine-readable document is `, h('a', { href: base + '/openapi.json' }, 'openapi.json'), '.'),
    h('div', { class: 'field' }, h('label', { for: 'api-filter' }, 'Find an operation'), Object.assign(search, { id: 'api-filter' })),
    shown,
    ...sections,
  );
}

function operation(doc, base, { path, method, op, shared }) {
  const params = [...shared, ...(op.parameters || [])].map((p) => resolve(doc, p));
  const body = op.requestBody && resolve(doc, op.requestBody);
  const text = `${method} ${path} ${op.summary || ''} ${op.description || ''}`.toLowerCase();
  return h(
    'details',
    { class: 'api-op', dataset: { text, method } },
    h('summary', {}, h('span', { class: 'method ' + method }, method.toUpperCase()), ' ', h('code', {}, path), op.summary ? h('span', { class: 'summary' }, ' — ' + op.summary) : null),
    op.description ? h('p', {}, op.description) : null,
    params.length
      ? h(
          'div',
          { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': `Parameters of ${method.toUpperCase()} ${path}` },
          h(
          'table',
          { class: 'api-params' },
          h('caption', {}, 'Parameters'),
          h('thead', {}, h('tr', {}, ['Name', 'In', 'Type', 'About'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, params.map((p) => h('tr', {}, h('td', {}, h('code', {}, p.name), p.required ? ' (required)' : ''), h('td', {}, p.in), h('td', {}, typeName(doc, p.schema)), h('td', {}, p.description || '')))),
          ),
        )
      : null,
    body ? h('div', {}, h('h3', {}, `Request body (${Object.keys(body.content || {}).join(', ')})`), content(doc, body.content)) : null,
    h('h3', {}, 'Answers'),
    h(
      'dl',
      { class: 'api-answers' },
      Object.entries(op.responses || {}).map(([status, r]) => {
        const answer = resolve(doc, r);
        return [h('dt', {}, status === 'default' ? 'otherwise' : status), h('dd', {}, answer.description || '', content(doc, answer.content))];
      }),
    ),
  );
}

function content(doc, content) {
  const first = content && Object.values(content)[0];
  return first && first.schema ? schema(doc, first.schema, 0) : null;
}

/** A $ref followed to what it names. */
function resolve(doc, value) {
  let v = value;
  for (let i = 0; v && v.$ref && i < 10; i++) {
    v = v.$ref.replace(/^#\//, '').split('/').reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return v || {};
}

function typeName(doc, s) {
  if (!s) return '';
  const name = s.$ref ? s.$ref.split('/').pop() : null;
  const r = resolve(doc, s);
  let t = r.type || (r.allOf ? 'object' : r.oneOf || r.anyOf ? 'one of several' : '');
  if (r.type === 'array') t = `array of ${typeName(doc, r.items)}`;
  if (r.format) t += ` (${r.format})`;
  if (r.enum) t += `: ${r.enum.join(' | ')}`;
  if (r.nullable) t += ', or null';
  return name ? `${name}: ${t}` : t;
}

/** A schema's fields as a nested list, three levels deep at most. */
function schema(doc, s, depth) {
  const r = resolve(doc, s);
  const parts = r.allOf ? r.allOf.map((x) => resolve(doc, x)) : [r];
  const props = Object.assign({}, ...parts.map((p) => p.properties || {}));
  const required = new Set(parts.flatMap((p) => p.required || []));
  if (r.type === 'array' && r.items) return h('div', { class: 'api-schema' }, 'array of ', typeName(doc, r.items), depth < 3 ? schema(doc, r.items, depth + 1) : null);
  if (!Object.keys(props).length) return h('div', { class: 'api-schema' }, typeName(doc, s));
  return h(
    'ul',
    { class: 'api-schema' },
    Object.entries(props).map(([name, p]) => {
      const inner = resolve(doc, p);
      const nested = depth < 3 && (inner.properties || inner.allOf || (inner.type === 'array' && resolve(doc, inner.items).properties));
      return h(
        'li',
        {},
        h('code', {}, name),
        required.has(name) ? ' (required)' : '',
        ': ',
        typeName(doc, p),
        inner.description ? h('span', { class: 'hint' }, ' — ' + inner.description) : null,
        nested ? schema(doc, p, depth + 1) : null,
      );
    }),
  );
}
