/**
 * Engines and versions of a Redis/Valkey replication group: `CacheEngine.valkey("8.0")`, with the
 * parameter group family derived from it.
 */
/** Engines an ElastiCache replication group can run. */
export type CacheEngineName = "redis" | "valkey";
/** Redis OSS versions this construct supports. */
export type RedisVersion = "6.2" | "7.0" | "7.1";
/** Valkey versions this construct supports. */
export type ValkeyVersion = "7.2" | "8.0" | "8.1";

/** Supported versions and the parameter group family each belongs to. */
const FAMILIES: Record<CacheEngineName, Record<string, string>> = {
  redis: { "6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7" },
  valkey: { "7.2": "valkey7", "8.0": "valkey8", "8.1": "valkey8" },
};

/** Every engine a replication group can run. */
export const CACHE_ENGINE_NAMES = Object.keys(FAMILIES) as CacheEngineName[];

/** The version an engine runs when none is given. */
export const DEFAULT_ENGINE_VERSIONS: Readonly<Record<CacheEngineName, string>> = { valkey: "8.0", redis: "7.1" };

/**
 * An engine and version, e.g. `CacheEngine.valkey("8.0")`. The parameter group family is
 * derived from it, so the two can never disagree.
 */
export class CacheEngine {
  /** Valkey, the open-source fork of Redis OSS: same protocol, lower ElastiCache price. */
  static valkey(version: ValkeyVersion): CacheEngine {
    return new CacheEngine("valkey", version);
  }

  /** Redis OSS. */
  static redis(version: RedisVersion): CacheEngine {
    return new CacheEngine("redis", version);
  }

  /**
   * Engine and version from untyped config (e.g. an environment variable). Unsupported
   * combinations are reported by the construct that uses them, with its path.
   * @param version @default the engine's default version ({@link DEFAULT_ENGINE_VERSIONS})
   */
  static of(engine: CacheEngineName, version?: string): CacheEngine {
    return new CacheEngine(engine, version ?? DEFAULT_ENGINE_VERSIONS[engine]);
  }

  /** The default engine: Valkey at its default version. */
  static default(): CacheEngine {
    return CacheEngine.of("valkey");
  }

  private constructor(
    /** `redis` or `valkey`. */
    public readonly name: CacheEngineName,
    /** Major.minor version, e.g. `8.0`. */
    public readonly version: string,
  ) {}

  /** Parameter group family, e.g. `valkey8`; undefined for an unsupported version. */
  get family(): string | undefined {
    return FAMILIES[this.name]?.[this.version];
  }

  /** Versions supported for this engine. */
  get supportedVersions(): string[] {
    return Object.keys(FAMILIES[this.name] ?? {});
  }

  /** Human label used in descriptions, e.g. "Valkey". */
  get label(): string {
    return this.name === "valkey" ? "Valkey" : "Redis";
  }
}
