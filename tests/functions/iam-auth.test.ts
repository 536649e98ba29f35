/**
 * ElastiCache IAM authentication: the token (pinned, its shape, and its signature recomputed here
 * from the SigV4 specification with node:crypto, independently of the SDK's signer), the cached
 * provider's refresh on a fake clock, and on a real redis-server with an ACL user whose password is
 * set to the provider's token: the client authenticates with it, re-authenticates its live
 * connection when a new token is due (and only then), and reconnects with the current one.
 */
import { createHash, createHmac } from "crypto";
import Redis from "ioredis";
import { AwsCredentials, elastiCacheAuthToken, ElastiCacheIamTokenProvider, ElastiCacheTokenTarget, RedisCacheStore, RedisIamAuth } from "../../functions/lib/cache";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";
import { eventually, sleep } from "../helpers/timing";

jest.setTimeout(30_000);

const CREDENTIALS: AwsCredentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const SIGNED_AT = new Date(Date.UTC(2026, 0, 15, 12, 34, 56));
const TARGET: ElastiCacheTokenTarget = { userId: "cache-user", cacheName: "Orders-Cache", region: "eu-west-1" };
const MINUTE = 60_000;

/** The token's query parameters, decoded, in order. */
function queryOf(token: string): Array<[string, string]> {
  return [...new URL(`http://${token}`).searchParams.entries()];
}

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
/** RFC 3986 encoding, as SigV4 canonicalisation requires. */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 signing key: HMAC chain over date, region, service and "aws4_request". */
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

/**
 * Recomputes a presigned GET's signature from the SigV4 specification: canonical request (method,
 * URI, sorted encoded query without the signature, canonical headers, signed headers, hash of the
 * empty payload), string to sign, signing key.
 */
function expectedSignature(token: string, secret: string): string {
  const url = new URL(`http://${token}`);
  const params = queryOf(token).filter(([k]) => k !== "X-Amz-Signature");
  const canonicalQuery = params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = ["GET", "/", canonicalQuery, `host:${url.hostname}\n`, "host", sha256Hex("")].join("\n");
  const q = new Map(params);
  const [, date, region, service] = q.get("X-Amz-Credential")!.split("/");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", q.get("X-Amz-Date")!, scope, sha256Hex(canonicalRequest)].join("\n");
  return hmac(signingKey(secret, date, region, service), stringToSign).toString("hex");
}

