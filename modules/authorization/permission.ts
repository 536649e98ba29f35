/** Internal: the invoke permission of a Lambda authorizer, shared by the REST and WebSocket bindings. */
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct } from "constructs";

/**
 * Lets API Gateway invoke `functionName` as authorizer `authorizerId` of the API with
 * `executionArn` only: no other API, route or authorizer may invoke it.
 */
export function authorizerInvokePermission(api: Construct, functionName: string, executionArn: string, authorizerId: string): LambdaPermission {
  return new LambdaPermission(api, "authorizer-invoke", {
    functionName,
    action: "lambda:InvokeFunction",
    principal: "apigateway.amazonaws.com",
    sourceArn: `${executionArn}/authorizers/${authorizerId}`,
  });
}
