import { LOG_RETENTION_DAYS, PropsValidationError } from "../../modules/core/validation";
import { LogGroup, LogGroupProps } from "../../modules/logs";
import { onlyResource, synthJson, testStack } from "../helpers/synth";

const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function synthLogGroup(props: Partial<LogGroupProps> = {}, profile: "dev" | "prod" = "prod"): any {
  return onlyResource(synthJson((stack) => { new LogGroup(stack, "logs", { name: "/aws/lambda/fn", ...props }); }, profile),
    "aws_cloudwatch_log_group");
}

function expectInvalid(props: Partial<LogGroupProps>, field: string, valueText: string): void {
  const { stack } = testStack();
  let err: unknown;
  try {
    new LogGroup(stack, "logs", { name: "/aws/lambda/fn", ...props });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PropsValidationError);
  const e = err as PropsValidationError;
  expect(e.message).toContain("test/logs");
  expect(e.message).toContain(field);
  expect(e.message).toContain(valueText);
  expect(e.problems.map((p) => p.field)).toContain(field);
}

describe("LogGroup", () => {
  test("keeps logs 90 days in prod", () => {
    const lg = synthLogGroup({}, "prod");
    expect(lg.name).toBe("/aws/lambda/fn");
    expect(lg.retention_in_days).toBe(90);
    expect(lg.kms_key_id).toBeUndefined();
  });

  test("keeps logs 14 days in dev", () => {
    expect(synthLogGroup({}, "dev").retention_in_days).toBe(14);
  });

  test("an explicit profile wins over the stack's", () => {
    expect(synthLogGroup({ profile: "dev" }, "prod").retention_in_days).toBe(14);
  });

  test("explicit retention and KMS key are used", () => {
    const lg = synthLogGroup({ retentionDays: 365, kmsKeyArn: KEY_ARN });
    expect(lg.retention_in_days).toBe(365);
    expect(lg.kms_key_id).toBe(KEY_ARN);
  });

  test("exposes the retention in force", () => {
    const { stack } = testStack("dev");
    expect(new LogGroup(stack, "logs", { name: "x" }).retentionDays).toBe(14);
  });

  test.each([8, 0, -1, 4000])("refuses retention %p (not a CloudWatch value)", (retentionDays) => {
    expect(LOG_RETENTION_DAYS as readonly number[]).not.toContain(retentionDays);
    expectInvalid({ retentionDays }, "retentionDays", String(retentionDays));
  });

  test.each(["", "has space", "bad:name", "x".repeat(513)])("refuses the name %p", (name) => {
    expectInvalid({ name }, "name", JSON.stringify(name));
  });

  test("reports a bad name and a bad retention together", () => {
    const { stack } = testStack();
    try {
      new LogGroup(stack, "logs", { name: "a b", retentionDays: 8 });
      throw new Error("expected a PropsValidationError");
    } catch (e) {
      expect((e as PropsValidationError).problems.map((p) => p.field).sort()).toEqual(["name", "retentionDays"]);
    }
  });
});
