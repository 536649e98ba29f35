/**
 * The rotation function of a cache's password users (functions/cache-rotator): one per cache,
 * invoked by Secrets Manager for each user's secret. It may modify those users only, read and
 * write those secrets only, and reach the cache port (its test login) and the two AWS APIs it
 * calls through interface endpoints:
 *
 *   const rotator = new CacheUserRotator(users, "rotator", { network, endpoint, allowFrom });
 *   rotator.rotates(secret, user);   // IAM on both, invoke permission for Secrets Manager
 */
import type { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Construct } from "constructs";
import { CACHE_ROTATOR } from "../../functions/cache-rotator/contract";
import { CONNECTIONS, formatSetting } from "../../functions/lib/contract";
import { physicalName } from "../core/naming";
import { CacheAsideFunction } from "../function";
import type { INetwork } from "../network";
import type { ICacheClient } from "./cache";

/** Props of {@link CacheUserRotator}. */
export interface CacheUserRotatorProps {
  /** The cache's network: the function runs in its private subnets. */
  readonly network: INetwork;
  /** The cache's endpoint, where the function tests a new password. */
  readonly endpoint: { readonly host: string; readonly port: number; readonly tls: boolean; readonly clusterMode: boolean };
  /** Lets the function reach the cache port. */
  readonly allowFrom: (peer: ICacheClient) => void;
  /**
   * Customer key of the secrets: the function may decrypt and encrypt with it through Secrets Manager.
   * @default AWS-managed (no KMS grant)
   */
  readonly kmsKeyArn?: string;
}

/** The rotation function of one cache's password users. */
export class CacheUserRotator extends Construct {
  /** The function (bundled from functions/cache-rotator/handler.ts). */
  public readonly fn: CacheAsideFunction<typeof CACHE_ROTATOR>;
  /** @attribute ARN Secrets Manager invokes. */
  public readonly functionArn: string;

  constructor(scope: Construct, id: string, private readonly props: CacheUserRotatorProps) {
    super(scope, id);
    this.fn = new CacheAsideFunction(this, "fn", {
      network: props.network,
      contract: CACHE_ROTATOR,
      description: `Rotates the passwords of the ElastiCache users of ${scope.node.path}`,
      // setSecret waits for ModifyUser to finish (usually well under a minute).
      timeoutSeconds: 180,
    });
    this.functionArn = this.fn.functionArn;
    const e = props.endpoint;
    this.fn
      .addEnvironment(CONNECTIONS.redisHost.env, e.host)
      .addEnvironment(CONNECTIONS.redisPort.env, formatSetting(e.port))
      .addEnvironment(CONNECTIONS.redisTls.env, formatSetting(e.tls))
      .addEnvironment(CONNECTIONS.redisClusterMode.env, formatSetting(e.clusterMode));
    props.allowFrom(this.fn);
    for (const service of ["secretsmanager", "elasticache"]) props.network.addInterfaceEndpoint(service).connections.allowDefaultPortFrom(this.fn);
  }

  /** Lets the function rotate `secret`, the password of `user`, and Secrets Manager invoke it for that secret. */
  rotates(secret: SecretsmanagerSecret, user: ElasticacheUser): void {
    const name = physicalName(secret, 100);
    this.fn.role.addToPrincipalPolicy(`rotate-${name}`, [
      {
        actions: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
        resources: [secret.arn],
      },
      { actions: ["elasticache:ModifyUser", "elasticache:DescribeUsers"], resources: [user.arn] },
      ...(this.props.kmsKeyArn
        ? [{
            actions: ["kms:Decrypt", "kms:GenerateDataKey"],
            resources: [this.props.kmsKeyArn],
            conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${this.props.network.region}.amazonaws.com` } },
          }]
        : []),
    ]);
    new LambdaPermission(this, `invoke-${secret.node.id}`, {
      action: "lambda:InvokeFunction",
      functionName: this.fn.functionName,
      principal: "secretsmanager.amazonaws.com",
      sourceArn: secret.arn,
    });
  }
}
