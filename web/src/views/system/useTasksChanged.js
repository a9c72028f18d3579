/*
 * useTasksChanged — calls `onChange` when tasks change in the namespace
 * shown (change feed events `tasks` and `reset`), at most once every 2 s so
 * a busy server does not make the view refetch in a loop.
 */
import { nsQuery } from '../../app/api.js';
import { useChangeFeed, useThrottled } from '../../components/live.js';

export default function useTasksChanged(onChange) {
  const throttled = useThrottled(onChange, 2000);
  useChangeFeed(nsQuery({}), throttled, { onReset: throttled });
}
