import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { crc32, inflateRawSync } from "zlib";
import { createZip, ZipEntry } from "../../modules/function/zip";

const ENTRIES: ZipEntry[] = [
  { name: "index.js", data: Buffer.from("exports.handler = async () => ({ statusCode: 200 });\n".repeat(20)) },
  { name: "index.js.map", data: Buffer.from(JSON.stringify({ version: 3, sources: ["handler.ts"], mappings: "AAAA" })) },
  { name: "empty.txt", data: Buffer.alloc(0) },
  { name: "lib/ünïcode.js", data: Buffer.from([0, 1, 2, 3, 255, 254]) },
];

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressedSize: number;
  size: number;
  externalAttrs: number;
  localOffset: number;
}

/** Reads the end-of-central-directory record and the central directory, as an unzip tool does. */
function readCentralDirectory(zip: Buffer): CentralEntry[] {
  const eocd = zip.length - 22;
  expect(zip.readUInt32LE(eocd)).toBe(0x06054b50);
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  expect(cdOffset + cdSize).toBe(eocd);
  const out: CentralEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(p)).toBe(0x02014b50);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    out.push({
      flags: zip.readUInt16LE(p + 8),
      method: zip.readUInt16LE(p + 10),
      time: zip.readUInt16LE(p + 12),
      date: zip.readUInt16LE(p + 14),
      crc: zip.readUInt32LE(p + 16),
      compressedSize: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      externalAttrs: zip.readUInt32LE(p + 38),
      localOffset: zip.readUInt32LE(p + 42),
      name: zip.subarray(p + 46, p + 46 + nameLen).toString("utf8"),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  expect(p).toBe(eocd);
  return out;
}

/** The decompressed data of an entry, read through its local header. */
function extract(zip: Buffer, e: CentralEntry): Buffer {
  const p = e.localOffset;
  expect(zip.readUInt32LE(p)).toBe(0x04034b50);
  expect(zip.readUInt32LE(p + 14)).toBe(e.crc);
  expect(zip.readUInt32LE(p + 18)).toBe(e.compressedSize);
  expect(zip.readUInt32LE(p + 22)).toBe(e.size);
  const nameLen = zip.readUInt16LE(p + 26);
  const extraLen = zip.readUInt16LE(p + 28);
  expect(zip.subarray(p + 30, p + 30 + nameLen).toString("utf8")).toBe(e.name);
  const start = p + 30 + nameLen + extraLen;
  return inflateRawSync(zip.subarray(start, start + e.compressedSize));
}

function hasUnzip(): boolean {
  try {
    execFileSync("unzip", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("createZip", () => {
  test("writes a central directory listing every entry, sorted by name, with correct CRCs and sizes", () => {
    // GIVEN entries / WHEN zipped
    const zip = createZip(ENTRIES);
    const central = readCentralDirectory(zip);
    // THEN
    expect(central.map((e) => e.name)).toEqual([...ENTRIES.map((e) => e.name)].sort());
    for (const c of central) {
      const input = ENTRIES.find((e) => e.name === c.name)!;
      expect(c.method).toBe(8); // deflate
      expect(c.flags & 0x0800).toBe(0x0800); // UTF-8 names
      expect(c.crc).toBe(crc32(input.data) >>> 0);
      expect(c.size).toBe(input.data.length);
      expect(extract(zip, c).equals(input.data)).toBe(true);
      expect((c.externalAttrs >>> 16) & 0o777).toBe(0o644);
    }
  });

  test("uses a fixed timestamp (1980-01-01 00:00)", () => {
    for (const c of readCentralDirectory(createZip(ENTRIES))) {
      expect(c.time).toBe(0);
      expect(c.date).toBe((0 << 9) | (1 << 5) | 1);
    }
  });

  test("is byte-identical for the same input whatever the entry order", () => {
    const a = createZip(ENTRIES);
    const b = createZip([...ENTRIES].reverse());
    const c = createZip([ENTRIES[2], ENTRIES[0], ENTRIES[3], ENTRIES[1]]);
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
  });

  test("changes when any content changes", () => {
    const a = createZip(ENTRIES);
    const changed = createZip([{ ...ENTRIES[0], data: Buffer.from("exports.handler = 1;\n") }, ...ENTRIES.slice(1)]);
    expect(changed.equals(a)).toBe(false);
  });

  test("an empty zip is just the end record", () => {
    const zip = createZip([]);
    expect(zip.length).toBe(22);
    expect(readCentralDirectory(zip)).toEqual([]);
  });

  const withUnzip = hasUnzip() ? test : test.skip;

  withUnzip("the system unzip lists, tests and extracts it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "zip-test-"));
    try {
      const file = path.join(dir, "bundle.zip");
      writeFileSync(file, createZip(ENTRIES));
      // -t verifies every CRC; it exits non-zero on any error
      const tested = execFileSync("unzip", ["-t", file], { encoding: "utf8" });
      expect(tested).toContain("No errors detected");
      const listing = execFileSync("unzip", ["-l", file], { encoding: "utf8" });
      for (const e of ENTRIES.filter((x) => /^[\x20-\x7e]*$/.test(x.name))) expect(listing).toContain(e.name);
      expect(listing).toContain(`${ENTRIES.length} files`);
      const index = execFileSync("unzip", ["-p", file, "index.js"]);
      expect(index.equals(ENTRIES[0].data)).toBe(true);
      const map = execFileSync("unzip", ["-p", file, "index.js.map"]);
      expect(map.equals(ENTRIES[1].data)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
