/** Structured JSON logs, one object per line. */
import { RUNTIME_SETTINGS } from "./contract";

/** A log level; `LOG_LEVEL` sets the lowest one written (`silent`: none). */
export type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Writes one JSON line (warn and error to stderr) unless `LOG_LEVEL` is above `level`. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  const threshold = RANK[process.env[RUNTIME_SETTINGS.logLevel.env] ?? ""] ?? RANK[RUNTIME_SETTINGS.logLevel.default ?? "info"];
  if (RANK[level] < threshold) return;
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

/** The loggable fields of an error (message and name), never its stack or cause. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message, errorName: err.name };
  return { error: String(err) };
}
