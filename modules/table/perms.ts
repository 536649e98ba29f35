/** IAM action lists for DynamoDB, kept in one place (as aws-cdk's perms.ts does). */
export const READ_DATA_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
] as const;

export const WRITE_DATA_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
] as const;

export const KEY_READ_ACTIONS = ["kms:Decrypt", "kms:DescribeKey"] as const;
export const KEY_WRITE_ACTIONS = ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"] as const;

/** Reading a table's stream: what Lambda's event source mapping does with the consumer's role. */
export const STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"] as const;
/** Listing a table's streams (resource `<table ARN>/stream/*`: the stream's label changes when it is recreated). */
export const STREAM_LIST_ACTIONS = ["dynamodb:ListStreams"] as const;
