/**
 * Alarm descriptions work where the alarm fires: each says what to check first and links to its
 * runbook section by an absolute URL (the package's repository at its version), whose anchor is a
 * heading of help/operations.md.
 */
import { Authorization } from "../../modules/authorization";
import { Testing } from "cdktf";
import { readFileSync } from "fs";
import * as path from "path";
import {
  ALARM_FIRST_CHECKS, ALARM_KEYS, CacheApi, CacheAsideFunction, CacheObservability, CacheTable, Network, PRODUCTS, PropsValidationError, RedisCache,
} from "../../modules";
import { helpPageUrl, packageInfo } from "../../modules/core/package-info";
import { buildApp } from "../../stacks/app";
import { resourcesOf, SynthJson, testStack } from "../helpers/synth";

const ROOT = path.resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** GitHub's anchors of the headings of a markdown page: lowercased, punctuation dropped, spaces to '-'. */
function anchorsOf(markdown: string): Set<string> {
  return new Set(markdown.split("\n").filter((l) => /^#{1,6} /.test(l))
    .map((l) => l.replace(/^#+ /, "").trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")));
}

const OPERATIONS = anchorsOf(readFileSync(path.join(ROOT, "help", "operations.md"), "utf8"));
const DESCRIPTION = /^(?<summary>.+) Action: (?<action>.+) Runbook: (?<url>https:\/\/\S+)#(?<anchor>[a-z0-9-]+)$/;

/** Every alarm description of the default app's prod stacks (they hold every kind of alarm between them). */
function appAlarmDescriptions(): string[] {
  const app = buildApp(Testing.app());
  return ["product-catalog-prod", "session-store-prod"].flatMap((name) => {
    const json = JSON.parse(Testing.synth(app.node.findChild(name) as never)) as SynthJson;
    return resourcesOf(json, "aws_cloudwatch_metric_alarm").map(([, a]) => a.alarm_description as string);
  });
}

describe("alarm runbooks", () => {
  const descriptions = appAlarmDescriptions();

  test("the default link is help/operations.md of this version on the package's repository", () => {
    expect(packageInfo().repositoryWebUrl).toBe(pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, ""));
    expect(helpPageUrl("operations.md")).toBe(`${packageInfo().repositoryWebUrl}/blob/v${pkg.version}/help/operations.md`);
  });

  test("every alarm of the prod stacks carries a first check and an absolute runbook link to an existing heading", () => {
    expect(descriptions.length).toBeGreaterThanOrEqual(ALARM_KEYS.length);
    const problems = descriptions.flatMap((d) => {
      const m = DESCRIPTION.exec(d);
      if (!m?.groups) return [`no action or absolute link: ${d}`];
      const out: string[] = [];
      if (m.groups.url !== helpPageUrl("operations.md")) out.push(`links to ${m.groups.url}`);
      if (!OPERATIONS.has(m.groups.anchor)) out.push(`#${m.groups.anchor} is no heading of help/operations.md`);
      if (d.length > 1024) out.push(`${d.length} characters; CloudWatch allows 1024`);
      return out;
    });
    expect(problems).toEqual([]);
  });

  test("every alarm key has a first check of one short sentence, and a runbook section", () => {
    for (const k of ALARM_KEYS) {
      expect({ k, action: ALARM_FIRST_CHECKS[k] }).toEqual({ k, action: expect.stringMatching(/^[A-Z].{20,160}\.$/) });
      expect({ k, section: OPERATIONS.has(k.toLowerCase()) }).toEqual({ k, section: true });
    }
  });

  test("the anchor check can fail: a heading that is not there is not found", () => {
    expect(OPERATIONS.has("cachehitratio")).toBe(true);
    expect(OPERATIONS.has("cachehitratio2")).toBe(false);
    expect(DESCRIPTION.test("Hit ratio low. Runbook: help/operations.md#cachehitratio")).toBe(false); // the old, repository-relative form
  });

  describe("runbookUrl", () => {
    function observability(runbookUrl: string) {
      const { stack } = testStack("prod");
      const network = new Network(stack, "network", { availabilityZones: ["us-east-1a", "us-east-1b"] });
      const table = new CacheTable(stack, "products", { partitionKey: { name: "productId", type: "S" } });
      const fn = new CacheAsideFunction(stack, "fn", { network, contract: PRODUCTS, settings: { serviceName: "catalog" } });
      const cache = new RedisCache(stack, "cache", { network });
      fn.useTable(table).useCache(cache);
      const api = new CacheApi(stack, "api", { functions: [fn], authorization: Authorization.iam() });
      new CacheObservability(stack, "observability", { api, function: fn, table, cache, runbookUrl });
      return JSON.parse(Testing.synth(stack)) as SynthJson;
    }

    test("GIVEN a wiki page THEN every alarm links there, with its anchor", () => {
      const json = observability("https://wiki.example.com/cache/runbook");
      const links = resourcesOf(json, "aws_cloudwatch_metric_alarm").map(([, a]) => / Runbook: (\S+)$/.exec(a.alarm_description)?.[1]);
      expect(links.length).toBeGreaterThan(0);
      for (const l of links) expect(l).toMatch(/^https:\/\/wiki\.example\.com\/cache\/runbook#[a-z0-9]+$/);
    });

    test.each(["help/operations.md", "https://wiki.example.com/runbook#section", "ftp://example.com/x"])(
      "GIVEN %s THEN synthesis names the construct, the field and what is allowed", (url) => {
        let err: unknown;
        try {
          observability(url);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PropsValidationError);
        expect((err as Error).message).toContain("test/observability");
        expect((err as Error).message).toContain(`runbookUrl = ${JSON.stringify(url)}: an absolute http(s) URL`);
      });
  });
});
