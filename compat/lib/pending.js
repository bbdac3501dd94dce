'use strict';
// Routes the SDKs call that sigil does not serve yet. A test that needs one still runs but is
// reported as TODO (its failure does not fail the run) until the route lands: then delete the
// route here, and the test counts.

const PENDING = new Set([
  'GET /identity/resources/users/v2/me',
  'GET /identity/resources/users/v2/me/tenants',
  'GET /identity/resources/users/v3/me/tenants',
]);

/** Test options marking a test TODO while any of `routes` is pending. */
function needs(...routes) {
  const waiting = routes.filter((route) => PENDING.has(route));
  return waiting.length ? { todo: `waits for ${waiting.join(', ')}` } : {};
}

module.exports = { needs };
