/**
 * Makes sure the synthesized output is there and newer than the sources, synthesizing with
 * `node dist/main.js` when it is not. A lock (in the temp dir, keyed by the output folder)
 * keeps two twins, or the twins of parallel tests, from synthesizing or reading at once.
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { alive } from "./redis";

/** Files whose change makes the synthesized output stale. */
const SOURCE_ROOTS = ["main.ts", "stacks", "modules", "functions", "package-lock.json", "cdktf.json"];

function newestMtime(p: string): number {
  let st;
  try {
    st = statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(p)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(path.join(p, name)));
  }
  return newest;
}

/** Why the output in `outDir` must be synthesized again, or undefined when it is current. */
export function staleness(root: string, outDir: string): string | undefined {
  const manifest = path.join(outDir, "manifest.json");
  if (!existsSync(manifest)) {
    const rel = path.relative(root, outDir);
    return `${rel && !rel.startsWith("..") ? rel : outDir} has no synthesized stacks`;
  }
  const synthesized = statSync(manifest).mtimeMs;
  const newest = Math.max(...SOURCE_ROOTS.map((r) => newestMtime(path.join(root, r))));
  return newest > synthesized ? "the sources changed since the last synth" : undefined;
}

/** Runs the app (`node dist/main.js`) into `outDir`; throws with its last error line on failure. */
export function synthesize(root: string, outDir: string): void {
  const app = path.join(root, "dist", "main.js");
  if (!existsSync(app)) throw new Error("dist/main.js not found: compile first (npm run build; npm start does it)");
  const r = spawnSync(process.execPath, [app], {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: outDir },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const lines = `${r.stderr ?? ""}\n${r.error?.message ?? ""}`.split("\n").map((l) => l.trim()).filter(Boolean);
    const line = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? `exit code ${r.status}`;
    throw new Error(`synth failed (node dist/main.js): ${line}`);
  }
}

/**
 * Runs `fn` holding a lock on `outDir` (a directory in the temp dir; a lock whose holder died
 * is taken over). Waits up to `timeoutMs`.
 */
export async function withOutDirLock<T>(outDir: string, fn: () => T | Promise<T>, timeoutMs = 120_000): Promise<T> {
  const id = createHash("sha256").update(path.resolve(outDir)).digest("hex").slice(0, 16);
  const lock = path.join(tmpdir(), `cachefront-twin-${id}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path.join(lock, "pid"), "utf8"));
      } catch {
        /* being created or removed */
      }
      const age = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if ((Number.isInteger(holder) && holder > 0 && !alive(holder)) || (Number.isNaN(holder) && age > 10_000)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another twin holds ${lock} (pid ${holder}); remove it if no twin is starting`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
