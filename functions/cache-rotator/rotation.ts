/**
 * The four steps of a Secrets Manager rotation of one ElastiCache user's password, with
 * ElastiCache's two passwords per user so that no client is locked out at any moment:
 *
 *   createSecret  a new password as the AWSPENDING version ({username, userId, password})
 *   setSecret     ModifyUser with both passwords: AWSCURRENT's and AWSPENDING's (either logs in)
 *   testSecret    log in to the cache as the user with the pending password
 *   finishSecret  AWSPENDING becomes AWSCURRENT
 *
 * The old password is dropped after finishSecret, by the next rotation's setSecret (which sets the
 * then current and the new one): a Lambda container that read the secret before this rotation
 * reconnects with it until then, however long it lives. Every step is idempotent (Secrets Manager
 * retries them).
 */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import { DescribeUsersCommand, ModifyUserCommand } from "@aws-sdk/client-elasticache";
import type { RedisSettings } from "../lib/config";
import { buildRedisClient, ensureConnected, releaseRedisClient } from "../lib/cache/redis";

/** The secret's JSON: what the runtime reads (`username`, `password`) and the user the rotation modifies. */
export interface UserSecret {
  readonly username: string;
  readonly userId: string;
  readonly password: string;
}

/** The event Secrets Manager sends a rotation function. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: "createSecret" | "setSecret" | "testSecret" | "finishSecret";
}

type Command = DescribeSecretCommand | GetSecretValueCommand | PutSecretValueCommand | UpdateSecretVersionStageCommand;

/** What the steps talk to: the real clients in the Lambda, fakes in the tests. */
export interface RotationClients {
  readonly secrets: { send(command: Command): Promise<any> };
  readonly elasticache: { send(command: ModifyUserCommand | DescribeUsersCommand): Promise<any> };
  /** Logs in to the cache as `username` with `password` and runs PING; rejects when refused. */
  testLogin(username: string, password: string): Promise<void>;
  /** A new password (16–128 printable characters ElastiCache accepts). */
  newPassword(): string;
  /** Waits between polls of the user's status. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Longest setSecret waits for ModifyUser to finish (the user to be `active` again). */
export const USER_ACTIVE_TIMEOUT_MS = 120_000;

/** Runs one step of the rotation `event` names. */
export async function rotate(event: RotationEvent, c: RotationClients): Promise<void> {
  const { SecretId: id, ClientRequestToken: token, Step: step } = event;
  const meta = await c.secrets.send(new DescribeSecretCommand({ SecretId: id }));
  if (meta.RotationEnabled === false) throw new Error(`secret ${id}: rotation is not enabled`);
  const stages: Record<string, string[]> = meta.VersionIdsToStages ?? {};
  if (!stages[token]) throw new Error(`secret ${id}: version ${token} is not a version of the secret`);
  if (stages[token].includes("AWSCURRENT")) return; // this rotation already finished
  if (!stages[token].includes("AWSPENDING")) throw new Error(`secret ${id}: version ${token} is not AWSPENDING`);
  switch (step) {
    case "createSecret":
      return createSecret(id, token, c);
    case "setSecret": {
      const [current, pending] = await Promise.all([read(c, id, { VersionStage: "AWSCURRENT" }), read(c, id, { VersionId: token, VersionStage: "AWSPENDING" })]);
      await c.elasticache.send(new ModifyUserCommand({ UserId: current.userId, AuthenticationMode: { Type: "password", Passwords: [current.password, pending.password] } }));
      return waitActive(current.userId, c);
    }
    case "testSecret": {
      const pending = await read(c, id, { VersionId: token, VersionStage: "AWSPENDING" });
      return c.testLogin(pending.username, pending.password);
    }
    case "finishSecret": {
      const current = Object.entries(stages).find(([, s]) => s.includes("AWSCURRENT"))?.[0];
      await c.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: "AWSCURRENT", MoveToVersionId: token, RemoveFromVersionId: current }));
      return;
    }
    default:
      throw new Error(`unknown rotation step ${String(step)}`);
  }
}

async function createSecret(id: string, token: string, c: RotationClients): Promise<void> {
  const current = await read(c, id, { VersionStage: "AWSCURRENT" });
  try {
    await read(c, id, { VersionId: token, VersionStage: "AWSPENDING" });
    return; // a retried createSecret: the pending password exists already
  } catch (err) {
    if ((err as { name?: string }).name !== "ResourceNotFoundException") throw err;
  }
  const next: UserSecret = { username: current.username, userId: current.userId, password: c.newPassword() };
  await c.secrets.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: token, SecretString: JSON.stringify(next), VersionStages: ["AWSPENDING"] }));
}

async function read(c: RotationClients, id: string, which: { VersionId?: string; VersionStage: string }): Promise<UserSecret> {
  const out = await c.secrets.send(new GetSecretValueCommand({ SecretId: id, ...which }));
  const parsed = JSON.parse(String(out.SecretString ?? "{}")) as Partial<UserSecret>;
  // Never echo a password: name only what is missing.
  for (const k of ["username", "userId", "password"] as const) {
    if (typeof parsed[k] !== "string" || !parsed[k]) throw new Error(`secret ${id} (${which.VersionStage}): no ${k} in its JSON`);
  }
  return parsed as UserSecret;
}

async function waitActive(userId: string, c: RotationClients): Promise<void> {
  const sleep = c.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + USER_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const out = await c.elasticache.send(new DescribeUsersCommand({ UserId: userId }));
    const status = out.Users?.[0]?.Status;
    if (status === "active") return;
    if (Date.now() > deadline) throw new Error(`ElastiCache user ${userId} still ${status ?? "unknown"} after ${USER_ACTIVE_TIMEOUT_MS} ms`);
    await sleep(2_000);
  }
}

/**
 * A `testLogin` against the cache at `settings`: a fresh connection as the user with the password,
 * and PING. A wrong password fails the connect (WRONGPASS).
 */
export function redisLogin(settings: Omit<RedisSettings, "authSecretArn" | "iam">, timeoutMs = 5_000): RotationClients["testLogin"] {
  return async (username, password) => {
    const client = buildRedisClient(settings, { auth: { username, password }, commandTimeoutMs: 2_000, connectTimeoutMs: timeoutMs });
    try {
      await ensureConnected(client, timeoutMs);
      if ((await client.ping()) !== "PONG") throw new Error("the cache did not answer PING");
    } finally {
      releaseRedisClient(client);
      client.disconnect();
    }
  };
}
