/**
 * One deadline for any promise: `await withDeadline(call(), 300, () => new Error("DAX getItem took longer than 300 ms"))`.
 * The caller is released at the deadline with the error `onTimeout` makes; the call itself goes on,
 * and its late failure is swallowed (it must not surface as an unhandled rejection).
 */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  p.catch(() => undefined);
  if (!Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
