import { PropsValidationError } from "../../modules/core/validation";

/** The PropsValidationError `f` throws (any other error is rethrown; none fails the test). */
export function propsError(f: () => unknown): PropsValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof PropsValidationError) return e;
    throw e;
  }
  throw new Error("no PropsValidationError");
}
