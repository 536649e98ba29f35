/** Two projects: fast unit/synth tests, and terraform init/validate/plan of every stack. */
const tsJest = ["ts-jest", { diagnostics: false }];
const common = {
  testEnvironment: "node",
  // jose is published as ES modules only; Jest runs CommonJS.
  transform: { "^.+\\.ts$": tsJest, "/node_modules/jose/.+\\.js$": "<rootDir>/tests/helpers/esm-transform.js" },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  moduleFileExtensions: ["ts", "js", "json"],
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/cdktf.out/"],
};
module.exports = {
  // Most suites wait on servers and terraform rather than compute: on CI's 2 cores one worker (Jest's
  // default there) runs them one after another; three overlap them (help/testing-offline.md). A number,
  // not "150%": Jest reads a percentage above 100 as that many workers.
  maxWorkers: 3,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/tests/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/terraform/"],
    },
    {
      ...common,
      displayName: "terraform",
      testMatch: ["<rootDir>/tests/terraform/**/*.test.ts"],
    },
  ],
};
