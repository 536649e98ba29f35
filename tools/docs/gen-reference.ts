/**
 *   node dist/tools/docs/gen-reference.js           # (re)writes help/reference/*.md from every modules/<name>/index.ts
 *   node dist/tools/docs/gen-reference.js --check   # exits 1 naming every page that is out of date
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";
import { packageInfo, packageRoot } from "../../modules";
import { renderEnvironmentsPage } from "./environments-page";
import { renderSettingsPage } from "./settings-page";

/** Folder of the generated pages, relative to the package root (POSIX separators). */
export const REFERENCE_DIR = "help/reference";

/** One field of a props (or other) interface. */
export interface FieldDoc {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  /** Text of the `@default` tag, if any. */
  readonly defaultValue?: string;
  readonly description: string;
}

/** A public property of a class. */
export interface PropertyDoc {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  readonly isStatic: boolean;
}

/** A method, function or factory, with its signature. */
export interface MethodDoc {
  readonly name: string;
  readonly signature: string;
  readonly description: string;
}

export interface ClassDoc {
  readonly name: string;
  readonly description: string;
  readonly isConstruct: boolean;
  readonly heritage: string[];
  /** `new X(...)`, absent when the constructor is private or protected. */
  readonly constructorSignature?: string;
  /** Type of the constructor's 3rd parameter, for constructs. */
  readonly propsTypeName?: string;
  readonly props?: FieldDoc[];
  readonly attributes: PropertyDoc[];
  readonly properties: PropertyDoc[];
  readonly factories: MethodDoc[];
  readonly staticMethods: MethodDoc[];
  readonly methods: MethodDoc[];
}

export interface InterfaceDoc {
  readonly name: string;
  readonly description: string;
  readonly heritage: string[];
  readonly fields: FieldDoc[];
  readonly methods: MethodDoc[];
}

/** A type alias or enum: a name, its declaration text and its doc. */
export interface DeclarationDoc {
  readonly name: string;
  readonly description: string;
  readonly text: string;
}

export interface ModuleDoc {
  /** Folder name under `modules/`. */
  readonly name: string;
  /** `modules/<name>/index.ts`. */
  readonly source: string;
  /** The comment opening index.ts, if any. */
  readonly fileComment?: string;
  readonly classes: ClassDoc[];
  readonly interfaces: InterfaceDoc[];
  readonly types: DeclarationDoc[];
  readonly functions: MethodDoc[];
  readonly constants: ConstantDoc[];
}

export interface ConstantDoc {
  readonly name: string;
  readonly description: string;
  readonly type: string;
  /** The initializer, when it is short enough for a table. */
  readonly value?: string;
}

// ---------------------------------------------------------------------------------------------
// Analysis

/** The TypeScript program the documentation tools read `files` with (shared by the reference and the API coverage check). */
export function docsProgram(files: readonly string[]): ts.Program {
  return ts.createProgram([...files], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ["lib.es2022.d.ts"],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    // Documentation needs no ambient types; leaving them out keeps the program small.
    types: [],
  });
}

/** Folders of `<rootDir>/modules` that have an `index.ts`, sorted. */
export function moduleNames(rootDir: string): string[] {
  const dir = path.join(rootDir, "modules");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => existsSync(path.join(dir, n, "index.ts")) && statSync(path.join(dir, n)).isDirectory())
    .sort(compare);
}

/**
 * Reads every `modules/<name>/index.ts` under `rootDir` with one TypeScript program (so the
 * test can share it between rendering and the completeness check).
 */
export function analyzeModules(rootDir: string): ModuleDoc[] {
  const names = moduleNames(rootDir);
  const files = names.map((n) => path.join(rootDir, "modules", n, "index.ts"));
  const program = docsProgram(files);
  const checker = program.getTypeChecker();
  return names.map((name, i) => {
    const sf = program.getSourceFile(files[i]);
    if (!sf) throw new Error(`cannot read modules/${name}/index.ts`);
    return analyzeModule(name, sf, checker);
  });
}

