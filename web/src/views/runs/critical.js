/*
 * critical.js — a run's critical path (GET /v1/runs/{id}/critical-path):
 * the chain with the largest sum of task durations. The server never
 * answers an empty path for a run with tasks: with no task started yet,
 * every duration is 0 and it picks the longest chain by task count.
 */
import { get } from '../../app/api.js';

export async function criticalPath(runId) {
  const res = await get(`/v1/runs/${runId}/critical-path`);
  return new Set(res.tasks || []);
}
