import { readFileSync } from "fs";
import * as path from "path";
import { packageRoot } from "./project-root";

/** What this package's `package.json` says about where it lives. */
export interface PackageInfo {
  /** `name`, e.g. `@cachefront/cdktf-dynamodb-cache`. */
  readonly name: string;
  /** `version`, e.g. `0.1.0`. */
  readonly version: string;
  /** GitHub `owner/name` from `repository.url`. */
  readonly githubRepository: string;
  /** `https://github.com/<owner>/<name>`. */
  readonly repositoryWebUrl: string;
}

let info: PackageInfo | undefined;

/**
 * Read once from the package root's `package.json`, so a link built from it (a runbook in an alarm
 * description) names the docs of the version that is installed, in the repository the package
 * says it comes from.
 */
export function packageInfo(): PackageInfo {
  if (info) return info;
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
    name: string;
    version: string;
    repository?: string | { url?: string };
  };
  const url = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url ?? "";
  const m = /github\.com[/:]([^/]+)\/([^/]+?)(?:\.git)?$/.exec(url);
  if (!m) throw new Error(`package.json of ${pkg.name} has no GitHub repository.url (found ${JSON.stringify(url)})`);
  info = {
    name: pkg.name,
    version: pkg.version,
    githubRepository: `${m[1]}/${m[2]}`,
    repositoryWebUrl: `https://github.com/${m[1]}/${m[2]}`,
  };
  return info;
}

/** Where a page of the guide of this version is read outside the repository: `<repo>/blob/v<version>/help/<page>`. */
export function helpPageUrl(page: string): string {
  const p = packageInfo();
  return `${p.repositoryWebUrl}/blob/v${p.version}/help/${page}`;
}