function analyzeModule(name: string, sf: ts.SourceFile, checker: ts.TypeChecker): ModuleDoc {
  const doc: ModuleDoc = {
    name,
    source: `modules/${name}/index.ts`,
    fileComment: fileComment(sf),
    classes: [],
    interfaces: [],
    types: [],
    functions: [],
    constants: [],
  };
  const moduleSymbol = checker.getSymbolAtLocation(sf);
  if (!moduleSymbol) return doc;
  const exports = [...checker.getExportsOfModule(moduleSymbol)].sort((a, b) => compare(a.name, b.name));
  for (const exp of exports) {
    const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    const decls = sym.declarations ?? [];
    if (isInternal(sym, checker)) continue;
    const description = docOf(sym, checker);
    const cls = decls.find(ts.isClassDeclaration);
    if (cls) doc.classes.push(analyzeClass(exp.name, sym, cls, checker));
    const itf = decls.find(ts.isInterfaceDeclaration);
    if (itf && !cls) doc.interfaces.push(analyzeInterface(exp.name, sym, itf, checker));
    for (const d of decls) {
      if (ts.isTypeAliasDeclaration(d) || ts.isEnumDeclaration(d)) {
        doc.types.push({ name: exp.name, description, text: declarationText(d, d.getSourceFile()) });
      } else if (ts.isVariableDeclaration(d)) {
        doc.constants.push(constantDoc(exp.name, description, d, checker));
      }
    }
    const fns = decls.filter(ts.isFunctionDeclaration);
    for (const f of overloadsOrImplementation(fns)) {
      doc.functions.push({ name: exp.name, signature: signatureOf(exp.name, f, checker), description });
    }
  }
  return doc;
}

