import { IConstruct } from "constructs";
import { createHash } from "crypto";

/**
 * A physical name for a resource, derived from the construct path so that two copies of a
 * construct in one account never collide: `<prefix>-<stack>-<innermost path parts>-<hash6>`, lowercased,
 * with runs of other characters folded to `-`, and cut to `maxLength` keeping the hash.
 */
export function physicalName(scope: IConstruct, maxLength: number, prefix?: string): string {
  return physicalNameOfPath(scope.node.path, maxLength, prefix);
}

/** {@link physicalName} of a construct path, for a name needed before its construct exists. */
export function physicalNameOfPath(nodePath: string, maxLength: number, prefix?: string): string {
  const parts = nodePath.split("/").filter((p) => p.length > 0);
  const hash = createHash("sha256").update(nodePath).digest("hex").slice(0, 6);
  // The stack (first part) plus the two innermost parts: readable in the console, and names of
  // account-wide resources (IAM roles) say which stack owns them.
  const picked = parts.length > 3 ? [parts[0], ...parts.slice(-2)] : parts;
  const readable = nameStem([prefix, ...picked].filter((p): p is string => !!p).join("-"));
  const room = Math.max(1, maxLength - hash.length - 1);
  let head = readable.slice(0, room).replace(/-+$/g, "");
  if (!/^[a-z]/.test(head)) head = `c${head}`.slice(0, room);
  return `${head}-${hash}`;
}

/**
 * `text` as physical names spell it: lowercased, runs of other characters folded to `-`, no `-` at
 * either end. Names derived from a stack start with `nameStem(<stack id>)-` (as long as the stack id
 * leaves room for the rest), which is what lets a deploy role be scoped to one stack's IAM roles.
 */
export function nameStem(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}

/**
 * ElastiCache replication group ids and DAX cluster names: start with a letter, lowercase
 * letters, digits and single hyphens, no trailing hyphen.
 */
export const CACHE_ID_RE = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;
