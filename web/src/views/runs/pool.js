/* pool.js — calls fn on every item with at most `limit` calls in flight;
 * resolves to {ok: [item], failed: [{item, error}]}, never rejects. */
export async function eachLimited(items, limit, fn) {
  const ok = [];
  const failed = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
        ok.push(item);
      } catch (error) {
        failed.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return { ok, failed };
}
