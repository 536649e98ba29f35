/**
 * The Redis AUTH token from Secrets Manager, fetched once per container per ARN:
 * `const { password } = await redisAuthFromSecret(arn, client);`
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { withDeadline } from "../deadline";

export interface RedisAuth {
  readonly username?: string;
  readonly password: string;
}

/** Anything that can send GetSecretValue (the real client, or a stub in tests). */
export interface SecretsSender {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

const cache = new Map<string, Promise<RedisAuth>>();

/** Accepts the raw token, or JSON with `authToken` / `password` (and optionally `username`). */
export function parseRedisAuth(secretString: string): RedisAuth {
  const trimmed = secretString.trim();
  if (trimmed.startsWith("{")) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      // Never echo the secret: say only what shape was expected.
      throw new Error("redis auth secret: looks like JSON but does not parse");
    }
    const password = parsed.authToken ?? parsed.password;
    if (typeof password !== "string" || !password) throw new Error("redis auth secret: JSON without a string authToken or password");
    const username = typeof parsed.username === "string" && parsed.username ? parsed.username : undefined;
    return { username, password };
  }
  if (!trimmed) throw new Error("redis auth secret: empty SecretString");
  return { password: trimmed };
}

/** Longest one GetSecretValue may take, retries included: the secret is read on the cache's connect path. */
export const SECRET_FETCH_TIMEOUT_MS = 2_000;

/**
 * A Secrets Manager client whose calls end: per-attempt timeouts that throw (not only warn), and a
 * hung endpoint cannot hold a cold start for longer than {@link SECRET_FETCH_TIMEOUT_MS}.
 */
export function createSecretsClient(region?: string, endpoint?: string): SecretsSender {
  const client = new SecretsManagerClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: SECRET_FETCH_TIMEOUT_MS / 2, throwOnRequestTimeout: true },
  });
  return {
    send: (command) => {
      const controller = new AbortController();
      return withDeadline(client.send(command, { abortSignal: controller.signal }), SECRET_FETCH_TIMEOUT_MS, () => {
        controller.abort();
        return new Error(`Secrets Manager did not answer within ${SECRET_FETCH_TIMEOUT_MS} ms`);
      });
    },
  };
}

export function redisAuthFromSecret(arn: string, client?: SecretsSender, region?: string): Promise<RedisAuth> {
  let p = cache.get(arn);
  if (!p) {
    const sender = client ?? createSecretsClient(region);
    p = sender.send(new GetSecretValueCommand({ SecretId: arn })).then((out) => {
      if (typeof out.SecretString !== "string") throw new Error(`redis auth secret ${arn}: no SecretString`);
      return parseRedisAuth(out.SecretString);
    });
    cache.set(arn, p);
    // A failed fetch must not poison the container: the next cold path tries again.
    p.catch(() => {
      if (cache.get(arn) === p) cache.delete(arn);
    });
  }
  return p;
}

/** Forgets fetched secrets (tests only). */
export function resetSecretCache(): void {
  cache.clear();
}