function analyzeClass(name: string, sym: ts.Symbol, decl: ts.ClassDeclaration, checker: ts.TypeChecker): ClassDoc {
  const sf = decl.getSourceFile();
  const type = checker.getDeclaredTypeOfSymbol(sym);
  const ctors = decl.members.filter(ts.isConstructorDeclaration);
  const ctor = ctors.find((c) => c.body) ?? ctors[0];
  const ctorPublic = ctor !== undefined && isPublic(ctor);
  const isConstruct = extendsConstruct(type, checker);

  let propsTypeName: string | undefined;
  let props: FieldDoc[] | undefined;
  const propsParam = ctor?.parameters[2];
  if (isConstruct && propsParam) {
    propsTypeName = propsParam.type ? text(propsParam.type, sf) : checker.typeToString(checker.getTypeAtLocation(propsParam));
    props = fieldsOf(checker.getTypeAtLocation(propsParam), checker, false).fields;
  }

  const attributes: PropertyDoc[] = [];
  const properties: PropertyDoc[] = [];
  const factories: MethodDoc[] = [];
  const staticMethods: MethodDoc[] = [];
  const methods: MethodDoc[] = [];

  const addProperty = (member: ts.NamedDeclaration, typeNode: ts.TypeNode | undefined, isStatic: boolean) => {
    const memberSym = member.name ? checker.getSymbolAtLocation(member.name) : undefined;
    if (!memberSym || isInternal(memberSym, checker)) return;
    const typeText = typeNode ? text(typeNode, sf) : typeString(checker.getTypeOfSymbolAtLocation(memberSym, member), checker, member);
    const attribute = memberSym.getJsDocTags(checker).find((t) => t.name === "attribute");
    if (attribute && !isStatic) {
      const tagText = clean(ts.displayPartsToString(attribute.text)).replace(/^[—–-]\s*/, "");
      attributes.push({ name: memberSym.name, type: typeText, description: tagText || docOf(memberSym, checker), isStatic });
    } else {
      properties.push({ name: memberSym.name, type: typeText, description: docOf(memberSym, checker), isStatic });
    }
  };

  // Public parameter properties are readable even when the constructor itself is private.
  for (const p of ctor?.parameters ?? []) {
    if (ts.isParameterPropertyDeclaration(p, ctor!) && isPublic(p)) addProperty(p, p.type, false);
  }

  const seenMethods = new Set<string>();
  for (const member of decl.members) {
    if (!isPublic(member) || !member.name || ts.isPrivateIdentifier(member.name)) continue;
    const isStatic = hasModifier(member, ts.SyntaxKind.StaticKeyword);
    if (ts.isPropertyDeclaration(member)) {
      addProperty(member, member.type, isStatic);
    } else if (ts.isGetAccessorDeclaration(member)) {
      addProperty(member, member.type, isStatic);
    } else if (ts.isSetAccessorDeclaration(member)) {
      const hasGetter = decl.members.some((m) => ts.isGetAccessorDeclaration(m) && m.name.getText(sf) === member.name.getText(sf));
      if (!hasGetter) addProperty(member, member.parameters[0]?.type, isStatic);
    } else if (ts.isMethodDeclaration(member)) {
      const memberName = member.name.getText(sf);
      const key = `${isStatic}|${memberName}`;
      if (seenMethods.has(key)) continue;
      seenMethods.add(key);
      const memberSym = checker.getSymbolAtLocation(member.name);
      if (!memberSym || isInternal(memberSym, checker)) continue;
      const overloads = overloadsOrImplementation(
        decl.members.filter(
          (m): m is ts.MethodDeclaration =>
            ts.isMethodDeclaration(m) && m.name.getText(sf) === memberName && hasModifier(m, ts.SyntaxKind.StaticKeyword) === isStatic,
        ),
      );
      const description = docOf(memberSym, checker);
      for (const o of overloads) {
        if (isStatic) {
          const signature = signatureOf(`${name}.${memberName}`, o, checker);
          const returns = checker.getSignatureFromDeclaration(o)?.getReturnType();
          const isFactory = returns !== undefined && returns.getSymbol() === sym;
          (isFactory ? factories : staticMethods).push({ name: memberName, signature, description });
        } else {
          methods.push({ name: memberName, signature: signatureOf(memberName, o, checker), description });
        }
      }
    }
  }

  return {
    name,
    description: docOf(sym, checker),
    isConstruct,
    heritage: (decl.heritageClauses ?? []).map(
      (h) => `${h.token === ts.SyntaxKind.ExtendsKeyword ? "Extends" : "Implements"} ${h.types.map((t) => code(text(t, sf))).join(", ")}`,
    ),
    constructorSignature:
      ctor && ctorPublic ? `new ${name}(${ctor.parameters.map((p) => parameterText(p, checker)).join(", ")})` : undefined,
    propsTypeName,
    props,
    attributes,
    properties,
    factories,
    staticMethods,
    methods,
  };
}

function analyzeInterface(name: string, sym: ts.Symbol, decl: ts.InterfaceDeclaration, checker: ts.TypeChecker): InterfaceDoc {
  const sf = decl.getSourceFile();
  const own = fieldsOf(checker.getDeclaredTypeOfSymbol(sym), checker, true);
  return {
    name,
    description: docOf(sym, checker),
    heritage: (decl.heritageClauses ?? []).map((h) => `Extends ${h.types.map((t) => code(text(t, sf))).join(", ")}`),
    fields: own.fields,
    methods: own.methods,
  };
}

