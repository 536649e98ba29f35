/**
 * Connection timing shared by the network backends (Redis, memcached): reconnects happen in the
 * background with a capped backoff (deadlines: ../deadline.ts).
 */

/** Background reconnects with capped backoff: an outage never queues or delays a request. */
export function reconnectDelay(times: number): number {
  return Math.min(times * 50, 1000);
}
