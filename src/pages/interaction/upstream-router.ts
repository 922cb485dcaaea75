import Router from '@koa/router';
import type { Csrf } from '../../http/csrf.ts';
import { noStore } from '../../http/no-store.ts';
import { handleInteractionErrors, type InteractionState, loadInteraction, parseForm, verifyCsrf } from './middleware.ts';
import { createUpstreamPages, type UpstreamPagesDeps } from './upstream.ts';

/**
 * The interaction routes of signing in through an upstream, beside the sign-in pages under
 * /interaction/:uid (the interaction cookie's path), with the same middleware: no-store, the loaded
 * interaction, and a CSRF token bound to it on every POST.
 */
export function createUpstreamInteractionRouter(deps: UpstreamPagesDeps & { csrf: Csrf }): Router<InteractionState> {
  const router = new Router<InteractionState>({ prefix: '/interaction' });
  const load = loadInteraction(deps.provider, deps.csrf);
  const checkCsrf = verifyCsrf(deps.csrf);
  const pages = createUpstreamPages(deps);
  router.use(noStore, handleInteractionErrors);
  router.post('/:uid/upstream', parseForm, load, checkCsrf, pages.start);
  router.get('/:uid/upstream/continue', load, pages.resume);
  router.post('/:uid/upstream/create', parseForm, load, checkCsrf, pages.create);
  router.post('/:uid/upstream/link', parseForm, load, checkCsrf, pages.link);
  return router;
}