/** Properties (and method signatures) of an object type; `ownOnly` skips inherited members. */
function fieldsOf(type: ts.Type, checker: ts.TypeChecker, ownOnly: boolean): { fields: FieldDoc[]; methods: MethodDoc[] } {
  const fields: FieldDoc[] = [];
  const methods: MethodDoc[] = [];
  const typeDecls = new Set(type.getSymbol()?.declarations ?? []);
  for (const prop of checker.getPropertiesOfType(type)) {
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    if (!decl || isInternal(prop, checker)) continue;
    if (ownOnly && !typeDecls.has(decl.parent as ts.Declaration)) continue;
    const sf = decl.getSourceFile();
    if (ts.isMethodSignature(decl) || ts.isMethodDeclaration(decl)) {
      for (const d of prop.declarations ?? []) {
        if (ts.isMethodSignature(d) || ts.isMethodDeclaration(d)) {
          methods.push({ name: prop.name, signature: signatureOf(prop.name, d, checker), description: docOf(prop, checker) });
        }
      }
      continue;
    }
    const typeNode = (decl as ts.PropertySignature).type;
    const defaultTag = prop.getJsDocTags(checker).find((t) => t.name === "default");
    fields.push({
      name: prop.name,
      type: typeNode ? text(typeNode, sf) : typeString(checker.getTypeOfSymbolAtLocation(prop, decl), checker, decl),
      optional: (prop.flags & ts.SymbolFlags.Optional) !== 0,
      defaultValue: defaultTag ? clean(ts.displayPartsToString(defaultTag.text)) : undefined,
      description: docOf(prop, checker),
    });
  }
  return { fields, methods };
}

function extendsConstruct(type: ts.Type, checker: ts.TypeChecker): boolean {
  const seen = new Set<ts.Type>();
  const visit = (t: ts.Type): boolean => {
    if (seen.has(t)) return false;
    seen.add(t);
    if (!(t.flags & ts.TypeFlags.Object) || !((t as ts.ObjectType).objectFlags & ts.ObjectFlags.ClassOrInterface)) return false;
    for (const base of checker.getBaseTypes(t as ts.InterfaceType)) {
      if (base.getSymbol()?.name === "Construct" || visit(base)) return true;
    }
    return false;
  };
  return visit(type);
}

/** The JSDoc comment opening the file, unless it is the first declaration's own doc. */
function fileComment(sf: ts.SourceFile): string | undefined {
  const ranges = (ts.getLeadingCommentRanges(sf.text, 0) ?? []).filter((r) => r.kind === ts.SyntaxKind.MultiLineCommentTrivia);
  if (ranges.length === 0) return undefined;
  const first = sf.statements[0];
  const ownedByFirst =
    first !== undefined &&
    !ts.isImportDeclaration(first) &&
    !ts.isImportEqualsDeclaration(first) &&
    !ts.isExportDeclaration(first) &&
    ranges[ranges.length - 1].end <= first.getStart(sf);
  const candidates = ownedByFirst ? ranges.slice(0, -1) : ranges;
  if (candidates.length === 0) return undefined;
  const raw = sf.text.slice(candidates[0].pos, candidates[0].end);
  const lines = raw
    .replace(/^\/\*+/, "")
    .replace(/\*+\/$/, "")
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*\* ?/, "").replace(/\s+$/, ""));
  while (lines.length > 0 && lines[0].trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  return lines.length > 0 ? lines.join("\n") : undefined;
}

// ---------------------------------------------------------------------------------------------
// Completeness

/**
 * Documentation gaps, as `module.Class` (no summary) or `module.Class.props.field` (no
 * description, or optional without `@default`). Empty when everything is documented.
 */
