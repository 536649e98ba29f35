/**
 * The rotation function's four steps against a real redis-server standing in for the ElastiCache
 * user (ModifyUser → `ACL SETUSER <user> resetpass >old >new`, the two passwords a user may hold),
 * with in-memory fakes of Secrets Manager and the ElastiCache API: AWS itself cannot run here. A
 * client on the old password keeps working through every step, fresh logins with the old password
 * work until the next rotation, and a client reading the secret after the rotation logs in with
 * the new one.
 */
import { DescribeUsersCommand, ModifyUserCommand } from "@aws-sdk/client-elasticache";
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import Redis from "ioredis";
import { redisLogin, rotate, RotationClients, RotationEvent, UserSecret } from "../../functions/cache-rotator/rotation";
import { createCacheStore } from "../../functions/lib/cache";
import { resetSecretCache } from "../../functions/lib/cache/secrets";
import { loadRuntimeConfig } from "../../functions/lib/config";
import { redisAccessString } from "../../functions/lib/contract";
import { RedisServerHandle, startRedis } from "../helpers/redis-server";

jest.setTimeout(30_000);

const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:svc-user-AbCdEf";
const USER = "svc-user";

/** Secrets Manager as far as a rotation uses it: versions with staging labels. */
class FakeSecretsManager {
  readonly versions = new Map<string, { stages: string[]; value: string }>();
  rotationEnabled = true;

  constructor(initial: UserSecret) {
    this.versions.set("v0", { stages: ["AWSCURRENT"], value: JSON.stringify(initial) });
  }

  /** Starts a rotation as Secrets Manager does: a new version id labelled AWSPENDING, no value yet. */
  startRotation(token: string): void {
    this.versions.set(token, { stages: ["AWSPENDING"], value: "" });
  }

  current(): UserSecret {
    return JSON.parse([...this.versions.values()].find((v) => v.stages.includes("AWSCURRENT"))!.value) as UserSecret;
  }

  async send(command: object): Promise<any> {
    const input = (command as { input: any }).input;
    if (command instanceof DescribeSecretCommand) {
      return { RotationEnabled: this.rotationEnabled, VersionIdsToStages: Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]])) };
    }
    if (command instanceof GetSecretValueCommand) {
      // Neither given: AWSCURRENT, as Secrets Manager answers.
      if (input.VersionId === undefined && input.VersionStage === undefined) input.VersionStage = "AWSCURRENT";
      const found = [...this.versions].find(([id, v]) =>
        (input.VersionId === undefined || input.VersionId === id) && (input.VersionStage === undefined || v.stages.includes(input.VersionStage)) && v.value !== "");
      if (!found) throw Object.assign(new Error("Secrets Manager can't find the specified secret value"), { name: "ResourceNotFoundException" });
      return { VersionId: found[0], SecretString: found[1].value };
    }
    if (command instanceof PutSecretValueCommand) {
      const v = this.versions.get(input.ClientRequestToken) ?? { stages: [], value: "" };
      this.versions.set(input.ClientRequestToken, { stages: [...new Set([...v.stages, ...input.VersionStages])], value: input.SecretString });
      return {};
    }
    if (command instanceof UpdateSecretVersionStageCommand) {
      for (const [id, v] of this.versions) {
        v.stages = v.stages.filter((s) => !(s === "AWSPREVIOUS" || (s === input.VersionStage && id === input.RemoveFromVersionId)));
        if (id === input.RemoveFromVersionId) v.stages.push("AWSPREVIOUS");
      }
      const target = this.versions.get(input.MoveToVersionId)!;
      target.stages = [...target.stages.filter((s) => s !== "AWSPENDING"), input.VersionStage];
      return {};
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  }
}

/** The ElastiCache API as far as a rotation uses it, with a real redis-server as the user's engine. */
class RedisBackedElastiCache {
  readonly modified: string[][] = [];
  private busyPolls = 0;

  constructor(private readonly admin: Redis, private readonly accessString: string) {}

  async send(command: object): Promise<any> {
    const input = (command as { input: any }).input;
    if (command instanceof ModifyUserCommand) {
      const passwords: string[] = input.AuthenticationMode.Passwords;
      this.modified.push(passwords);
      // ModifyUser replaces the user's password list; the access string stays.
      await this.admin.call("ACL", "SETUSER", input.UserId, "reset", ...this.accessString.split(" "), ...passwords.map((p) => `>${p}`));
      this.busyPolls = 1; // the user is "modifying" for one poll, as ElastiCache reports it for a while
      return {};
    }
    if (command instanceof DescribeUsersCommand) {
      const status = this.busyPolls-- > 0 ? "modifying" : "active";
      return { Users: [{ UserId: input.UserId, Status: status }] };
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  }
}

let server: RedisServerHandle;
let admin: Redis;
const accessString = redisAccessString("svc");
let sm: FakeSecretsManager;
let ec: RedisBackedElastiCache;
let clients: RotationClients;
let seq = 0;
const login = () => redisLogin({ host: "127.0.0.1", port: server.port, tls: false, clusterMode: false }, 2_000);
const canLogin = (password: string) => login()(USER, password).then(() => true, () => false);

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis({ port: server.port, host: "127.0.0.1" });
});

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

