// The single page: sign-in, the navigation bar, and the pages behind "#/name/argument". The bar
// keeps a teacher's lesson one tap away (Review, Today, Missing now); every other page is in
// its Menu, grouped by what people do there (the register, people, families, the office). An
// installable web app (manifest.webmanifest, sw.js) that keeps working without a network.
// Each page module exports render(main, context) and may return a function that stops its
// polling when the user leaves it. A student's or a guardian's account sees its own page only,
// whatever the address says, and the public pages (a family's reply page among them).

import * as api from './api.js';
import { announce, forgetImages, labelColumns, poll, setTimeZone } from './ui.js';
import * as queue from './queue.js';
import * as signin from './signin.js';
import * as review from './review.js';
import * as today from './today.js';
import * as report from './report.js';
import * as school from './school.js';
import * as students from './students.js';
import * as devices from './devices.js';
import * as admin from './admin.js';
import * as calendar from './calendar.js';
import * as history from './history.js';
import * as account from './account.js';
import * as privacy from './privacy.js';
import * as consent from './consent.js';
import * as audit from './audit.js';
import * as codes from './codes.js';
import * as rollCall from './roll_call.js';
import * as reception from './reception.js';
import * as staff from './staff.js';
import * as analytics from './analytics.js';
import * as apiDocs from './api_docs.js';
import * as operations from './operations.js';
import * as mis from './mis.js';
import * as missing from './missing.js';
import * as activities from './activities.js';
import * as mine from './mine.js';
import * as children from './children.js';
import * as welcome from './welcome.js';
import * as notices from './notices.js';
import * as familyMessages from './family_messages.js';
import * as reply from './reply.js';

const PAGES = { review, today, activities, report, school, students, consent, devices, admin, calendar, history, account, privacy, audit, codes, operations, mis, missing, api: apiDocs, 'roll-call': rollCall, reception, staff, analytics, mine, children, notices, 'family-messages': familyMessages };
const ADMIN_ONLY = ['school', 'devices', 'admin', 'calendar', 'audit', 'codes', 'operations', 'mis', 'family-messages'];
// Pages anyone may read, signed in or not.
const PUBLIC = { privacy, api: apiDocs, welcome, reply };
// Public pages shown as they are even in a tab signed in as someone else: an invitation's link,
// a family's reply link.
const ANYONE = ['welcome', 'reply'];
// The one page of each account that is not staff's; its navigation item is marked data-ROLE.
const OWN_PAGE = { student: 'mine', guardian: 'children' };
const COUNT_EVERY_MS = 5000;

let me = null;
let leave = null;
let stopCount = null;

/** The review count in the navigation bar and the tab title. */
export function setCount(count) {
  const badge = document.getElementById('review-count');
  badge.textContent = String(count);
  badge.dataset.count = String(count);
  document.title = count > 0 ? `(${count}) Rollcall` : 'Rollcall';
}

async function whoAmI() {
  if (!me) {
    me = await api.get('/auth/me');
    setTimeZone(me.timezone);
  }
  return me;
}

function showChrome(user) {
  document.getElementById('top').hidden = !user;
  if (!user) return;
  document.getElementById('who').textContent = `${user.username} (${user.role})`;
  for (const li of document.querySelectorAll('#nav li:not(.group):not(.menu)')) li.hidden = !forRole(li, user.role);
  // A group, and the menu, with nothing in it for this account is not shown.
  for (const group of document.querySelectorAll('#nav li.group, #nav li.menu')) {
    group.hidden = ![...group.querySelectorAll('li:not(.group)')].some((li) => !li.hidden);
  }
}

/** Whether the navigation item `li` is for `role`: a student or a guardian has their own page only. */
function forRole(li, role) {
  if (OWN_PAGE[role]) return role in li.dataset;
  const theirs = Object.keys(OWN_PAGE).some((r) => r in li.dataset);
  return !theirs && (role === 'admin' || !('admin' in li.dataset));
}

/**
 * The page `wanted` as `user` may see it: a student or a guardian only theirs (or a public
 * page), staff never those.
 */
function pageFor(user, wanted) {
  const own = OWN_PAGE[user.role];
  if (own) return PUBLIC[wanted] ? wanted : own;
  if (!PAGES[wanted] || Object.values(OWN_PAGE).includes(wanted)) return 'review';
  return ADMIN_ONLY.includes(wanted) && user.role !== 'admin' ? 'review' : wanted;
}

function currentRoute() {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : '';
  const [name, ...rest] = hash.split('/').map(decodeURIComponent);
  return { name: name || 'review', args: rest.filter(Boolean) };
}

