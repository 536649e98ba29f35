/**
 * Secrets Manager rotation function of ElastiCache password users (see rotation.ts for the steps).
 * The cache construct sets the cache's endpoint in the environment (`REDIS_HOST`, `REDIS_PORT`,
 * `REDIS_TLS`, `REDIS_CLUSTER_MODE`) for the test login.
 */
import { ElastiCacheClient } from "@aws-sdk/client-elasticache";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { randomBytes } from "crypto";
import { buildRedisClient, ensureConnected, releaseRedisClient } from "../lib/cache/redis";
import { CONNECTIONS, readSetting } from "../lib/contract";
import { log } from "../lib/log";
import { rotate, RotationEvent } from "./rotation";

const region = readSetting(CONNECTIONS.region, process.env, readSetting(CONNECTIONS.defaultRegion, process.env) ?? "us-east-1");
const secrets = new SecretsManagerClient({ region });
const elasticache = new ElastiCacheClient({ region });

async function testLogin(username: string, password: string): Promise<void> {
  const host = readSetting(CONNECTIONS.redisHost, process.env);
  if (!host) throw new Error(`${CONNECTIONS.redisHost.env} is not set: no cache to test the new password on`);
  const client = buildRedisClient(
    {
      host,
      port: readSetting(CONNECTIONS.redisPort, process.env),
      tls: readSetting(CONNECTIONS.redisTls, process.env),
      clusterMode: readSetting(CONNECTIONS.redisClusterMode, process.env),
    },
    { auth: { username, password }, commandTimeoutMs: 2_000, connectTimeoutMs: 5_000 },
  );
  try {
    await ensureConnected(client, 5_000);
    if ((await client.ping()) !== "PONG") throw new Error("the cache did not answer PING");
  } finally {
    releaseRedisClient(client);
    client.disconnect();
  }
}

export async function handler(event: RotationEvent): Promise<void> {
  log("info", "rotation step", { secret: event.SecretId, step: event.Step });
  await rotate(event, { secrets, elasticache, testLogin, newPassword: () => randomBytes(32).toString("hex") });
}