export function findUndocumented(modules: readonly ModuleDoc[]): string[] {
  const problems: string[] = [];
  for (const m of modules) {
    for (const c of m.classes) {
      if (!c.isConstruct) continue;
      const where = `${m.name}.${c.name}`;
      if (c.description.trim() === "") problems.push(`${where}: construct class has no JSDoc summary`);
      for (const f of c.props ?? []) {
        if (f.description.trim() === "") problems.push(`${where}.props.${f.name}: no description`);
        if (f.optional && (f.defaultValue === undefined || f.defaultValue.trim() === "")) {
          problems.push(`${where}.props.${f.name}: optional but has no @default`);
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const GENERATED = "<!-- Generated by tools/docs/gen-reference.ts from the module sources. Do not edit: run `npm run docs`. -->";

/** Page path (relative to the package root, POSIX) → Markdown. */
export function renderReference(modules: readonly ModuleDoc[]): Map<string, string> {
  const out = new Map<string, string>();
  out.set(`${REFERENCE_DIR}/README.md`, renderIndex(modules));
  for (const m of modules) out.set(`${REFERENCE_DIR}/${m.name}.md`, renderModule(m));
  return out;
}

/**
 * Every page of `help/reference`: one per module (from `<rootDir>/modules/*\/index.ts`), plus the
 * runtime settings and the environments in force (from this package's contracts and stacks).
 */
export function generateReference(rootDir: string): Map<string, string> {
  const out = renderReference(analyzeModules(rootDir));
  out.set(...renderSettingsPage(GENERATED));
  out.set(...renderEnvironmentsPage(GENERATED));
  return out;
}

function renderIndex(modules: readonly ModuleDoc[]): string {
  const lines = [
    "# Module reference",
    "",
    GENERATED,
    "",
    "One page per folder of `modules/`, generated from the TypeScript sources and their JSDoc:",
    "props with their defaults, attributes, methods and the other exports of each module.",
    "",
    "The runtime's settings and environment variables, from the function contracts, are on",
    "[runtime-settings.md](runtime-settings.md); what `dev` and `prod` deploy, on [environments.md](environments.md).",
    "",
    "| Module | Constructs | Other exports |",
    "| --- | --- | --- |",
  ];
  for (const m of modules) {
    const constructs = m.classes.filter((c) => c.isConstruct).map((c) => `[${c.name}](${m.name}.md#${anchor(c.name)})`);
    const others = [
      ...m.classes.filter((c) => !c.isConstruct).map((c) => c.name),
      ...m.interfaces.map((i) => i.name),
      ...m.types.map((t) => t.name),
      ...m.functions.map((f) => f.name),
    ];
    const constants = new Set(m.constants.map((c) => c.name));
    const otherLinks = [...new Set([...others, ...constants])]
      .sort(compare)
      .map((n) => `[${n}](${m.name}.md#${constants.has(n) && !others.includes(n) ? "constants" : anchor(n)})`);
    lines.push(`| [${m.name}](${m.name}.md) | ${constructs.join(", ") || "–"} | ${otherLinks.join(", ") || "–"} |`);
  }
  return finish(lines);
}

function renderModule(m: ModuleDoc): string {
  // An absolute link at this version's tag: the guide ships in the npm package, the module sources do not.
  const { repositoryWebUrl, version } = packageInfo();
  const lines: string[] = [`# ${m.name}`, "", GENERATED, "", `Source: [\`${m.source}\`](${repositoryWebUrl}/blob/v${version}/${m.source})`, ""];
  if (m.fileComment) lines.push(...renderFileComment(m.fileComment), "");

  const constructs = m.classes.filter((c) => c.isConstruct);
  const classes = m.classes.filter((c) => !c.isConstruct);
  const propsOwners = new Map<string, string>();
  for (const c of constructs) if (c.propsTypeName) propsOwners.set(c.propsTypeName, c.name);

  if (constructs.length > 0) {
    lines.push("## Constructs", "");
    for (const c of constructs) lines.push(...renderClass(c));
  }
  if (classes.length > 0) {
    lines.push("## Classes", "");
    for (const c of classes) lines.push(...renderClass(c));
  }
  if (m.interfaces.length > 0) {
    lines.push("## Interfaces", "");
    for (const i of m.interfaces) {
      lines.push(`### ${i.name}`, "");
      if (i.description) lines.push(prose(i.description), "");
      for (const h of i.heritage) lines.push(`${h}.`, "");
      const owner = propsOwners.get(i.name);
      if (owner) {
        lines.push(`The fields are listed under [${owner}](#${anchor(owner)}).`, "");
        continue;
      }
      if (i.fields.length > 0) lines.push(...fieldTable(i.fields), "");
      if (i.methods.length > 0) lines.push("Methods:", "", ...methodList(i.methods), "");
    }
  }
  if (m.types.length > 0) {
    lines.push("## Types", "");
    for (const t of m.types) {
      lines.push(`### ${t.name}`, "");
      if (t.description) lines.push(prose(t.description), "");
      lines.push("```ts", t.text, "```", "");
    }
  }
  if (m.functions.length > 0) {
    lines.push("## Functions", "");
    for (const f of m.functions) {
      lines.push(`### ${f.name}`, "", "```ts", f.signature, "```", "");
      if (f.description) lines.push(prose(f.description), "");
    }
  }
  if (m.constants.length > 0) {
    lines.push("## Constants", "", "| Constant | Type | Value | Description |", "| --- | --- | --- | --- |");
    for (const c of m.constants) {
      lines.push(`| ${c.name} | ${code(c.type)} | ${c.value !== undefined ? code(c.value) : "–"} | ${cell(c.description)} |`);
    }
    lines.push("");
  }
  return finish(lines);
}

function renderClass(c: ClassDoc): string[] {
  const lines = [`### ${c.name}`, ""];
  if (c.description) lines.push(prose(c.description), "");
  if (c.heritage.length > 0) lines.push(`${c.heritage.join(". ")}.`, "");
  if (c.constructorSignature) lines.push("```ts", c.constructorSignature, "```", "");
  if (c.props) {
    const named = c.propsTypeName !== undefined && /^[A-Za-z_$][\w$.]*(<.*>)?$/.test(c.propsTypeName);
    lines.push(named ? `#### Props (\`${c.propsTypeName}\`)` : "#### Props", "");
    lines.push(...(c.props.length > 0 ? fieldTable(c.props) : ["No fields."]), "");
  }
  if (c.factories.length > 0) lines.push("#### Static factories", "", ...methodList(c.factories), "");
  if (c.staticMethods.length > 0) lines.push("#### Static methods", "", ...methodList(c.staticMethods), "");
  if (c.attributes.length > 0) {
    lines.push("#### Attributes", "", "| Attribute | Type | Description |", "| --- | --- | --- |");
    for (const a of c.attributes) lines.push(`| ${a.name} | ${code(a.type)} | ${cell(a.description)} |`);
    lines.push("");
  }
  if (c.properties.length > 0) {
    lines.push("#### Properties", "", "| Property | Type | Description |", "| --- | --- | --- |");
    for (const p of c.properties) lines.push(`| ${p.isStatic ? `${c.name}.` : ""}${p.name} | ${code(p.type)} | ${cell(p.description)} |`);
    lines.push("");
  }
  if (c.methods.length > 0) lines.push("#### Methods", "", ...methodList(c.methods), "");
  return lines;
}

function fieldTable(fields: readonly FieldDoc[]): string[] {
  const lines = ["| Field | Type | Required | Default | Description |", "| --- | --- | --- | --- | --- |"];
  for (const f of fields) {
    const dflt = f.defaultValue !== undefined ? cell(f.defaultValue) : f.optional ? "–" : "";
    lines.push(`| ${f.name} | ${code(f.type)} | ${f.optional ? "no" : "yes"} | ${dflt} | ${cell(f.description)} |`);
  }
  return lines;
}

function methodList(methods: readonly MethodDoc[]): string[] {
  return methods.map((m) => `- ${code(m.signature, false)}${m.description ? ` — ${prose(oneLine(m.description))}` : ""}`);
}

/** Prose stays prose; indented lines (the usage example) become TypeScript code blocks. */
function renderFileComment(comment: string): string[] {
  const lines = comment.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    if (/^\s{2,}\S/.test(lines[i])) {
      const block: string[] = [];
      while (i < lines.length && (/^\s{2,}\S/.test(lines[i]) || (lines[i].trim() === "" && /^\s{2,}\S/.test(lines[i + 1] ?? "")))) {
        block.push(lines[i]);
        i++;
      }
      const indent = Math.min(...block.filter((l) => l.trim() !== "").map((l) => l.match(/^\s*/)![0].length));
      if (out.length > 0 && out[out.length - 1] !== "") out.push("");
      out.push("```ts", ...block.map((l) => l.slice(indent)), "```");
      if (i < lines.length && lines[i].trim() !== "") out.push("");
    } else {
      out.push(prose(clean(lines[i])));
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

function docOf(sym: ts.Symbol, checker: ts.TypeChecker): string {
  return clean(ts.displayPartsToString(sym.getDocumentationComment(checker)));
}

function isInternal(sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  return sym.getJsDocTags(checker).some((t) => t.name === "internal" || t.name === "hidden");
}

/** `{@link X}` → `` `X` ``, trailing spaces trimmed. */
function clean(s: string): string {
  return s
    .replace(/\{@link(?:code|plain)?\s+([^}\s|]+)(?:[\s|]+([^}]*))?\}/g, (_m, target: string, label?: string) =>
      code(label && label.trim() ? label.trim() : target, false),
    )
    .replace(/[ \t]+$/gm, "")
    .trim();
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * Doc text as Markdown: outside code spans, `<x>` would be swallowed as an HTML tag and
 * `*` could start emphasis, so both are escaped.
 */
function prose(s: string): string {
  return s
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/\*/g, "\\*")))
    .join("");
}

/** A Markdown table cell: one line, pipes escaped. */
function cell(s: string): string {
  return prose(oneLine(s)).replace(/\|/g, "\\|");
}

/** Inline code; pipes escaped unless outside a table. */
function code(s: string, inTable = true): string {
  const t = oneLine(s);
  const fence = t.includes("`") ? "``" : "`";
  const body = fence === "``" ? ` ${t} ` : t;
  return `${fence}${inTable ? body.replace(/\|/g, "\\|") : body}${fence}`;
}

const printer = ts.createPrinter({ removeComments: true });

/** Source of a type or expression on one line, without the comments inside it. */
function text(node: ts.Node, sf: ts.SourceFile): string {
  return oneLine(printer.printNode(ts.EmitHint.Unspecified, node, sf)).replace(/;\s*}/g, " }").replace(/,(\s*[}\])])/g, "$1");
}

