/** What a distribution is wired through (`EdgeInvalidator` takes one): its ids and the API behind it. */
import type { CacheApi } from "../api";

/** A CloudFront distribution in front of a `CacheApi`, owned (`CacheEdge`) or not. */
export interface IEdge {
  /** @attribute The distribution's id. */
  readonly distributionId: string;
  /** @attribute The distribution's ARN. */
  readonly distributionArn: string;
  /** The API behind it. */
  readonly api: CacheApi;
}
