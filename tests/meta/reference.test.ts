import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import {
  analyzeModules,
  findUndocumented,
  generateReference,
  ModuleDoc,
  REFERENCE_DIR,
  renderReference,
  stalePages,
} from "../../tools/docs/gen-reference";
import { findUndocumentedExports, packageEntryPoints, publicApi } from "../../tools/docs/api-coverage";

const ROOT = path.resolve(__dirname, "../..");

// One TypeScript program for every module, shared by the tests below.
let modules: ModuleDoc[];
beforeAll(() => {
  modules = analyzeModules(ROOT);
});

/** A throwaway package root with `modules/<name>/index.ts` files and the repo's node_modules. */
function fixtureRoot(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "reference-"));
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  writeFileSync(path.join(dir, "package.json"), "{}\n");
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const WIDGET = `/**
 *   new Widget(this, "w", { size: 2 });
 */
import { Construct } from "constructs";

/** Props of {@link Widget}. */
export interface WidgetProps {
  /** How big. */
  readonly size: number;
  /**
   * Colour of the widget.
   * @default "blue"
   */
  readonly colour?: string;
  /** Shape of the widget. */
  readonly shape?: "round" | "square";
  readonly label: string;
}

/** A widget. */
export class Widget extends Construct {
  /** @attribute */
  public readonly widgetId: string = "w";
  constructor(scope: Construct, id: string, props: WidgetProps) {
    super(scope, id);
    void props;
  }
}

export class Gadget extends Construct {
  constructor(scope: Construct, id: string, props: {
    /** Documented, but optional without a default. */
    readonly fine?: boolean;
  }) {
    super(scope, id);
    void props;
  }
}

/** Not a construct, so not held to the props rules. */
export class Helper {
  static create(): Helper {
    return new Helper();
  }
}
`;

