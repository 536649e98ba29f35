/** Lambda entry points over what a container builds once. */
import { errorFields, log } from "./log";

/**
 * Lambda's `handler` over `create()`, called on the first invocation and kept for the container's
 * life. When it throws (a bad environment variable) the error is logged and the invocation fails,
 * so Lambda retries (a stream batch, a scheduled run) and the error alarm sees it; the next
 * invocation tries again.
 */
export function perContainer<A extends unknown[], R>(create: () => (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let container: ((...args: A) => Promise<R>) | undefined;
  return async (...args: A): Promise<R> => {
    if (!container) {
      try {
        container = create();
      } catch (err) {
        log("error", "function misconfigured", errorFields(err));
        throw err;
      }
    }
    return container(...args);
  };
}
