/**
 * The twin as a process: it synthesizes when there is nothing synthesized, refuses a port in
 * use, stops on SIGTERM and SIGINT leaving no redis-server and no function process behind,
 * falls back to the memory cache without redis-server, and reports errors in one line.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import * as path from "path";
import { commandOf, requireCompiledTools, runSmoke, runTwin, startTwin, waitGone } from "./twin-process";

jest.setTimeout(120_000);

const tmpDirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
};

beforeAll(() => requireCompiledTools());
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** Concurrent POSTs without a token: the gateway answers them all (401, or 429 when throttled). */
async function burst(url: string, n: number): Promise<Record<number, number>> {
  const statuses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${url}/v1/sessions/burst-${i}/turns`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    ),
  );
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

describe("twin lifecycle", () => {
  test("refuses a port in use in one line; SIGTERM leaves no redis-server and no child process", async () => {
    const twin = await startTwin();
    try {
      const second = await runTwin(["--port", String(twin.port), "--outputs", path.join(twin.dir, "second.json")]);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`error: port ${twin.port} on 127.0.0.1 is already in use (another twin?); choose another with --port\n`);
      expect(second.stdout).toBe("");

      const pids = twin.descendants();
      const names = pids.map(commandOf);
      expect(names).toContain("redis-server");
      expect(names.filter((n) => n === "node").length).toBeGreaterThanOrEqual(1); // the function process
      const redisPid = Number(/redis-server pid (\d+)/.exec(twin.stdout())![1]);
      expect(pids).toContain(redisPid);

      const exit = await twin.stop("SIGTERM");
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await waitGone(pids)).toEqual([]);
      expect(twin.stdout()).toMatch(/stopping \(SIGTERM\)…\nstopped\n$/);
      expect(await canBind(twin.port)).toBe(true);
    } finally {
      await twin.stop("SIGKILL");
    }
  });

  test("synthesizes into an empty output folder, serves without throttling, and SIGINT leaves nothing behind", async () => {
    const outDir = tmp("twin-synth-");
    const twin = await startTwin(["--stack", "session-store-dev", "--no-throttle"], { env: { ...process.env, CDKTF_OUTDIR: outDir } });
    try {
      expect(twin.stdout()).toMatch(/^twin: session-store-dev from .*cdk\.tf\.json \(synthesized: .* has no synthesized stacks\)$/m);
      expect(twin.stdout()).toMatch(/^dax: no local equivalent; the functions read DynamoDB directly/m);
      expect(twin.stdout()).toMatch(/^throttling: off \(--no-throttle\)$/m);
      // The dev stage allows a burst of 100: with throttling off, 150 at once are all answered.
      expect(await burst(twin.url, 150)).toEqual({ 401: 150 });

      const pids = twin.descendants();
      expect(pids.map(commandOf)).toContain("redis-server");
      const exit = await twin.stop("SIGINT");
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await waitGone(pids)).toEqual([]);
      expect(twin.stdout()).toMatch(/stopping \(SIGINT\)…\nstopped\n$/);
    } finally {
      await twin.stop("SIGKILL");
    }
  });

  test("with no redis-server on PATH, uses the memory cache backend, says so, and still passes the smoke suite", async () => {
    // A PATH holding only node.
    const bin = tmp("twin-path-");
    mkdirSync(path.join(bin, "bin"));
    symlinkSync(process.execPath, path.join(bin, "bin", "node"));
    const twin = await startTwin([], { env: { ...process.env, PATH: path.join(bin, "bin") } });
    try {
      expect(twin.stdout()).toMatch(/^cache: no redis-server on PATH; the functions use the in-memory cache backend \(CACHE_BACKEND=memory\)/m);
      expect(twin.descendants().map(commandOf)).not.toContain("redis-server");
      expect(twin.outputs()).toMatchObject({ redis_endpoint: "", redis_port: 0 });
      const smoke = await runSmoke(["--outputs", twin.outputsFile]);
      expect(smoke.stdout).toMatch(/^smoke: ok: 12 passed, 0 failed/m);
      expect(smoke.code).toBe(0);
    } finally {
      await twin.stop();
    }
  });

  test("reports errors in one line with a non-zero exit", async () => {
    const empty = tmp("twin-empty-");
    const [unknown, missing, badFlag, badPort] = await Promise.all([
      runTwin(["--stack", "no-such-stack", "--port", "0"]),
      runTwin(["--no-synth", "--port", "0"], { ...process.env, CDKTF_OUTDIR: empty }),
      runTwin(["--frobnicate"]),
      runTwin(["--port", "99999"]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: unknown stack "no-such-stack"; synthesized stacks: .*product-catalog-dev.*session-store-dev.*\n$/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: no synthesized stacks in ${empty}: run npm run synth (or start without --no-synth)\n`);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toBe("error: Unknown option '--frobnicate' (see --help)\n");
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toBe("error: --port 99999: an integer from 0 to 65535\n");
  });
});
