/*
 * history.js — the dashboard's view of GET /v1/metrics/history: the time
 * ranges offered and the series each chart draws from its samples (counts,
 * unless the chart names a `format` for its values).
 */
import { formatDuration } from '../../components/format.js';

export const RANGES = [
  { key: '15m', label: '15 min', ms: 15 * 60e3 },
  { key: '1h', label: '1 h', ms: 3600e3 },
  { key: '6h', label: '6 h', ms: 6 * 3600e3 },
  { key: '24h', label: '24 h', ms: 24 * 3600e3 },
  { key: '7d', label: '7 d', ms: 7 * 86400e3 },
];

export const CHARTS = [
  {
    key: 'throughput', title: 'Throughput (per step)',
    series: [
      { key: 'created', label: 'created', color: ['--accent', '#2563eb'] },
      { key: 'completed', label: 'completed', color: ['--status-succeeded', '#27ae60'] },
    ],
  },
  {
    key: 'errors', title: 'Errors (per step)',
    series: [
      { key: 'failed', label: 'failed', color: ['--status-failed', '#e74c3c'] },
      { key: 'retried', label: 'retried', color: ['--status-pending', '#f39c12'] },
    ],
  },
  {
    key: 'latency', title: 'Latency', format: formatDuration,
    series: [
      { key: 'latency_p50_ms', label: 'p50', color: ['--status-claimed', '#1abc9c'] },
      { key: 'latency_p95_ms', label: 'p95', color: ['--status-running', '#3498db'] },
      { key: 'latency_p99_ms', label: 'p99', color: ['--status-paused', '#9b59b6'] },
    ],
  },
  {
    key: 'load', title: 'Queue depth and running',
    series: [
      { key: 'queue_depth', label: 'queue depth', color: ['--status-pending', '#f39c12'] },
      { key: 'running', label: 'running', color: ['--status-running', '#3498db'] },
    ],
  },
];
