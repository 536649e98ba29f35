/**
 * An S3 bucket for what a pipeline keeps (build artifacts, Terraform state), locked down the way
 * the policy pack's S3 rules want it, with grants that add the matching KMS permissions:
 *
 *   const artifacts = new PipelineBucket(this, "artifacts", { key, expireObjectsAfterDays: 30 });
 *   artifacts.grantReadWrite(pipelineRole);
 */
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { physicalName } from "../core/naming";
import { PropsValidator } from "../core/validation";
import type { IGrantable } from "../iam";

/** Props of {@link PipelineBucket}. */
export interface PipelineBucketProps {
  /** ARN of the customer-managed KMS key every object is encrypted with (SSE-KMS, bucket key on). */
  readonly keyArn: string;
  /**
   * Days after which current objects expire; undefined keeps them (Terraform state must never expire).
   * @default objects never expire
   */
  readonly expireObjectsAfterDays?: number;
  /**
   * Days a replaced or deleted version is kept, so an overwritten object can be restored for that long.
   * @default 90
   */
  readonly noncurrentVersionDays?: number;
  /** What the bucket holds, for its tags and the bucket policy's statement ids (e.g. `artifacts`). */
  readonly purpose: string;
  /**
   * Who owns the objects others write: `BucketOwnerEnforced` disables ACLs; `BucketOwnerPreferred`
   * keeps them, for writers that still grant through ACLs (CloudFront standard logging).
   * @default "BucketOwnerEnforced"
   */
  readonly objectOwnership?: "BucketOwnerEnforced" | "BucketOwnerPreferred";
}

/**
 * A private S3 bucket: SSE-KMS with a customer key, versioning on, every public access block
 * set, ACLs disabled (bucket owner enforced) unless a writer needs them, a bucket policy refusing requests without TLS, and
 * a lifecycle that expires old versions (and objects, when asked). The name is a prefix Terraform
 * completes, because bucket names are global across every AWS account.
 */
export class PipelineBucket extends Construct {
  /** The Terraform `aws_s3_bucket` resource. */
  public readonly resource: S3Bucket;
  /** @attribute The bucket's name. */
  public readonly bucketName: string;
  /** @attribute The bucket's ARN. */
  public readonly bucketArn: string;
  /** ARN of the key its objects are encrypted with. */
  public readonly keyArn: string;

  constructor(scope: Construct, id: string, props: PipelineBucketProps) {
    super(scope, id);
    const noncurrentDays = props.noncurrentVersionDays ?? 90;
    PropsValidator.for(this)
      .intRange("expireObjectsAfterDays", props.expireObjectsAfterDays, 1, 36_500)
      .intRange("noncurrentVersionDays", noncurrentDays, 1, 36_500)
      .matches("purpose", props.purpose, /^[a-z][a-z0-9-]{0,30}$/, "1-31 lowercase letters, digits and '-', starting with a letter")
      .throwIfAny();

    this.keyArn = props.keyArn;
    this.resource = new S3Bucket(this, "bucket", {
      // bucket_prefix allows 37 characters; Terraform appends a 26-character unique suffix.
      bucketPrefix: `${physicalName(this, 36)}-`,
      forceDestroy: false,
      tags: { Purpose: props.purpose },
    });
    this.bucketName = this.resource.bucket;
    this.bucketArn = this.resource.arn;
    const bucket = this.resource.id;

    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: props.objectOwnership ?? "BucketOwnerEnforced" } });
    const block = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      // The bucket key cuts KMS requests (and their cost) by reusing a data key per bucket for a while.
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.keyArn }, bucketKeyEnabled: true }],
    });
    new S3BucketPolicy(this, "policy", {
      bucket,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [{
          Sid: "DenyRequestsWithoutTls",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [this.bucketArn, `${this.bucketArn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }],
      }),
      // S3 refuses a bucket policy while the public access block is being applied with
      // block_public_policy; ordering them avoids an intermittent 409 on the first apply.
      dependsOn: [block],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [{
        id: "expire-old-versions",
        status: "Enabled",
        filter: [{ prefix: "" }],
        noncurrentVersionExpiration: [{ noncurrentDays }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        ...(props.expireObjectsAfterDays !== undefined ? { expiration: [{ days: props.expireObjectsAfterDays }] } : {}),
      }],
    });
  }

  /** Lets `grantee` read objects (under `prefix`, default all) and decrypt them. */
  grantRead(grantee: IGrantable, prefix = ""): this {
    grantee.grantPrincipal.addToPrincipalPolicy(`${this.node.id}-read`, [
      { actions: ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"], resources: [this.bucketArn] },
      { actions: ["s3:GetObject", "s3:GetObjectVersion"], resources: [`${this.bucketArn}/${prefix}*`] },
      { actions: ["kms:Decrypt"], resources: [this.keyArn] },
    ]);
    return this;
  }

  /** Lets `grantee` read, write and delete objects (under `prefix`, default all), with the key. */
  grantReadWrite(grantee: IGrantable, prefix = ""): this {
    grantee.grantPrincipal.addToPrincipalPolicy(`${this.node.id}-read-write`, [
      { actions: ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"], resources: [this.bucketArn] },
      { actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"], resources: [`${this.bucketArn}/${prefix}*`] },
      { actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], resources: [this.keyArn] },
    ]);
    return this;
  }
}
