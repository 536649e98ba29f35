/** The facts of the machine a run measured, stored with its figures. */
import * as os from "os";
import { readFileSync } from "fs";
import * as path from "path";
import { redisServerVersion } from "./procs";

export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGB: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  readonly redisServer: string;
  readonly date: string;
  /** 1-minute load average when the run started: a busy machine makes noisy figures. */
  readonly loadAverageAtStart: number;
  readonly packages: Record<string, string>;
}

function version(root: string, pkg: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "absent";
  }
}

export function machineFacts(root: string): MachineFacts {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    redisServer: redisServerVersion(),
    date: new Date().toISOString(),
    loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100,
    packages: Object.fromEntries(["cdktf", "@cdktf/provider-aws", "esbuild", "ioredis", "@aws-sdk/client-dynamodb", "dynalite", "ts-node", "typescript", "autocannon"].map((p) => [p, version(root, p)])),
  };
}
