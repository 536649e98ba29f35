/** Timing helpers shared by the outage tests. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `call`; returns its error (or undefined) and how long it took, in milliseconds. */
export async function timed(call: () => Promise<unknown>): Promise<{ err?: unknown; ms: number }> {
  const t = process.hrtime.bigint();
  let err: unknown;
  await call().catch((e: unknown) => (err = e));
  return { err, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

/** Retries `attempt` every `intervalMs` until it resolves (true) or `timeoutMs` passes (false). */
export async function eventually(attempt: () => Promise<unknown>, timeoutMs = 5_000, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(intervalMs);
    if (await attempt().then(() => true, () => false)) return true;
  }
  return false;
}

/**
 * Starts a server where `store` has so far found nothing, and expects the store's background
 * reconnect to pick it up (a set, then a get of it, succeed within 5 s); closes both after.
 */
export async function expectPicksUpLateServer(
  store: { set(k: string, v: string, ttl: number): Promise<void>; get(k: string): Promise<string | undefined>; close(): Promise<void> },
  start: () => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  const late = await start();
  try {
    await expect(eventually(() => store.set("k", "v", 10))).resolves.toBe(true);
    await expect(store.get("k")).resolves.toBe("v");
  } finally {
    await store.close();
    await late.stop();
  }
}
