/**
 * Reports of the pack: the stack × rule table, the JSON report, SARIF 2.1.0 for code
 * scanning, and the rule table of help/policy.md (generated from the rule definitions).
 */
import { createHash } from "crypto";
import type { Finding, StackReport } from "./engine";
import type { CellStatus } from "./types";
import { ConstructSetting, PolicyRule, settingText } from "./rule";

/** The table cell of `ruleId` in `report`: the worst status of its findings. */
export function cellStatus(report: StackReport, ruleId: string): CellStatus {
  const fs = report.findings.filter((f) => f.ruleId === ruleId);
  if (fs.some((f) => f.status === "fail" && f.severity === "error")) return "FAIL";
  if (fs.some((f) => f.status === "fail")) return "warn";
  if (fs.some((f) => f.status === "unknown")) return "unknown";
  if (fs.some((f) => f.status === "suppressed")) return "suppressed";
  if (fs.some((f) => f.status === "pass")) return "pass";
  return "-";
}

/** The stack × rule table (rules down, stacks across), as text lines. */
export function renderTable(reports: readonly StackReport[], rules: readonly PolicyRule[]): string[] {
  const header = ["rule", ...reports.map((r) => r.stack)];
  const rows = rules.map((rule) => [rule.id, ...reports.map((r) => cellStatus(r, rule.id))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** Totals over several stacks. */
export function totals(reports: readonly StackReport[]): { errors: number; warnings: number; unknown: number; suppressed: number; passed: number } {
  const sum = (k: "errors" | "warnings" | "unknown" | "suppressed" | "passed") => reports.reduce((n, r) => n + r.summary[k], 0);
  return { errors: sum("errors"), warnings: sum("warnings"), unknown: sum("unknown"), suppressed: sum("suppressed"), passed: sum("passed") };
}

/** Public equivalents of a rule as one line, e.g. `Checkov CKV_AWS_29; Security Hub ElastiCache.4`. */
export function referencesText(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.references.checkov?.length) parts.push(`Checkov ${rule.references.checkov.join(", ")}`);
  if (rule.references.securityHub?.length) parts.push(`Security Hub ${rule.references.securityHub.join(", ")}`);
  if (rule.references.cdkNag?.length) parts.push(`cdk-nag ${rule.references.cdkNag.join(", ")}`);
  return parts.join("; ");
}

/** What sets the rule's attributes in the constructs, e.g. `` num_cache_clusters: `RedisCache.replicasPerShard`; otherwise `RedisCache.multiAz` ``. */
export function constructsText(rule: PolicyRule): string {
  const entries = Object.entries(rule.props ?? {});
  const keyed = entries.some(([k]) => k !== "*");
  const text = (s: ConstructSetting) => ("none" in s ? `no prop, ${s.none}` : `${s.props.map((p) => `\`${p}\``).join(" / ")}${s.note ? ` (${s.note})` : ""}`);
  return entries.map(([k, s]) => (k !== "*" ? `${k}: ${text(s)}` : keyed ? `otherwise ${text(s)}` : text(s))).join("; ");
}

/** `error`, `warning (error in prod)`, `error (prod only)`. */
export function severityText(rule: PolicyRule): string {
  const base = rule.prodSeverity && rule.prodSeverity !== rule.severity ? `${rule.severity} (${rule.prodSeverity} in prod)` : rule.severity;
  return rule.profiles ? `${base} (${rule.profiles.join(", ")} only)` : base;
}

function md(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}

/** The Markdown rule table of help/policy.md. */
export function renderRulesMarkdown(rules: readonly PolicyRule[]): string {
  const lines = [
    "| Id | Severity | Resource types | Rule, rationale and fix | Public equivalents |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const r of rules) {
    const settings = constructsText(r);
    lines.push(
      `| ${r.id} | ${severityText(r)} | ${r.resourceTypes.map((t) => `\`${t}\``).join(", ")} | ` +
        `**${md(r.title)}.** ${md(r.rationale)} Fix: ${md(r.remediation)}${settings ? ` Constructs: ${md(settings)}.` : ""} | ` +
        `${md(referencesText(r)) || "none"} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Line (1-based) of a resource's block in a synthesized `cdk.tf.json` text: the line of its
 * logical name inside its type's object. 1 when not found.
 */
export function lineOfResource(text: string, type: string, name: string, mode: "managed" | "data" = "managed"): number {
  const lines = text.split("\n");
  const top = mode === "data" ? '"data": {' : '"resource": {';
  let i = lines.findIndex((l) => l.trim() === top);
  if (i < 0) return 1;
  const typeLine = lines.findIndex((l, k) => k > i && l.trim() === `${JSON.stringify(type)}: {`);
  if (typeLine < 0) return 1;
  i = lines.findIndex((l, k) => k > typeLine && l.trim() === `${JSON.stringify(name)}: {`);
  return i < 0 ? typeLine + 1 : i + 1;
}

/** Where a stack's synthesized file is, for SARIF locations. */
export interface StackFile {
  /** Path relative to the repository root, e.g. `cdktf.out/stacks/product-catalog-dev/cdk.tf.json`. */
  readonly uri: string;
  /** The file's text, to point at the resource's line. */
  readonly text?: string;
}

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

function pascal(s: string): string {
  return s.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : "")).replace(/^./, (c) => c.toUpperCase());
}

