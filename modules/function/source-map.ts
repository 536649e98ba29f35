/**
 * Internal: a bundle's source map trimmed to the function's own code. esbuild maps every byte of
 * the bundle, and most of it is dependencies (the DAX client, ioredis): their mappings made up over
 * half the zipped bundle while a stack trace into them is read in the minified bundle anyway. What
 * stays maps our own files exactly as before.
 */
import { decode, encode, SourceMapSegment } from "@jridgewell/sourcemap-codec";

interface SourceMapV3 {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  [key: string]: unknown;
}

/** `map` (JSON text) with only the mappings into sources `keep` accepts; sources and names renumbered. */
export function trimSourceMap(map: string, keep: (source: string) => boolean): string {
  const parsed = JSON.parse(map) as SourceMapV3;
  const sourceIndex = new Map<number, number>();
  const nameIndex = new Map<number, number>();
  const sources: string[] = [];
  const names: string[] = [];
  parsed.sources.forEach((s, i) => {
    if (keep(s)) sourceIndex.set(i, sources.push(s) - 1);
  });
  const lines = decode(parsed.mappings).map((line) =>
    line.flatMap((seg): SourceMapSegment[] => {
      if (seg.length === 1) return [];
      const src = sourceIndex.get(seg[1]);
      if (src === undefined) return [];
      if (seg.length === 4) return [[seg[0], src, seg[2], seg[3]]];
      let name = nameIndex.get(seg[4]);
      if (name === undefined) nameIndex.set(seg[4], (name = names.push(parsed.names[seg[4]]) - 1));
      return [[seg[0], src, seg[2], seg[3], name]];
    }),
  );
  return JSON.stringify({ ...parsed, sources, names, mappings: encode(lines) });
}

/** True for a source of the bundle that is the function's own code, not a dependency's. */
export const ownSource = (source: string): boolean => !/(^|\/)node_modules\//.test(source);
