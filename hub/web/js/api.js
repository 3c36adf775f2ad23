// The hub's JSON API, with the tokens from sign-in. The tokens live in sessionStorage (this
// tab only, gone when it closes); nothing else about the user is kept in the browser. An
// expired access token is renewed once with the refresh token; when that fails too, the page
// goes back to sign-in.

const BASE = '/api/v1';
const KEY = 'rollcall.tokens';

// sw.js's name for the API answers it keeps on the phone (children's names and faces): they
// go with the sign-in. A tab closed without signing out leaves them behind, so a start with
// no sign-in forgets them too.
const KEPT_ANSWERS = 'rollcall-answers';
const forgetKept = () => globalThis.caches?.delete(KEPT_ANSWERS).catch(() => {});

let tokens = load();
if (!tokens) forgetKept();

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function save(pair) {
  tokens = { access: pair.access_token, refresh: pair.refresh_token };
  sessionStorage.setItem(KEY, JSON.stringify(tokens));
}

/**
 * A failed call: HTTP status, the API's error code and message, the whole body, and the
 * request's id (`X-Request-Id`), which finds the request in the hub's log.
 */
export class ApiError extends Error {
  constructor(status, body, requestId = null) {
    const error = (body && body.error) || {};
    super(error.message || `the hub answered ${status}`);
    this.status = status;
    this.code = error.code || 'http_' + status;
    this.body = body;
    this.requestId = requestId;
  }
}

/** The ApiError for a response that is not OK. */
async function refusal(response) {
  const body = await response.json().catch(() => null);
  return new ApiError(response.status, body, response.headers.get('x-request-id'));
}

export function signedIn() {
  return tokens !== null;
}

export async function signIn(username, password) {
  const response = await fetch(BASE + '/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  save(body);
}

/** What this hub signs in with: `{passwords, school_account: {name, start} | null}`. */
export async function methods() {
  const response = await fetch(BASE + '/auth/methods');
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/**
 * Finishes a sign-in with the school's account: the refresh token the hub put in the address
 * is spent at once for this tab's own pair, so the one in the address bar is dead.
 */
export async function handOff(refreshToken) {
  const response = await fetch(BASE + '/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  save(body);
}

/**
 * POSTs to one of the open routes an invitation's link uses, with no token: the Welcome page
 * works signed out, or in a tab signed in as someone else.
 */
export async function postOpen(path, body) {
  const response = await fetch(BASE + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

/** Forgets the tokens here; with `end`, also ends the sign-in at the hub (the Sign out button). */
export function signOut({ end = false } = {}) {
  if (end && tokens) {
    fetch(BASE + '/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh }),
      keepalive: true,
    }).catch(() => {});
  }
  tokens = null;
  sessionStorage.removeItem(KEY);
  forgetKept();
  navigator.serviceWorker?.controller?.postMessage('signed-out');
  window.dispatchEvent(new Event('rollcall:signed-out'));
}

// One renewal at a time: a page that loads several things at once sees every one of them
// answered 401 when the access token has expired, and a refresh token is spent by its first
// use, so a second renewal with it would look like a stolen copy and end the sign-in.
let renewing = null;

function renew() {
  renewing ??= renewOnce().finally(() => (renewing = null));
  return renewing;
}

async function renewOnce() {
  if (!tokens) return false;
  const response = await fetch(BASE + '/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: tokens.refresh }),
  });
  if (!response.ok) return false;
  save(await response.json());
  return true;
}

/**
 * Sends a request with the access token; renews it once on 401. A change sent with `key` is
 * done at most once however often it is sent (`Idempotency-Key`). No answer at all (no
 * network, the hub down) is an ApiError of status 0, code `offline`; so is the service
 * worker's "nothing kept" answer to a read.
 */
async function send(method, path, { json, form, key } = {}) {
  let sentWith = null;
  const attempt = async () => {
    const headers = {};
    sentWith = tokens && tokens.access;
    if (tokens) headers.Authorization = 'Bearer ' + tokens.access;
    if (key) headers['Idempotency-Key'] = key;
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    try {
      return await fetch(BASE + path, { method, headers, body, cache: 'no-store' });
    } catch {
      throw offline();
    }
  };
  let response = await attempt();
  // A token another request renewed meanwhile is used as it is, not renewed again.
  const renewed = () => (tokens && tokens.access !== sentWith ? true : renew());
  if (response.status === 401 && (await renewed())) response = await attempt();
  if (response.status === 401) {
    signOut();
    throw await refusal(response);
  }
  if (response.headers.get('X-Offline')) throw offline();
  if (!response.ok) throw await refusal(response);
  return response;
}

function offline() {
  return new ApiError(0, { error: { code: 'offline', message: 'no network: the hub cannot be reached' } });
}

/** Whether `error` is no answer at all: nothing was done, and it may be sent again later. */
export const isOffline = (error) => error instanceof ApiError && error.status === 0;

/** The account the tokens are for (the access token's subject), or null. */
export function account() {
  try {
    return JSON.parse(atob(tokens.access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub || null;
  } catch {
    return null;
  }
}

/** Sends one change with its `Idempotency-Key` (see js/queue.js). */
export const keyed = async (method, path, body, key) => json(await send(method, path, { json: body, key }));

async function json(response) {
  return response.status === 204 ? null : response.json();
}

export const get = async (path) => json(await send('GET', path));
export const post = async (path, body = {}) => json(await send('POST', path, { json: body }));
export const put = async (path, body) => json(await send('PUT', path, { json: body }));
export const patch = async (path, body) => json(await send('PATCH', path, { json: body }));
export const del = async (path) => json(await send('DELETE', path));
/** POSTs one file (or any Blob) as the whole body. */
export const postFile = async (path, file) => json(await send('POST', path, { form: file }));

/** Uploads files as multipart parts named "photo", with `fields` beside them. */
export async function upload(path, files, fields = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
  for (const file of files) form.append('photo', file, file.name);
  return json(await send('POST', path, { form }));
}

/** A binary answer (a face crop, a CSV) with the file name the hub suggests. */
export async function blob(path) {
  const response = await send('GET', path);
  const disposition = response.headers.get('Content-Disposition') || '';
  const match = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: match ? match[1] : null };
}

/** Encodes one path segment. */
export const seg = (value) => encodeURIComponent(String(value));