function sarifRule(rule: PolicyRule) {
  const refs = referencesText(rule);
  const constructs = constructsText(rule);
  return {
    id: rule.id,
    name: pascal(rule.title).slice(0, 120),
    shortDescription: { text: `${rule.title}.` },
    fullDescription: { text: rule.rationale },
    help: {
      text: `${rule.rationale}\nFix: ${rule.remediation}${constructs ? `\nConstructs: ${constructs}.` : ""}` +
        `${refs ? `\nEquivalent controls: ${refs}.` : ""}\nSeverity: ${severityText(rule)}.`,
      markdown: `**${rule.title}.** ${rule.rationale}\n\n**Fix:** ${rule.remediation}${constructs ? `\n\n**Constructs:** ${constructs}.` : ""}` +
        `${refs ? `\n\n**Equivalent controls:** ${refs}.` : ""}\n\n**Severity:** ${severityText(rule)}. Resource types: ${rule.resourceTypes.map((t) => `\`${t}\``).join(", ")}.`,
    },
    defaultConfiguration: { level: rule.severity },
    properties: {
      tags: ["security", "terraform", "cdktf", ...rule.resourceTypes],
      resourceTypes: rule.resourceTypes,
      prodSeverity: rule.prodSeverity ?? rule.severity,
      ...(rule.profiles ? { profiles: rule.profiles } : {}),
      checkov: rule.references.checkov ?? [],
      securityHub: rule.references.securityHub ?? [],
      cdkNag: rule.references.cdkNag ?? [],
    },
  };
}

function sarifResult(f: Finding, ruleIndex: number, file: StackFile | undefined) {
  const [mode, type, name] = f.address.startsWith("data.") ? ["data", ...f.address.slice(5).split(".")] : ["managed", ...f.address.split(".")];
  const line = file?.text ? lineOfResource(file.text, type, name, mode as "managed" | "data") : 1;
  const unknownOutcome = f.status === "unknown" || (f.status === "suppressed" && f.suppressedStatus === "unknown");
  const text = `${f.path} (${f.address})${f.attribute ? ` ${f.attribute}` : ""}: ${f.message ?? f.title}.` +
    (f.construct ? ` ${settingText(f.construct)}.` : "") +
    (f.status === "fail" || f.suppressedStatus === "fail" ? ` Fix: ${f.remediation}` : "");
  return {
    ruleId: f.ruleId,
    ruleIndex,
    kind: unknownOutcome ? "review" : "fail",
    level: unknownOutcome ? "none" : f.severity,
    message: { text: text.replace(/\.\./g, ".") },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: file?.uri ?? `${f.stack}/cdk.tf.json`, uriBaseId: "%SRCROOT%" },
          region: { startLine: line },
        },
        logicalLocations: [{ name: f.address, fullyQualifiedName: f.path, kind: "resource" }],
      },
    ],
    partialFingerprints: {
      "cachefrontFinding/v1": createHash("sha256").update(`${f.stack}|${f.ruleId}|${f.address}|${f.attribute ?? ""}`).digest("hex").slice(0, 32),
    },
    ...(f.status === "suppressed" ? { suppressions: [{ kind: "inSource", status: "accepted", justification: f.suppression?.reason ?? "" }] } : {}),
    properties: { stack: f.stack, attribute: f.attribute ?? null, constructProp: f.construct ? settingText(f.construct) : null, source: f.source, severity: f.severity },
  };
}

/**
 * SARIF 2.1.0: one run, every rule of the pack in `tool.driver.rules` (with help text), one
 * result per violation (failures at their severity; suppressed ones with a `suppressions`
 * entry carrying the reason; undecidable ones as `kind: "review"`), located in the stack file.
 */
export function toSarif(
  reports: readonly StackReport[],
  rules: readonly PolicyRule[],
  files: ReadonlyMap<string, StackFile> = new Map(),
  toolVersion = "1.0.0",
): Record<string, unknown> {
  const index = new Map(rules.map((r, i) => [r.id, i] as const));
  const results = reports.flatMap((rep) =>
    rep.findings.filter((f) => f.status !== "pass").map((f) => sarifResult(f, index.get(f.ruleId) ?? -1, files.get(rep.stack))),
  );
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "cachefront-policy",
            version: toolVersion,
            rules: rules.map(sarifRule),
          },
        },
        results,
      },
    ],
  };
}