async function route() {
  if (leave) leave();
  leave = null;
  forgetImages();
  const main = document.getElementById('main');
  if (currentRoute().name === 'oidc') return backFromSchoolSignIn(main);
  const open = PUBLIC[currentRoute().name];
  if (open && (!api.signedIn() || ANYONE.includes(currentRoute().name))) {
    showChrome(null);
    main.replaceChildren();
    main.dataset.page = currentRoute().name;
    leave = (await open.render(main, { args: currentRoute().args })) || null;
    return;
  }
  if (!api.signedIn()) {
    showChrome(null);
    stopCounting();
    main.replaceChildren();
    main.dataset.page = 'signin';
    leave = signin.render(main, { onSignedIn: () => route() });
    return;
  }
  let user;
  try {
    user = await whoAmI();
  } catch (e) {
    if (!api.signedIn()) return route();
    main.replaceChildren(`The hub did not answer: ${e.message}`);
    return;
  }
  showChrome(user);
  // A student's or a guardian's account may not read the review queue.
  if (OWN_PAGE[user.role]) stopCounting();
  else startCounting();
  const { args } = currentRoute();
  const name = pageFor(user, currentRoute().name);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // The menu closes once a page is chosen, and says when the page is one of its own.
  const menu = document.getElementById('nav-menu');
  menu.open = false;
  menu.classList.toggle('current', !!menu.querySelector('a[aria-current]'));
  main.replaceChildren();
  main.dataset.page = name;
  leave = (await PAGES[name].render(main, { me: user, args, setCount })) || null;
  if (document.activeElement === document.body || !main.contains(document.activeElement)) {
    const title = document.getElementById('page-title');
    if (title && !route.first) {
      title.tabIndex = -1;
      title.focus();
    }
  }
  route.first = false;
}
route.first = true;

/**
 * The hub sends the browser back from the school's sign-in to #/oidc/done/TOKEN or
 * #/oidc/error/MESSAGE; the address is cleared before anything else so that neither stays in
 * the history.
 */
async function backFromSchoolSignIn(main) {
  const [outcome, detail] = currentRoute().args;
  window.history.replaceState(null, '', location.pathname + '#/');
  let error = null;
  if (outcome === 'done') {
    try {
      await api.handOff(detail || '');
    } catch (e) {
      error = `Could not finish signing in: ${e.message}`;
    }
  } else {
    error = `Could not sign in with the school's account: ${detail || 'no reason given'}.`;
  }
  if (!error) return route();
  showChrome(null);
  main.replaceChildren();
  main.dataset.page = 'signin';
  leave = signin.render(main, { onSignedIn: () => route(), error });
}

function startCounting() {
  if (stopCount) return;
  stopCount = poll(COUNT_EVERY_MS, async () => setCount((await api.get('/review?limit=0')).count));
}

function stopCounting() {
  if (stopCount) stopCount();
  stopCount = null;
}

window.addEventListener('hashchange', () => {
  if (location.hash === '#main') return;
  route();
});
window.addEventListener('rollcall:signed-out', () => {
  me = null;
  stopCounting();
  if (location.hash !== '#/signin') route();
});
// The menu closes when a page in it is chosen (the same page too), on a tap outside it, and
// on Escape.
const navMenu = document.getElementById('nav-menu');
navMenu.addEventListener('click', (e) => {
  if (e.target.closest('a')) navMenu.open = false;
});
document.addEventListener('click', (e) => {
  if (navMenu.open && !navMenu.contains(e.target)) navMenu.open = false;
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && navMenu.open) {
    navMenu.open = false;
    navMenu.querySelector('summary').focus();
  }
});

document.getElementById('sign-out').addEventListener('click', () => {
  api.signOut({ end: true });
  announce('Signed out.');
});
document.getElementById('skip').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main').focus();
});
// An error no page caught is said on the status line, never lost in the console, and kept in
// `window.rollcallErrors` for whoever supports the school (and the browser tests, which fail
// on any).
window.rollcallErrors = [];
const uncaught = (message) => {
  window.rollcallErrors.push(message);
  announce(`Something went wrong on this page: ${message}. Reload it to carry on.`, 'error');
};
window.addEventListener('error', (e) => uncaught(e.message || String(e.error)));
window.addEventListener('unhandledrejection', (e) => uncaught((e.reason && e.reason.message) || String(e.reason)));
// Whatever a page puts in a table, its cells are labelled for a phone as they arrive.
const main = document.getElementById('main');
// The register works without a network: the service worker keeps the pages and the day's
// answers on the phone, and decisions made offline wait in the queue (js/queue.js), said in
// the bar above the page.
navigator.serviceWorker?.register('/sw.js').catch((e) => console.warn('no offline copy', e));
main.before(queue.bar());
new MutationObserver(() => labelColumns(main)).observe(main, { childList: true, subtree: true });
route();
