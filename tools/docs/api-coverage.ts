/**
 * Documentation coverage of the package's public API: every symbol an entry point of the
 * published package exports (classes, functions, interfaces, types, consts), every public
 * method and public attribute of its classes, and every member of its interfaces must carry a
 * JSDoc summary. tests/meta/reference.test.ts runs it over the entry points of package.json's
 * `exports` map.
 *
 *   const gaps = findUndocumentedExports(root, ["modules/index.ts", "modules/policy/index.ts"]);
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";
import { docsProgram } from "./gen-reference";

/** One symbol of the public API the check looked at. */
export interface ApiSymbol {
  /** Entry point (relative to the root) that exports it. */
  readonly entry: string;
  /** `Name`, `Name.member` or `Name.method()`. */
  readonly name: string;
  /** class, function, interface, type, const, enum, method, property, member. */
  readonly kind: string;
  /** Declaring file, relative to the root (POSIX separators). */
  readonly file: string;
  /** True when it has a JSDoc summary (or, for an attribute, a described `@attribute` tag). */
  readonly documented: boolean;
}

/**
 * TypeScript source of each entry point of package.json's `exports` map: an entry whose
 * `types` (or the plain target) is `./dist/package/<dir>/<name>.d.ts` or `.js` maps to
 * `<dir>/<name>.ts`, keyed by the subpath (`.`, `./policy`, …). `./package.json` is skipped.
 */
export function packageEntryPoints(rootDir: string, outDir = "dist/package"): Map<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(rootDir, "package.json"), "utf8")) as { exports?: Record<string, unknown> };
  const out = new Map<string, string>();
  const prefix = `./${outDir.replace(/\/+$/, "")}/`;
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    const file =
      typeof target === "string" ? target : ((target as Record<string, unknown>).types ?? (target as Record<string, unknown>).default);
    if (typeof file !== "string" || !file.startsWith(prefix)) continue;
    const source = file.slice(prefix.length).replace(/\.d\.ts$|\.js$/, ".ts");
    if (existsSync(path.join(rootDir, source))) out.set(subpath, source);
  }
  return out;
}

/** Every public symbol reachable from `entries` (paths relative to `rootDir`), documented or not. */
export function publicApi(rootDir: string, entries: readonly string[]): ApiSymbol[] {
  const files = entries.map((e) => path.join(rootDir, e));
  const program = docsProgram(files);
  const checker = program.getTypeChecker();
  const out: ApiSymbol[] = [];
  const rel = (f: string) => path.relative(rootDir, f).split(path.sep).join("/");
  entries.forEach((entry, i) => {
    const sf = program.getSourceFile(files[i]);
    if (!sf) throw new Error(`cannot read ${entry}`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) return;
    for (const exp of checker.getExportsOfModule(moduleSymbol)) {
      const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      if (isInternal(sym, checker)) continue;
      const decls = sym.declarations ?? [];
      const first = decls[0];
      if (!first) continue;
      const file = rel(first.getSourceFile().fileName);
      out.push({ entry, name: exp.name, kind: kindOf(first), file, documented: hasDoc(sym, checker) });
      const cls = decls.find(ts.isClassDeclaration);
      if (cls) out.push(...classMembers(entry, exp.name, cls, checker, rel));
      for (const itf of decls.filter(ts.isInterfaceDeclaration)) out.push(...interfaceMembers(entry, exp.name, itf, checker, rel));
    }
  });
  return out;
}

/** `entry: Name (kind, file): no JSDoc` for every undocumented symbol; empty when complete. */
export function findUndocumentedExports(rootDir: string, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const s of publicApi(rootDir, entries)) {
    const key = `${s.file}|${s.name}`;
    if (s.documented || seen.has(key)) continue;
    seen.add(key);
    problems.push(`${s.entry}: ${s.name} (${s.kind}, ${s.file}) has no JSDoc summary`);
  }
  return problems;
}

function classMembers(
  entry: string,
  className: string,
  decl: ts.ClassDeclaration,
  checker: ts.TypeChecker,
  rel: (f: string) => string,
): ApiSymbol[] {
  const out: ApiSymbol[] = [];
  const file = rel(decl.getSourceFile().fileName);
  const seen = new Set<string>();
  const add = (member: ts.NamedDeclaration, kind: string, suffix = "") => {
    if (!member.name || ts.isPrivateIdentifier(member.name)) return;
    const sym = checker.getSymbolAtLocation(member.name);
    if (!sym || isInternal(sym, checker)) return;
    const isStatic = hasModifier(member, ts.SyntaxKind.StaticKeyword);
    const name = `${className}.${sym.name}${suffix}`;
    const key = `${isStatic}|${name}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ entry, name, kind, file, documented: hasDoc(sym, checker) });
  };
  const ctor = decl.members.find((m): m is ts.ConstructorDeclaration => ts.isConstructorDeclaration(m) && m.body !== undefined);
  for (const p of ctor?.parameters ?? []) {
    if (ts.isParameterPropertyDeclaration(p, ctor!) && isPublic(p)) add(p, "property");
  }
  for (const m of decl.members) {
    if (!isPublic(m)) continue;
    if (ts.isPropertyDeclaration(m) || ts.isGetAccessorDeclaration(m)) add(m, "property");
    else if (ts.isSetAccessorDeclaration(m)) {
      const hasGetter = decl.members.some((g) => ts.isGetAccessorDeclaration(g) && g.name.getText() === m.name.getText());
      if (!hasGetter) add(m, "property");
    } else if (ts.isMethodDeclaration(m)) add(m, "method", "()");
  }
  return out;
}

function interfaceMembers(
  entry: string,
  name: string,
  decl: ts.InterfaceDeclaration,
  checker: ts.TypeChecker,
  rel: (f: string) => string,
): ApiSymbol[] {
  const file = rel(decl.getSourceFile().fileName);
  const out: ApiSymbol[] = [];
  for (const m of decl.members) {
    if (!m.name) continue;
    const sym = checker.getSymbolAtLocation(m.name);
    if (!sym || isInternal(sym, checker)) continue;
    const isMethod = ts.isMethodSignature(m);
    out.push({ entry, name: `${name}.${sym.name}${isMethod ? "()" : ""}`, kind: isMethod ? "method" : "member", file, documented: hasDoc(sym, checker) });
  }
  return out;
}

function kindOf(d: ts.Declaration): string {
  if (ts.isClassDeclaration(d)) return "class";
  if (ts.isFunctionDeclaration(d)) return "function";
  if (ts.isInterfaceDeclaration(d)) return "interface";
  if (ts.isTypeAliasDeclaration(d)) return "type";
  if (ts.isEnumDeclaration(d)) return "enum";
  if (ts.isVariableDeclaration(d)) return "const";
  return ts.SyntaxKind[d.kind];
}

/** A JSDoc summary, or an `@attribute` tag with text (the reference shows that text). */
function hasDoc(sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  if (ts.displayPartsToString(sym.getDocumentationComment(checker)).trim() !== "") return true;
  return sym
    .getJsDocTags(checker)
    .some((t) => t.name === "attribute" && ts.displayPartsToString(t.text).replace(/^[\s—–-]+/, "").trim() !== "");
}

function isInternal(sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  return sym.getJsDocTags(checker).some((t) => t.name === "internal" || t.name === "hidden");
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

function isPublic(node: ts.Node): boolean {
  return !hasModifier(node, ts.SyntaxKind.PrivateKeyword) && !hasModifier(node, ts.SyntaxKind.ProtectedKeyword);
}
