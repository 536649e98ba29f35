/**
 * Connection timing shared by the network backends (Redis, memcached): reconnects happen in the
 * background with a capped backoff, and nothing waits longer than its deadline.
 */

/** Background reconnects with capped backoff: an outage never queues or delays a request. */
export function reconnectDelay(times: number): number {
  return Math.min(times * 50, 1000);
}

/**
 * `p`, or a rejection naming `what` once `ms` have passed: a connect that never settles (a cluster
 * whose slot refresh keeps failing, a blackholed host) releases every caller at the deadline.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
