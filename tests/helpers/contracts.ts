/**
 * Every contract the package ships, found by reading `functions/<name>/contract.ts` (not from a
 * list), so a test iterating over them covers a new handler or route without being edited.
 */
import { readdirSync, existsSync } from "fs";
import * as path from "path";
import type { FunctionContract } from "../../functions/lib/contract";

const FUNCTIONS = path.resolve(__dirname, "../../functions");

function isContract(v: unknown): v is FunctionContract {
  const c = v as Partial<FunctionContract> | undefined;
  return !!c && typeof c === "object" && typeof c.name === "string" && typeof c.entry === "string" && Array.isArray(c.routes);
}

/** Every exported contract of `functions/<dir>/contract.ts` that serves at least one route, by name. */
export function shippedContracts(): FunctionContract[] {
  const found = new Map<string, FunctionContract>();
  for (const dir of readdirSync(FUNCTIONS)) {
    const file = path.join(FUNCTIONS, dir, "contract.ts");
    if (!existsSync(file)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as Record<string, unknown>;
    for (const v of Object.values(mod)) if (isContract(v) && v.routes.length > 0) found.set(v.name, v);
  }
  return [...found.values()];
}
