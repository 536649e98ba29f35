/**
 * `Cache-Control` is the runtime's, from the contract: a public cached GET's success may go into a
 * shared cache; anything behind an API key or a verified caller answers `private, no-store`,
 * whatever its status and whatever the route's own code tried to set. Every route of every shipped
 * contract is checked (the contracts are found on disk, so a new route is covered as it lands).
 */
import { cacheControlOf, NO_STORE, PRIVATE_NO_STORE, sharedCacheable } from "../../functions/lib/cache-control";
import { MemoryCacheStore } from "../../functions/lib/cache";
import { CALLER_IDENTITY, CONNECTIONS, fillPath, FunctionContract, pathParameters, RouteSpec, RUNTIME_SETTINGS } from "../../functions/lib/contract";
import { HttpError, json, ProxyResult } from "../../functions/lib/http";
import { defineHandler, RouteHandler } from "../../functions/lib/runtime";
import { shippedContracts } from "../helpers/contracts";
import { apiEvent } from "./events";

process.env.LOG_LEVEL = "silent";

const SETTINGS = { maxAgeSeconds: 60, sharedMaxAgeSeconds: 120, staleWhileRevalidateSeconds: 30 };
/** Directives that let a shared cache (CloudFront) keep a response. */
const SHARED = /\b(public|s-maxage)\b/i;

describe("cacheControlOf", () => {
  const get = { method: "GET", access: "public", cached: true } as const;
  test("a public cached GET's success is shareable, with max-age, s-maxage and stale-while-revalidate", () => {
    expect(cacheControlOf(get, 200, SETTINGS)).toBe("public, max-age=60, s-maxage=120, stale-while-revalidate=30");
    expect(cacheControlOf(get, 200, { ...SETTINGS, staleWhileRevalidateSeconds: 0 })).toBe("public, max-age=60, s-maxage=120");
  });
  test("its errors, and public routes that are not cached reads, are no-store", () => {
    for (const status of [304, 400, 404, 429, 500, 503]) expect(cacheControlOf(get, status, SETTINGS)).toBe(NO_STORE);
    expect(cacheControlOf({ ...get, cached: false }, 200, SETTINGS)).toBe(NO_STORE);
    expect(cacheControlOf({ ...get, method: "PUT" }, 200, SETTINGS)).toBe(NO_STORE);
    expect(cacheControlOf(undefined, 404, SETTINGS)).toBe(NO_STORE);
  });
  test("a caller or API-key route is private, no-store, even a cached GET's success", () => {
    for (const access of ["caller", "apiKey"] as const) {
      expect(sharedCacheable({ ...get, access })).toBe(false);
      for (const status of [200, 201, 204, 401, 404, 500]) expect(cacheControlOf({ ...get, access }, status, SETTINGS)).toBe(PRIVATE_NO_STORE);
    }
  });
});

/** A request for `route` with made-up path parameters and a small JSON body. */
function requestFor(route: RouteSpec, caller?: string) {
  const params = Object.fromEntries(pathParameters(route.path).map((p) => [p, "x1"]));
  return apiEvent(route.method, fillPath(route.path, params), {
    resource: route.path, pathParameters: params, body: route.body ? { any: "thing" } : undefined, caller,
  });
}

/** Route code that tries its hardest to be shared: public headers on every status, or a thrown error. */
function hostile(status: number | "throw"): RouteHandler {
  return async (): Promise<ProxyResult> => {
    if (status === "throw") throw new HttpError(409, "conflict", { "Cache-Control": "public, s-maxage=999" });
    return json(status, { ok: true }, { "Cache-Control": "public, max-age=999, s-maxage=999", "cache-control": "public" });
  };
}

const contracts = shippedContracts();
const deps = () => ({
  env: {
    [CONNECTIONS.tableName.env]: "t",
    [CONNECTIONS.callerIdentity.env]: CALLER_IDENTITY.lambda,
    [RUNTIME_SETTINGS.cacheControlSharedMaxAgeSeconds.env]: "120",
  },
  store: new MemoryCacheStore({ keyPrefix: "t" }),
});

test("the shipped contracts are found on disk (products and sessions at least)", () => {
  expect(contracts.map((c) => c.name)).toEqual(expect.arrayContaining(["products", "sessions"]));
});

describe.each(contracts.map((c) => [c.name, c] as [string, FunctionContract]))("every route of contract %s", (_name, contract) => {
  const statuses = [200, 201, 204, 400, 404, 500, "throw"] as const;
  test.each(contract.routes.map((r) => [`${r.method} ${r.path} (${r.access})`, r] as [string, RouteSpec]))("%s", async (_label, route) => {
    for (const status of statuses) {
      const handlers = Object.fromEntries(contract.routes.map((r) => [r.name, hostile(status)]));
      // A contract with socket routes needs their code too (none is reached here).
      const socketHandlers = contract.socket && Object.fromEntries(contract.socket.routes.map((r) => [r.name, hostile(status)]));
      const h = defineHandler(contract, handlers as never, socketHandlers as never).createHandler(deps());
      for (const caller of [undefined, "customer-1"]) {
        const res = await h(requestFor(route, caller));
        const values = Object.entries(res.headers).filter(([k]) => k.toLowerCase() === "cache-control").map(([, v]) => v);
        expect(values).toHaveLength(1);
        const [cc] = values;
        if (route.access !== "public") {
          // The guarantee: an authenticated (or keyed) answer never carries a shared-cache directive.
          expect({ status: res.statusCode, cc }).toEqual({ status: res.statusCode, cc: PRIVATE_NO_STORE });
        } else if (sharedCacheable(route) && res.statusCode >= 200 && res.statusCode < 300) {
          expect(cc).toBe("public, max-age=60, s-maxage=120, stale-while-revalidate=30");
        } else {
          expect(cc).toBe(NO_STORE);
        }
        if (route.access !== "public") expect(cc).not.toMatch(SHARED);
      }
    }
  });
});

test("a request no route matches is no-store", async () => {
  const [contract] = contracts;
  const handlers = Object.fromEntries(contract.routes.map((r) => [r.name, hostile(200)]));
  const h = defineHandler(contract, handlers as never).createHandler(deps());
  const res = await h(apiEvent("GET", "/no/such/route"));
  expect(res.statusCode).toBe(404);
  expect(res.headers["cache-control"]).toBe(NO_STORE);
});
