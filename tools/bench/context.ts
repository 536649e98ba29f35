/** What every scenario gets: where the project is, the mode, progress output and shared services. */
import type { BenchRedis } from "./procs";

export interface BenchContext {
  /** The repository root (package.json, dist/, node_modules/). */
  readonly root: string;
  readonly quick: boolean;
  /** A temp folder of this run (removed at the end). */
  readonly tmp: string;
  /** One progress line (prefixed with the scenario and the elapsed time). */
  progress(line: string): void;
  /** The run's redis-server (started before the scenarios that need it). */
  redis(): Promise<BenchRedis>;
  /** dynalite in a child process, with the products table and a cache table. */
  dynamo(): Promise<{ endpoint: string }>;
  /** A synthesized output folder (the synth scenario's, or one made on demand). */
  synthOut(): Promise<string>;
}

/** `full` when not quick, `quick` otherwise. */
export const pick = <T>(ctx: BenchContext, full: T, quick: T): T => (ctx.quick ? quick : full);
