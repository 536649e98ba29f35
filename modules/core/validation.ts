import { Token } from "cdktf";
import { IConstruct } from "constructs";

/**
 * One problem with one props field.
 */
export interface PropsProblem {
  /** Dotted path of the field inside the props object, e.g. `redis.replicasPerShard`. */
  readonly field: string;
  /** The offending value, as given. */
  readonly value: unknown;
  /** What would have been accepted. */
  readonly allowed: string;
}

/**
 * Thrown at construction time when props are invalid. The message names the construct
 * path, every offending field, its value and what is allowed, so a failed synth points
 * straight at the line to change.
 */
export class PropsValidationError extends Error {
  constructor(
    /** Path of the construct (or config) whose props were refused, e.g. `session-store-dev/dax`. */
    public readonly constructPath: string,
    /** Every problem found, in the order they were checked. */
    public readonly problems: readonly PropsProblem[],
  ) {
    super(
      `Invalid props for ${constructPath}:\n` +
        problems
          .map((p) => `  - ${p.field} = ${describe(p.value)}: ${p.allowed}`)
          .join("\n"),
    );
    this.name = "PropsValidationError";
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Collects every problem of a props object and reports them together (one synth run shows
 * all mistakes, not the first one). Values that are Terraform tokens are unknown at synth
 * time and are never rejected.
 */
export class PropsValidator {
  private readonly problems: PropsProblem[] = [];

  constructor(private readonly path: string) {}

  /** A validator whose errors name `scope`'s construct path. */
  static for(scope: IConstruct): PropsValidator {
    return new PropsValidator(scope.node.path);
  }

  /** Records a problem unless `ok` holds. */
  check(ok: boolean, field: string, value: unknown, allowed: string): this {
    if (!ok && !isUnresolved(value)) this.problems.push({ field, value, allowed });
    return this;
  }

  /** Integer within [min, max]. */
  intRange(field: string, value: number | undefined, min: number, max: number): this {
    if (value === undefined) return this;
    return this.check(
      Number.isInteger(value) && value >= min && value <= max,
      field,
      value,
      `an integer from ${min} to ${max}`,
    );
  }

  /** One of a fixed set. */
  oneOf<T>(field: string, value: T | undefined, allowed: readonly T[]): this {
    if (value === undefined) return this;
    return this.check(allowed.includes(value), field, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }

  /** Matches a regular expression; `allowed` says what in words. */
  matches(field: string, value: string | undefined, re: RegExp, allowed: string): this {
    if (value === undefined) return this;
    return this.check(re.test(value), field, value, allowed);
  }

  /** A customer-managed KMS key given by its key ARN (IAM grants name the key, never an alias). */
  kmsKeyArn(field: string, value: string | undefined): this {
    return this.matches(field, value, KMS_KEY_ARN_RE, "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>");
  }

  /** Adds `other`'s problems to this one's. */
  merge(other: PropsValidator): this {
    this.problems.push(...other.problems);
    return this;
  }

  /** True when a problem was recorded. */
  get hasProblems(): boolean {
    return this.problems.length > 0;
  }

  /** A {@link PropsValidationError} listing every recorded problem, or undefined when there is none. */
  get error(): PropsValidationError | undefined {
    return this.problems.length > 0 ? new PropsValidationError(this.path, this.problems) : undefined;
  }

  /** Throws a {@link PropsValidationError} listing every recorded problem, if any. */
  throwIfAny(): void {
    const e = this.error;
    if (e) throw e;
  }
}

function isUnresolved(value: unknown): boolean {
  if (typeof value === "string" || typeof value === "number") return Token.isUnresolved(value);
  if (Array.isArray(value)) return Token.isUnresolved(value);
  return false;
}

/** A KMS key ARN, `arn:aws:kms:<region>:<account>:key/<id>` (any partition). */
export const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** ddd:hh24:mi-ddd:hh24:mi, as ElastiCache and DAX take maintenance windows. */
export const MAINTENANCE_WINDOW_RE =
  /^(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d-(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d$/;

/** hh24:mi-hh24:mi, as ElastiCache takes snapshot windows. */
export const DAILY_WINDOW_RE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
