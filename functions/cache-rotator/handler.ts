/**
 * Secrets Manager rotation function of ElastiCache password users (see rotation.ts for the steps).
 * The cache construct sets the cache's endpoint in the environment (`REDIS_HOST`, `REDIS_PORT`,
 * `REDIS_TLS`, `REDIS_CLUSTER_MODE`) for the test login.
 */
import { ElastiCacheClient } from "@aws-sdk/client-elasticache";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { randomBytes } from "crypto";
import { CONNECTIONS, readSetting } from "../lib/contract";
import { log } from "../lib/log";
import { redisLogin, rotate, RotationEvent } from "./rotation";

const region = readSetting(CONNECTIONS.region, process.env, readSetting(CONNECTIONS.defaultRegion, process.env) ?? "us-east-1");
const secrets = new SecretsManagerClient({ region });
const elasticache = new ElastiCacheClient({ region });

/** The new password is tried on the cache itself, whose endpoint the construct put in the environment. */
function testLogin(username: string, password: string): Promise<void> {
  const host = readSetting(CONNECTIONS.redisHost, process.env);
  if (!host) throw new Error(`${CONNECTIONS.redisHost.env} is not set: no cache to test the new password on`);
  return redisLogin({
    host,
    port: readSetting(CONNECTIONS.redisPort, process.env),
    tls: readSetting(CONNECTIONS.redisTls, process.env),
    clusterMode: readSetting(CONNECTIONS.redisClusterMode, process.env),
  })(username, password);
}

export async function handler(event: RotationEvent): Promise<void> {
  log("info", "rotation step", { secret: event.SecretId, step: event.Step });
  await rotate(event, { secrets, elasticache, testLogin, newPassword: () => randomBytes(32).toString("hex") });
}