function typeString(type: ts.Type, checker: ts.TypeChecker, at?: ts.Node): string {
  // Types not nameable at `at` print as import("<absolute path>").X; the page must not carry paths.
  return checker
    .typeToString(type, at, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope)
    .replace(/import\("[^"]*"\)\./g, "");
}

function parameterText(p: ts.ParameterDeclaration, checker: ts.TypeChecker): string {
  const sf = p.getSourceFile();
  const optional = p.questionToken !== undefined || p.initializer !== undefined;
  const type = p.type ? text(p.type, sf) : typeString(checker.getTypeAtLocation(p), checker, p);
  return `${p.dotDotDotToken ? "..." : ""}${p.name.getText(sf)}${optional ? "?" : ""}: ${type}`;
}

function signatureOf(name: string, decl: ts.SignatureDeclaration, checker: ts.TypeChecker): string {
  const sf = decl.getSourceFile();
  const typeParams = decl.typeParameters ? `<${decl.typeParameters.map((t) => text(t, sf)).join(", ")}>` : "";
  const params = decl.parameters.map((p) => parameterText(p, checker)).join(", ");
  let returns: string;
  if (decl.type) returns = text(decl.type, sf);
  else {
    const sig = checker.getSignatureFromDeclaration(decl);
    returns = sig ? typeString(sig.getReturnType(), checker, decl) : "void";
  }
  return `${name}${typeParams}(${params}): ${returns}`;
}

function overloadsOrImplementation<T extends ts.FunctionLikeDeclaration>(decls: T[]): T[] {
  const overloads = decls.filter((d) => d.body === undefined);
  return overloads.length > 0 ? overloads : decls.slice(0, 1);
}

/** The declaration as written, without `export`/`declare`. */
function declarationText(d: ts.TypeAliasDeclaration | ts.EnumDeclaration, sf: ts.SourceFile): string {
  return d.getText(sf).replace(/^(?:(?:export|declare)\s+)+/, "").trim();
}

/** A constant's declared (or inferred) type, and its value when that is short. */
function constantDoc(name: string, description: string, d: ts.VariableDeclaration, checker: ts.TypeChecker): ConstantDoc {
  const sf = d.getSourceFile();
  const value = d.initializer ? text(d.initializer, sf) : undefined;
  let type = d.type ? text(d.type, sf) : typeString(checker.getTypeAtLocation(d.name), checker, d);
  // `const X = "literal"` has the literal as its type; the widened type says more.
  if (type === value) type = typeString(checker.getBaseTypeOfLiteralType(checker.getTypeAtLocation(d.name)), checker, d);
  return { name, description, type, value: value !== undefined && value.length <= 120 ? value : undefined };
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

function isPublic(node: ts.Node): boolean {
  return !hasModifier(node, ts.SyntaxKind.PrivateKeyword) && !hasModifier(node, ts.SyntaxKind.ProtectedKeyword);
}

/** GitHub's heading anchor. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-");
}

/** Locale-independent ordering, so every machine writes the same pages. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function finish(lines: string[]): string {
  const collapsed: string[] = [];
  for (const l of lines) {
    if (l === "" && collapsed[collapsed.length - 1] === "") continue;
    collapsed.push(l);
  }
  while (collapsed[collapsed.length - 1] === "") collapsed.pop();
  return `${collapsed.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Check / write

/** A page on disk that does not match what the generator produces. */
export interface StalePage {
  readonly path: string;
  readonly problem: "differs" | "missing" | "not generated";
}

/** Pages under `help/reference` that differ from `expected`, are missing, or are left over. */
export function stalePages(rootDir: string, expected: ReadonlyMap<string, string>): StalePage[] {
  const stale: StalePage[] = [];
  for (const [rel, content] of [...expected].sort(([a], [b]) => compare(a, b))) {
    const abs = path.join(rootDir, rel);
    if (!existsSync(abs)) stale.push({ path: rel, problem: "missing" });
    else if (readFileSync(abs, "utf8") !== content) stale.push({ path: rel, problem: "differs" });
  }
  for (const rel of existingPages(rootDir)) {
    if (!expected.has(rel)) stale.push({ path: rel, problem: "not generated" });
  }
  return stale;
}

function existingPages(rootDir: string): string[] {
  const dir = path.join(rootDir, REFERENCE_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".md"))
    .sort(compare)
    .map((n) => `${REFERENCE_DIR}/${n}`);
}


function main(argv: string[]): number {
  const check = argv.includes("--check");
  const rootDir = packageRoot();
  const pages = generateReference(rootDir);
  const stale = stalePages(rootDir, pages);
  if (check) {
    if (stale.length === 0) {
      console.log(`${REFERENCE_DIR} is up to date (${pages.size} pages).`);
      return 0;
    }
    for (const s of stale) console.error(`${s.path}: ${s.problem}`);
    console.error(`${REFERENCE_DIR} is out of date; run \`npm run docs\` and commit the result.`);
    return 1;
  }
  mkdirSync(path.join(rootDir, REFERENCE_DIR), { recursive: true });
  for (const s of stale) {
    const abs = path.join(rootDir, s.path);
    if (s.problem === "not generated") unlinkSync(abs);
    else writeFileSync(abs, pages.get(s.path)!);
    console.log(`${s.problem === "not generated" ? "removed" : "wrote"} ${s.path}`);
  }
  console.log(`${REFERENCE_DIR}: ${pages.size} pages, ${stale.length} changed.`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
