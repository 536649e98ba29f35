import { IConstruct } from "constructs";

/**
 * Deployment profile. `prod` is highly available and locked down (multi-AZ, failover,
 * deletion protection, longer retention); `dev` is small and cheap. Both are secure:
 * encryption, TLS and least privilege do not depend on the profile.
 */
export type Profile = "dev" | "prod";

/** Context key a stack sets so every construct below it picks the same profile. */
export const PROFILE_CONTEXT_KEY = "cachefront:profile";

/**
 * The profile in force for a construct: its own prop if given, else the context set by an
 * enclosing stack (`scope.node.setContext(PROFILE_CONTEXT_KEY, "dev")`), else `prod`, so a
 * construct used on its own gets the safe defaults.
 */
export function profileOf(scope: IConstruct, explicit?: Profile): Profile {
  if (explicit) return explicit;
  const fromContext = scope.node.tryGetContext(PROFILE_CONTEXT_KEY);
  return fromContext === "dev" ? "dev" : "prod";
}

/** Picks the dev or prod value of a default. */
export function byProfile<T>(profile: Profile, values: { dev: T; prod: T }): T {
  return values[profile];
}