describe("module reference (help/reference)", () => {
  test("every module has a page and the index links it", () => {
    const pages = renderReference(modules);
    expect(modules.map((m) => m.name)).toEqual(expect.arrayContaining(["network", "redis", "table", "dax"]));
    for (const m of modules) {
      expect(pages.has(`${REFERENCE_DIR}/${m.name}.md`)).toBe(true);
      expect(pages.get(`${REFERENCE_DIR}/README.md`)).toContain(`(${m.name}.md)`);
    }
  });

  test("is up to date with the module sources", () => {
    const stale = stalePages(ROOT, generateReference(ROOT));
    if (stale.length > 0) {
      throw new Error(
        `help/reference is out of date:\n${stale.map((s) => `  ${s.path}: ${s.problem}`).join("\n")}\n` +
          "Run `npm run docs` and commit the pages.",
      );
    }
  });

  test("pages carry no absolute paths or timestamps", () => {
    for (const [rel, content] of renderReference(modules)) {
      expect({ rel, hasRoot: content.includes(ROOT) }).toEqual({ rel, hasRoot: false });
      expect({ rel, hasDate: /\b20\d\d-\d\d-\d\d\b/.test(content) }).toEqual({ rel, hasDate: false });
    }
  });

  test("every construct is documented: summary, field descriptions, @default on optional fields", () => {
    const offenders = findUndocumented(modules);
    if (offenders.length > 0) {
      throw new Error(`Undocumented construct API (module.Class.props.field):\n${offenders.map((o) => `  ${o}`).join("\n")}`);
    }
    // Guard against a check that passes because it saw nothing.
    const constructs = modules.flatMap((m) => m.classes.filter((c) => c.isConstruct));
    expect(constructs.length).toBeGreaterThanOrEqual(9);
    expect(constructs.every((c) => c.props !== undefined)).toBe(true);
  });

  test("the pages show props with defaults, attributes, methods and factories", () => {
    const pages = renderReference(modules);
    const redis = pages.get(`${REFERENCE_DIR}/redis.md`)!;
    expect(redis).toMatch(/#### Props \(`RedisCacheProps`\)/);
    expect(redis).toMatch(/\| nodeType \| `string` \| no \| "cache\.r7g\.large" in prod, "cache\.t4g\.micro" in dev \|/);
    expect(redis).toMatch(/#### Attributes[\s\S]*\| endpointAddress \|/);
    expect(redis).toContain("`CacheEngine.valkey(version: ValkeyVersion): CacheEngine`");
    expect(redis).toContain("`connectFunction(client: ICacheClient, options: CacheConnectOptions): CacheConnection`");
    expect(pages.get(`${REFERENCE_DIR}/table.md`)).toContain("`Billing.onDemand(): Billing`");
  });
});

describe("the documentation checks fire", () => {
  let dir: string;
  beforeAll(() => {
    dir = fixtureRoot({ "modules/widget/index.ts": WIDGET });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("GIVEN an optional prop without @default, a prop without description and a class without summary THEN each is reported", () => {
    const offenders = findUndocumented(analyzeModules(dir));
    expect(offenders).toEqual([
      "widget.Gadget: construct class has no JSDoc summary",
      "widget.Gadget.props.fine: optional but has no @default",
      "widget.Widget.props.shape: optional but has no @default",
      "widget.Widget.props.label: no description",
    ]);
  });

  test("GIVEN a hand-edited or missing page THEN the staleness check names it", () => {
    const pages = renderReference(analyzeModules(dir));
    expect([...pages.keys()].sort()).toEqual([`${REFERENCE_DIR}/README.md`, `${REFERENCE_DIR}/widget.md`]);
    expect(stalePages(dir, pages)).toEqual([
      { path: `${REFERENCE_DIR}/README.md`, problem: "missing" },
      { path: `${REFERENCE_DIR}/widget.md`, problem: "missing" },
    ]);
    mkdirSync(path.join(dir, REFERENCE_DIR), { recursive: true });
    for (const [rel, content] of pages) writeFileSync(path.join(dir, rel), content);
    expect(stalePages(dir, pages)).toEqual([]);

    writeFileSync(path.join(dir, REFERENCE_DIR, "widget.md"), `${pages.get(`${REFERENCE_DIR}/widget.md`)}edited\n`);
    writeFileSync(path.join(dir, REFERENCE_DIR, "gone.md"), "# gone\n");
    expect(stalePages(dir, pages)).toEqual([
      { path: `${REFERENCE_DIR}/widget.md`, problem: "differs" },
      { path: `${REFERENCE_DIR}/gone.md`, problem: "not generated" },
    ]);
  });

  test("the fixture page renders the usage comment, the props table and the factory", () => {
    const page = renderReference(analyzeModules(dir)).get(`${REFERENCE_DIR}/widget.md`)!;
    expect(page).toContain('```ts\nnew Widget(this, "w", { size: 2 });\n```');
    expect(page).toContain('| colour | `string` | no | "blue" | Colour of the widget. |');
    expect(page).toContain("| widgetId | `string` |");
    expect(page).toContain("`Helper.create(): Helper`");
    expect(page).not.toContain(dir);
  });
});

describe("the package's public API (package.json exports)", () => {
  const entries = packageEntryPoints(ROOT);

  test("the exports map names the root, ./stacks, ./policy and ./runtime entry points, each a TypeScript source here", () => {
    expect([...entries]).toEqual([
      [".", "modules/index.ts"],
      ["./stacks", "stacks/index.ts"],
      ["./policy", "modules/policy/index.ts"],
      ["./runtime", "functions/lib/index.ts"],
    ]);
  });

  test("every exported symbol, every public method and attribute of its classes, every interface member has a JSDoc summary", () => {
    const api = publicApi(ROOT, [...entries.values()]);
    const gaps = findUndocumentedExports(ROOT, [...entries.values()]);
    if (gaps.length > 0) throw new Error(`Undocumented public API (${gaps.length}):\n${gaps.map((g) => `  ${g}`).join("\n")}`);
    // Guard against a check that passes because it saw nothing.
    const kinds = new Set(api.map((s) => s.kind));
    for (const k of ["class", "function", "interface", "type", "const", "method", "property", "member"]) expect(kinds).toContain(k);
    expect(api.filter((s) => s.entry === "modules/index.ts" && !s.name.includes(".")).map((s) => s.name)).toEqual(
      expect.arrayContaining(["Network", "RedisCache", "DaxCluster", "CacheTable", "CacheAsideFunction", "CacheApi", "CacheObservability", "PRODUCTS"]),
    );
    expect(api.filter((s) => s.entry === "stacks/index.ts" && !s.name.includes(".")).map((s) => s.name)).toEqual(
      expect.arrayContaining(["CacheStack", "ProductCatalogStack", "SessionStoreStack", "loadConfig", "buildApp"]),
    );
    expect(api.length).toBeGreaterThan(500);
  });

  describe("the check fires", () => {
    let dir: string;
    beforeAll(() => {
      dir = fixtureRoot({
        "lib/index.ts": `export { Widget, helper } from "./widget";
export type { Shape } from "./widget";
/** Documented. */
export const ANSWER = 42;
export const QUESTION = "?";
`,
        "lib/widget.ts": `/** A widget. */
export class Widget {
  /** Documented. */
  public readonly size = 1;
  public readonly colour = "blue";
  private readonly secret = 1;
  constructor(/** Documented. */ public readonly label: string, public readonly tag: string) {}
  /** Documented. */
  grow(): void {}
  shrink(): void {}
  protected hidden(): void {}
  /** @internal */
  internalOnly(): void {}
}
/** A shape. */
export interface Shape {
  /** Documented. */
  readonly sides: number;
  readonly name: string;
  area(): number;
}
export function helper(): number { return new Widget("a", "b").size; }
`,
      });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("GIVEN undocumented exports, class members and interface members THEN each is named; private, protected and @internal are not", () => {
      expect(findUndocumentedExports(dir, ["lib/index.ts"]).map((g) => g.replace(/ \(.*$/, "")).sort()).toEqual([
        "lib/index.ts: QUESTION",
        "lib/index.ts: Widget.tag",
        "lib/index.ts: Widget.colour",
        "lib/index.ts: Widget.shrink()",
        "lib/index.ts: helper",
        "lib/index.ts: Shape.name",
        "lib/index.ts: Shape.area()",
      ].sort());
    });
  });
});
