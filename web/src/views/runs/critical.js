/*
 * critical.js — a run's critical path: from the server
 * (GET /v1/runs/{id}/critical-path), else, on a server without that route,
 * the longest chain by depth that the graph package computes.
 */
import { get } from '../../app/api.js';

const layering = import.meta.glob('../../graph/layering.js');

export async function criticalPath(runId, tasks, edges) {
  try {
    const res = await get(`/v1/runs/${runId}/critical-path`);
    return new Set(res.tasks || []);
  } catch (e) {
    const load = layering['../../graph/layering.js'];
    if (e.status !== 404 || !load) throw e;
    const mod = await load();
    if (typeof mod.criticalPathByDepth !== 'function') throw e;
    return new Set(mod.criticalPathByDepth(tasks, edges));
  }
}