describe("elastiCacheAuthToken", () => {
  test("the recomputation's signing key matches AWS's published example", () => {
    // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
    expect(signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam").toString("hex")).toBe(
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
    );
  });

  test("fixed clock and credentials give a pinned token, whose signature SigV4 recomputed independently confirms", async () => {
    const token = await elastiCacheAuthToken(TARGET, CREDENTIALS, SIGNED_AT);
    expect(token).toBe(
      "orders-cache/?Action=connect&User=cache-user&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
        "&X-Amz-Credential=AKIDEXAMPLE%2F20260115%2Feu-west-1%2Felasticache%2Faws4_request" +
        "&X-Amz-Date=20260115T123456Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host" +
        "&X-Amz-Signature=591b080dff4d15d129836eda28401ff545c0bceec2dc454a1730c5ce75fcc040",
    );
    expect(new Map(queryOf(token)).get("X-Amz-Signature")).toBe(expectedSignature(token, CREDENTIALS.secretAccessKey));
    // and the recomputation is sensitive: another secret gives another signature
    expect(expectedSignature(token, `${CREDENTIALS.secretAccessKey}x`)).not.toBe(new Map(queryOf(token)).get("X-Amz-Signature"));
  });

  test("shape: no scheme, host = lower-cased cache name, path /, the documented query", async () => {
    const token = await elastiCacheAuthToken(TARGET, CREDENTIALS, SIGNED_AT);
    expect(token).not.toMatch(/^https?:\/\//);
    const url = new URL(`http://${token}`);
    expect(url.hostname).toBe("orders-cache");
    expect(url.pathname).toBe("/");
    expect(Object.fromEntries(queryOf(token))).toEqual({
      Action: "connect",
      User: "cache-user",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIDEXAMPLE/20260115/eu-west-1/elasticache/aws4_request",
      "X-Amz-Date": "20260115T123456Z",
      "X-Amz-Expires": "900",
      "X-Amz-SignedHeaders": "host",
      "X-Amz-Signature": expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test("serverless cache and temporary credentials: ResourceType and the session token are signed too", async () => {
    const creds = { ...CREDENTIALS, sessionToken: "FwoGZXIvYXdzEJr//////////wEaDOdD+/tok=" };
    const token = await elastiCacheAuthToken({ ...TARGET, serverless: true }, creds, SIGNED_AT);
    const q = new Map(queryOf(token));
    expect(q.get("ResourceType")).toBe("ServerlessCache");
    expect(q.get("X-Amz-Security-Token")).toBe(creds.sessionToken);
    expect(q.get("X-Amz-Signature")).toBe(expectedSignature(token, creds.secretAccessKey));
    expect(token).toBe(
      "orders-cache/?Action=connect&User=cache-user&ResourceType=ServerlessCache" +
        "&X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDOdD%2B%2Ftok%3D&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
        "&X-Amz-Credential=AKIDEXAMPLE%2F20260115%2Feu-west-1%2Felasticache%2Faws4_request" +
        "&X-Amz-Date=20260115T123456Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host" +
        "&X-Amz-Signature=4db75bdb625367ac11c99180368ae3d4568ee98a1dbd0f5a2bb6d6d3af40d5e8",
    );
  });

  test("names a missing user, cache or region", async () => {
    await expect(elastiCacheAuthToken({ ...TARGET, userId: "" }, CREDENTIALS, SIGNED_AT)).rejects.toThrow(/userId/);
    await expect(elastiCacheAuthToken({ ...TARGET, region: "" }, CREDENTIALS, SIGNED_AT)).rejects.toThrow(/region/);
  });
});

describe("ElastiCacheIamTokenProvider", () => {
  function provider(overrides: Partial<ConstructorParameters<typeof ElastiCacheIamTokenProvider>[0]> = {}) {
    const clock = { t: SIGNED_AT.getTime() };
    const calls = { credentials: 0 };
    const failing = { now: false };
    const p = new ElastiCacheIamTokenProvider({
      ...TARGET,
      credentials: async () => {
        calls.credentials++;
        if (failing.now) throw new Error("credentials unavailable");
        return CREDENTIALS;
      },
      now: () => clock.t,
      ...overrides,
    });
    return { p, clock, calls, failing };
  }

  test("caches the token, refreshes it at 80 % of its 15 minutes, and the new one differs", async () => {
    const { p, clock, calls } = provider();
    expect(p.due).toBe(true);
    const first = await p.token();
    expect(first).toBe(await elastiCacheAuthToken(TARGET, CREDENTIALS, SIGNED_AT));
    clock.t += 12 * MINUTE - 1;
    expect(p.due).toBe(false);
    await expect(p.token()).resolves.toBe(first);
    expect(calls.credentials).toBe(1);
    clock.t += 1; // 12 minutes = 80 % of 900 s: before the token expires at 15
    expect(p.due).toBe(true);
    const second = await p.token();
    expect(second).not.toBe(first);
    expect(new Map(queryOf(second)).get("X-Amz-Date")).toBe("20260115T124656Z");
    expect(calls.credentials).toBe(2);
  });

  test("the refresh point is configurable; concurrent callers share one signing", async () => {
    const { p, clock, calls } = provider({ refreshAt: 0.5 });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => p.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(calls.credentials).toBe(1);
    clock.t += 7.5 * MINUTE;
    await expect(p.token()).resolves.not.toBe(tokens[0]);
    expect(() => provider({ refreshAt: 1 })).toThrow(/refreshAt/);
  });

  test("a failed refresh keeps serving the old token while it is valid, then fails", async () => {
    const { p, clock, failing } = provider();
    const first = await p.token();
    failing.now = true;
    clock.t += 13 * MINUTE;
    await expect(p.token()).resolves.toBe(first);
    clock.t += 2 * MINUTE; // 15 minutes: the old token has expired
    await expect(p.token()).rejects.toThrow(/credentials unavailable/);
    failing.now = false;
    await expect(p.token()).resolves.not.toBe(first);
  });

  test("without credentials it uses the SDK's default chain (the Lambda's environment variables)", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDFROMENV", AWS_SECRET_ACCESS_KEY: "secret-from-env", AWS_SESSION_TOKEN: "session-from-env" });
    try {
      const p = new ElastiCacheIamTokenProvider({ ...TARGET, now: () => SIGNED_AT.getTime() });
      const q = new Map(queryOf(await p.token()));
      expect(q.get("X-Amz-Credential")).toMatch(/^AKIDFROMENV\//);
      expect(q.get("X-Amz-Security-Token")).toBe("session-from-env");
    } finally {
      for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe.each([false, true])("RedisCacheStore with IAM auth on a real redis-server (cluster mode %s)", (clusterMode) => {
  const USER = "app-user";
  let server: RedisServerHandle;
  let admin: Redis;
  const clock = { t: SIGNED_AT.getTime() };
  const opened: RedisCacheStore[] = [];
  const tokenAt = (t: number) => elastiCacheAuthToken({ userId: USER, cacheName: "my-cache", region: "eu-west-1" }, CREDENTIALS, new Date(t));
  /** Makes `token` the user's only password, as ElastiCache accepts only a current token. */
  const acceptOnly = async (token: string) => void (await admin.call("ACL", "SETUSER", USER, "on", "resetpass", `>${token}`, "~*", "&*", "+@all"));

  beforeAll(async () => {
    server = await startRedis({ cluster: clusterMode });
    const bootstrap = new Redis({ host: "127.0.0.1", port: server.port });
    await bootstrap.call("ACL", "SETUSER", "admin", "on", ">admin-pw", "~*", "&*", "+@all");
    bootstrap.disconnect();
    admin = new Redis({ host: "127.0.0.1", port: server.port, username: "admin", password: "admin-pw" });
    // Without a password nothing works: a client that did not AUTH as the user would fail.
    await admin.call("ACL", "SETUSER", "default", "off");
  });

  // A store left open would keep re-authenticating into the next test's ACL LOG.
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  function store(auth: Partial<RedisIamAuth> = {}): RedisCacheStore {
    const s = new RedisCacheStore({
      keyPrefix: `iam-${clusterMode}`,
      settings: { host: "127.0.0.1", port: server.port, tls: false, clusterMode },
      commandTimeoutMs: 2_000,
      auth: { mode: "iam", userId: USER, cacheName: "my-cache", region: "eu-west-1", credentials: CREDENTIALS, now: () => clock.t, ...auth },
    });
    opened.push(s);
    return s;
  }

  interface Connection {
    readonly id: string;
    readonly addr: string;
    /** The last command it ran. */
    readonly cmd: string;
  }

  /** The user's connections (not the cluster client's short-lived slot refreshers). */
  async function userConnections(): Promise<Connection[]> {
    const list = String(await admin.call("CLIENT", "LIST"));
    return list
      .split("\n")
      .filter((l) => l.includes(` user=${USER} `) && !l.includes("refresher"))
      .map((l) => ({ id: /^id=(\d+)/.exec(l)![1], addr: / addr=(\S+)/.exec(l)![1], cmd: / cmd=(\S+)/.exec(l)![1] }));
  }

  /**
   * Ids of connections whose AUTH failed since the last {@link resetFailedAuths} (ACL LOG lists refused
   * authentications; it merges repeats into the first entry, hence the resets).
   */
  async function failedAuthIds(): Promise<string[]> {
    const entries = (await admin.call("ACL", "LOG")) as unknown[][];
    return entries.map((e) => String(e[e.indexOf("client-info") + 1])).map((info) => /id=(\d+)/.exec(info)?.[1] ?? "?");
  }

  const resetFailedAuths = async () => void (await admin.call("ACL", "LOG", "RESET"));

  test("authenticates with the current token, re-AUTHs its live connection when a new one is due (only then), reconnects with the current one", async () => {
    clock.t = SIGNED_AT.getTime();
    await acceptOnly(await tokenAt(clock.t));
    const s = store({ checkIntervalMs: 100 });
    await s.set("k", "v", 60);
    await expect(s.get("k")).resolves.toBe("v");
    const connections = await userConnections();
    expect(connections.length).toBeGreaterThanOrEqual(1);
    expect(connections.map((c) => c.cmd)).not.toContain("auth");
    const ids = connections.map((c) => c.id);

    // 5 minutes on: the token is not due, so no AUTH is sent however often the timer looks
    clock.t += 5 * MINUTE;
    await sleep(500);
    expect((await userConnections()).map((c) => c.cmd)).not.toContain("auth");

    // 13 minutes on: a new token is due; only it is accepted from now on (accepted before the
    // clock moves: the timer may act the moment it does)
    await resetFailedAuths();
    await acceptOnly(await tokenAt(clock.t + 8 * MINUTE));
    clock.t += 8 * MINUTE;
    const due = Date.now();
    const reauthed = () => userConnections().then((cs) => cs.filter((c) => ids.includes(c.id) && c.cmd === "auth").length === ids.length);
    await expect(eventually(async () => {
      if (!(await reauthed())) throw new Error("not re-authenticated yet");
    }, 2_000, 20)).resolves.toBe(true);
    console.info(`IAM re-AUTH (cluster mode ${clusterMode}) on the live connection ${Date.now() - due} ms after the token fell due (checked every 100 ms)`);
    // the same connections (no reconnect), and their AUTH was accepted: it carried the fresh token
    expect((await userConnections()).map((c) => c.id)).toEqual(ids);
    const refused = await failedAuthIds();
    for (const id of ids) expect(refused).not.toContain(id);
    await expect(s.get("k")).resolves.toBe("v");

    // a dropped connection comes back with the current token (the earlier one is refused now)
    await resetFailedAuths();
    await admin.call("CLIENT", "KILL", "USER", USER);
    await expect(eventually(() => s.get("k"), 5_000, 50)).resolves.toBe(true);
    await expect(s.get("k")).resolves.toBe("v");
    const back = await userConnections();
    expect(back.map((c) => c.id)).not.toEqual(ids);
    const refusedAfter = await failedAuthIds();
    for (const c of back) expect(refusedAfter).not.toContain(c.id);
  });

  test("with no timer running (a frozen Lambda), the next call refreshes the token and re-AUTHs before its command", async () => {
    clock.t = SIGNED_AT.getTime() + 60 * MINUTE;
    await acceptOnly(await tokenAt(clock.t));
    const others = (await userConnections()).map((c) => c.id);
    const s = store({ checkIntervalMs: 3_600_000 });
    await s.set("k2", "v", 60);
    const [conn] = (await userConnections()).filter((c) => !others.includes(c.id));
    const monitor = await admin.monitor();
    const seen: string[] = [];
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (source === conn.addr) seen.push(String(args[0]).toLowerCase());
    });
    try {
      await sleep(50);
      await resetFailedAuths();
      await acceptOnly(await tokenAt(clock.t + 13 * MINUTE));
      clock.t += 13 * MINUTE;
      await expect(s.get("k2")).resolves.toBe("v");
      await sleep(50);
      // on the same connection: AUTH first, then the command that asked for it
      expect(seen.slice(0, 2)).toEqual(["auth", "get"]);
      expect(await failedAuthIds()).not.toContain(conn.id);
    } finally {
      monitor.disconnect();
    }
  });
});