beforeEach(async () => {
  // GIVEN the user as Terraform created it: one password, which the secret's first version holds
  await admin.call("ACL", "SETUSER", USER, "reset", ...accessString.split(" "), ">first-password-0123456789");
  sm = new FakeSecretsManager({ username: USER, userId: USER, password: "first-password-0123456789" });
  ec = new RedisBackedElastiCache(admin, accessString);
  clients = { secrets: sm, elasticache: ec, testLogin: login(), newPassword: () => `rotated-${++seq}-0123456789abcdef`, sleep: async () => undefined };
});

const step = (token: string, Step: RotationEvent["Step"]) => rotate({ SecretId: SECRET, ClientRequestToken: token, Step }, clients);

test("a client on the old password keeps working through every step; the new password works after setSecret", async () => {
  // GIVEN a client connected with the first password
  const old = new Redis({ port: server.port, host: "127.0.0.1", username: USER, password: "first-password-0123456789" });
  try {
    await old.set("svc:{k}", "v");
    const stillWorks = async () => expect(await old.get("svc:{k}")).toBe("v");
    sm.startRotation("r1");

    // createSecret: a new AWSPENDING password; retried, it keeps the same one
    await step("r1", "createSecret");
    const pending = JSON.parse(sm.versions.get("r1")!.value) as UserSecret;
    expect(pending).toEqual({ username: USER, userId: USER, password: expect.stringMatching(/^rotated-/) });
    await step("r1", "createSecret");
    expect(JSON.parse(sm.versions.get("r1")!.value)).toEqual(pending);
    await stillWorks();
    // the new password is not set yet: testSecret would fail now, so it does test something
    await expect(step("r1", "testSecret")).rejects.toThrow();

    // setSecret: both passwords log in (the overlap), the live connection is untouched
    await step("r1", "setSecret");
    expect(ec.modified).toEqual([["first-password-0123456789", pending.password]]);
    await expect(canLogin("first-password-0123456789")).resolves.toBe(true);
    await expect(canLogin(pending.password)).resolves.toBe(true);
    await stillWorks();

    // testSecret: logs in with the pending password
    await step("r1", "testSecret");

    // finishSecret: the new version is AWSCURRENT; the old password still logs in (until the next rotation)
    await step("r1", "finishSecret");
    expect(sm.current().password).toBe(pending.password);
    expect(sm.versions.get("v0")!.stages).toEqual(["AWSPREVIOUS"]);
    await expect(canLogin("first-password-0123456789")).resolves.toBe(true);
    await stillWorks();
    // a retried finishSecret is a no-op
    await step("r1", "finishSecret");
    expect(sm.current().password).toBe(pending.password);
  } finally {
    old.disconnect();
  }
});

test("the next rotation drops the password before last; the runtime reading the secret now logs in with the new one", async () => {
  sm.startRotation("r1");
  for (const s of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) await step("r1", s);
  const second = sm.current().password;
  sm.startRotation("r2");
  for (const s of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) await step("r2", s);
  const third = sm.current().password;
  await expect(canLogin("first-password-0123456789")).resolves.toBe(false);
  await expect(canLogin(second)).resolves.toBe(true);
  await expect(canLogin(third)).resolves.toBe(true);

  // WHEN a function's cache store reads the rotated secret (REDIS_AUTH_MODE=secret, its JSON {username, password})
  resetSecretCache();
  const store = createCacheStore(loadRuntimeConfig({
    TABLE_NAME: "t", REDIS_HOST: "127.0.0.1", REDIS_PORT: String(server.port), REDIS_TLS: "false", REDIS_AUTH_MODE: "secret",
    REDIS_AUTH_SECRET_ARN: SECRET, CACHE_KEY_PREFIX: "svc",
  }), { secretsClient: { send: (c) => sm.send(c) } });
  try {
    // THEN it logs in as the user with the current password and may use its prefix
    await store.set("k2", "v2", 60);
    await expect(store.get("k2")).resolves.toBe("v2");
    const clientsList = String(await admin.call("CLIENT", "LIST"));
    expect(clientsList).toContain(`user=${USER}`);
  } finally {
    await store.close();
    resetSecretCache();
  }
});

test("a version that is not the pending one, or a secret without rotation, is refused", async () => {
  sm.startRotation("r1");
  await expect(step("nope", "createSecret")).rejects.toThrow(/not a version of the secret/);
  await expect(step("v0", "createSecret")).resolves.toBeUndefined(); // already AWSCURRENT: done
  sm.rotationEnabled = false;
  await expect(step("r1", "createSecret")).rejects.toThrow(/rotation is not enabled/);
});
