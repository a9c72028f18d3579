/*
 * critical.js — a run's critical path: from the server
 * (GET /v1/runs/{id}/critical-path), else, on a server without that route,
 * the longest chain by depth that the graph package computes.
 */
import { get } from '../../app/api.js';
import { criticalPathByDepth } from '../../graph/layering.js';
import { serverHas } from './routes.js';

export async function criticalPath(runId, tasks, edges) {
  if (await serverHas('/v1/runs/{id}/critical-path')) {
    const res = await get(`/v1/runs/${runId}/critical-path`);
    return new Set(res.tasks || []);
  }
  return new Set(criticalPathByDepth(tasks, edges));
}
