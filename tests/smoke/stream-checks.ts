/**
 * What the stream tests against the twin process share: its table endpoint (printed at start),
 * a client on it, the pid of a function's process, and the stale-read checker.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { readFileSync, readlinkSync } from "fs";
import * as path from "path";
import { dynamoDbClientFor } from "../helpers/dynalite";
import type { TwinProcess } from "./twin-process";

/** The endpoint the twin printed for its tables (`dynamodb: http://… serves the tables above`). */
export function tableEndpoint(twin: TwinProcess): string {
  const m = /^dynamodb: (http:\/\/127\.0\.0\.1:\d+) serves the tables above/m.exec(twin.stdout());
  if (!m) throw new Error(`the twin printed no table endpoint:\n${twin.stdout()}`);
  return m[1];
}

/** An SDK client on the twin's tables, as any other writer would use. */
export function tableClient(twin: TwinProcess): DynamoDBClient {
  return dynamoDbClientFor(tableEndpoint(twin));
}

/**
 * Pids of the processes running the function whose logical id starts with `prefix` (the twin runs
 * each in the folder its bundle is unzipped to, named after the logical id).
 */
export function functionPids(twin: TwinProcess, prefix: string): number[] {
  return twin.descendants().filter((pid) => {
    try {
      return path.basename(readlinkSync(`/proc/${pid}/cwd`)).startsWith(prefix);
    } catch {
      return false;
    }
  });
}

/** One timed read. */
export interface Read {
  readonly startedAt: number;
  readonly status: number;
  readonly cache: string | null;
  readonly body: Record<string, unknown>;
}

/** Reads `url` one after another until `untilMs` (epoch), every `gapMs`. */
export async function readUntil(url: string, untilMs: number, gapMs = 40): Promise<Read[]> {
  const out: Read[] = [];
  while (Date.now() < untilMs) {
    const startedAt = Date.now();
    const r = await fetch(url);
    out.push({ startedAt, status: r.status, cache: r.headers.get("x-cache"), body: (await r.json()) as Record<string, unknown> });
    await new Promise((res) => setTimeout(res, gapMs));
  }
  return out;
}

/** Lines of a JSONL file (the twin's on-failure destination). */
export function jsonLines(file: string): Array<Record<string, any>> {
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
