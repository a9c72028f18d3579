/*
 * routes.js — whether this server has a route, from its OpenAPI document
 * (read once, when first asked). Asking the route itself would answer 404
 * on an older server, which the browser logs as a console error; the
 * document says it silently.
 */
import { get } from '../../app/api.js';

let paths = null;

export async function serverHas(path, method = 'get') {
  if (!paths) paths = get('/v1/openapi.json').then((doc) => (doc && doc.paths) || {}, () => null);
  const known = await paths;
  if (known === null) return true;   /* unknown: try the route itself */
  return !!(known[path] && known[path][method]);
}
