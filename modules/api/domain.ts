/**
 * A custom domain for an API stage: a regional API Gateway domain name on an ACM certificate you
 * own (TLS 1.2 at least) and a base path mapping to the stage. DNS stays yours: point an alias (or
 * CNAME) at `regionalDomainName`.
 */
import { ApiGatewayBasePathMapping } from "@cdktf/provider-aws/lib/api-gateway-base-path-mapping";
import { ApiGatewayDomainName } from "@cdktf/provider-aws/lib/api-gateway-domain-name";
import { Construct } from "constructs";
import { PropsValidator } from "../core/validation";

/** A custom domain of a {@link CacheApi}. */
export interface ApiDomainProps {
  /** The domain, e.g. `api.example.com`. */
  readonly domainName: string;
  /** ARN of an ACM certificate for it, in the API's region. */
  readonly certificateArn: string;
  /**
   * Path segment the stage is served under (`https://<domain>/<basePath>/…`); empty: the domain's root.
   * @default "" (the root)
   */
  readonly basePath?: string;
}

const DOMAIN_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const CERT_RE = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const BASE_PATH_RE = /^[A-Za-z0-9._-]{0,128}$/;

/** Records the problems of `domain` as `<field>.<name>` in `v`. */
export function validateDomain(v: PropsValidator, field: string, domain: ApiDomainProps): void {
  v.matches(`${field}.domainName`, domain.domainName, DOMAIN_RE, "a lowercase DNS name such as \"api.example.com\"");
  v.matches(`${field}.certificateArn`, domain.certificateArn, CERT_RE, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)");
  v.matches(`${field}.basePath`, domain.basePath, BASE_PATH_RE, "one path segment of letters, digits, '.', '_', '-', or empty");
}

/** Props of {@link ApiDomain}: the domain, and the stage it serves. */
export interface ApiDomainConstructProps extends ApiDomainProps {
  /** The REST API whose stage the domain serves. */
  readonly restApiId: string;
  /** The stage the base path maps to. */
  readonly stageName: string;
}

/** A regional custom domain name mapped to one stage. */
export class ApiDomain extends Construct {
  /** The Terraform `aws_api_gateway_domain_name` resource. */
  public readonly domain: ApiGatewayDomainName;
  /** The Terraform `aws_api_gateway_base_path_mapping` resource. */
  public readonly mapping: ApiGatewayBasePathMapping;
  /** @attribute — the name to alias (or CNAME) your DNS record to. */
  public readonly regionalDomainName: string;
  /** @attribute — the Route 53 hosted zone of `regionalDomainName`, for an alias record. */
  public readonly regionalZoneId: string;

  constructor(scope: Construct, id: string, props: ApiDomainConstructProps) {
    super(scope, id);
    this.domain = new ApiGatewayDomainName(this, "domain", {
      domainName: props.domainName,
      regionalCertificateArn: props.certificateArn,
      endpointConfiguration: { types: ["REGIONAL"] },
      securityPolicy: "TLS_1_2",
    });
    this.mapping = new ApiGatewayBasePathMapping(this, "mapping", {
      apiId: props.restApiId,
      stageName: props.stageName,
      domainName: this.domain.domainName,
      basePath: props.basePath || undefined,
    });
    this.regionalDomainName = this.domain.regionalDomainName;
    this.regionalZoneId = this.domain.regionalZoneId;
  }
}
