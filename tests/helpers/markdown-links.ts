/**
 * Finds links in markdown pages whose target is missing: a relative file or folder that does not
 * exist under the same root, or a `#anchor` that no heading of the target page produces (GitHub's
 * anchors: lowercase, punctuation dropped, spaces to `-`, `-1`, `-2` for repeats).
 *
 *   expect(brokenLinks(unpackedTarball, markdownFiles(unpackedTarball, ["README.md", "help"]))).toEqual([]);
 */
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";

/** A link that does not resolve. */
export interface BrokenLink {
  /** The page, relative to the root. */
  readonly file: string;
  /** The link as written. */
  readonly link: string;
  readonly problem: string;
}

/** Every `.md` file under `entries` (files or folders, relative to `root`), relative paths, sorted. */
export function markdownFiles(root: string, entries: readonly string[]): string[] {
  const walk = (rel: string): string[] => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return [];
    if (statSync(abs).isFile()) return rel.endsWith(".md") ? [rel] : [];
    return readdirSync(abs).flatMap((n) => (n === "node_modules" ? [] : walk(path.join(rel, n))));
  };
  return entries.flatMap(walk).map((f) => f.split(path.sep).join("/")).sort();
}

/** The markdown without fenced code blocks and inline code, where `[x](y)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").replace(/`[^`\n]*`/g, "");
}

/** Link targets of a page (inline, image and reference-style), without external URLs. */
export function localLinks(markdown: string): string[] {
  const text = prose(markdown);
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** GitHub's anchor of a heading's text. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor a page offers: its headings' slugs (repeats numbered) and explicit `<a id|name="…">`. */
export function pageAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").split("\n")) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = headingSlug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(a[1]);
  }
  return out;
}

/** Every link of `files` (relative to `root`) whose file, folder or anchor is not there. */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const anchors = new Map<string, Set<string>>();
  const anchorsOf = (abs: string) => {
    if (!anchors.has(abs)) anchors.set(abs, pageAnchors(readFileSync(abs, "utf8")));
    return anchors.get(abs)!;
  };
  const out: BrokenLink[] = [];
  for (const file of files) {
    const abs = path.join(root, file);
    for (const link of localLinks(readFileSync(abs, "utf8"))) {
      const [target, anchor] = link.split("#", 2);
      const resolved = target === "" ? abs : path.resolve(path.dirname(abs), decodeURIComponent(target));
      if (!resolved.startsWith(path.resolve(root) + path.sep) && resolved !== path.resolve(root)) {
        out.push({ file, link, problem: "points outside the root" });
      } else if (!existsSync(resolved)) {
        out.push({ file, link, problem: "no such file or folder" });
      } else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) {
        out.push({ file, link, problem: `no heading makes #${anchor}` });
      }
    }
  }
  return out;
}
