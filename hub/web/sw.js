// The service worker that keeps a teacher's register on the phone (issue 70): the pages'
// files, and the answers of the day's lessons, rosters, cards and trips, each as last fetched.
// Everything is asked of the network first, so a new hub is never run with yesterday's files
// or marks; only when the network does not answer is the kept copy given. Changes (POST, PUT,
// PATCH, DELETE) are never touched here: a page queues those itself (js/queue.js). Signing out,
// or starting without a sign-in, deletes the kept answers (js/api.js: they name children).

const SHELL = 'rollcall-pages';
const ANSWERS = 'rollcall-answers'; // js/api.js deletes it too
// The pages' own files, every one, kept at install so the app opens offline at once (a test
// in web.rs checks the list against the files the hub serves).
const FILES = [
  '/',
  '/style.css',
  '/icon.svg',
  '/manifest.webmanifest',
  '/js/queue.js',
  '/js/app.js',
  '/js/api.js',
  '/js/ui.js',
  '/js/signin.js',
  '/js/review.js',
  '/js/strangers.js',
  '/js/lesson_suggestion.js',
  '/js/today.js',
  '/js/unit_settings.js',
  '/js/class_photo.js',
  '/js/report.js',
  '/js/school.js',
  '/js/students.js',
  '/js/student_details.js',
  '/js/guardians.js',
  '/js/enrol_folder.js',
  '/js/devices.js',
  '/js/admin.js',
  '/js/calendar.js',
  '/js/history.js',
  '/js/account.js',
  '/js/privacy.js',
  '/js/consent.js',
  '/js/audit.js',
  '/js/codes.js',
  '/js/roll_call.js',
  '/js/reception.js',
  '/js/pupils_out.js',
  '/js/missing.js',
  '/js/activities.js',
  '/js/taps.js',
  '/js/staff.js',
  '/js/staff_faces.js',
  '/js/analytics.js',
  '/js/api_docs.js',
  '/js/operations.js',
  '/js/mis.js',
  '/js/invitations.js',
  '/js/mine.js',
  '/js/children.js',
  '/js/welcome.js',
  '/js/reply.js',
  '/js/notices.js',
  '/js/family_messages.js',
];
// What a teacher's phone keeps of the API: the signed-in GETs of these paths and those below.
const KEPT = [
  '/api/v1/auth/me',
  '/api/v1/review',
  '/api/v1/records',
  '/api/v1/students',
  '/api/v1/today',
  '/api/v1/sessions',
  '/api/v1/activities',
  '/api/v1/missing',
  '/api/v1/strangers',
  '/api/v1/classes',
  '/api/v1/codes',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// When the page last signed out: an answer asked for before then is not kept, even if it
// arrives after (a page's poll in flight at sign-out).
let forgotAt = 0;
self.addEventListener('message', (event) => {
  if (event.data !== 'signed-out') return;
  forgotAt = Date.now();
  event.waitUntil(caches.delete(ANSWERS));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) {
    const path = url.pathname;
    const kept = KEPT.some((p) => path === p || path.startsWith(p + '/'));
    if (kept && request.headers.has('Authorization')) event.respondWith(networkFirst(request, ANSWERS));
    return;
  }
  event.respondWith(networkFirst(request, SHELL));
});

/** The network's answer, kept; the kept one when the network does not answer. */
async function networkFirst(request, store) {
  const key = new URL(request.url);
  if (store === SHELL) key.hash = '';
  const asked = Date.now();
  const keep = () => store === SHELL || asked > forgotAt;
  try {
    const response = await fetch(request);
    if (response.ok && keep()) {
      const copy = response.clone();
      caches.open(store).then((c) => keep() && c.put(key, copy));
    }
    return response;
  } catch (offline) {
    const kept = await caches.match(key, { cacheName: store });
    if (kept) return kept;
    if (store === SHELL && request.mode === 'navigate') {
      const page = await caches.match('/', { cacheName: SHELL });
      if (page) return page;
    }
    const body = JSON.stringify({ error: { code: 'offline', message: 'no network, and nothing kept on this phone for this' } });
    return new Response(body, { status: 503, headers: { 'Content-Type': 'application/json', 'X-Offline': '1' } });
  }
}
