// Minimal product-catalog handler: answers API Gateway REST proxy events. The cache-aside
// runtime replaces it (see the "Cache-aside Lambda runtime" issue).
interface ProxyEvent {
  httpMethod: string;
  resource?: string;
  path: string;
  pathParameters?: Record<string, string> | null;
}

export async function handler(event: ProxyEvent): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const body = {
    service: "product-catalog",
    route: `${event.httpMethod} ${event.resource ?? event.path}`,
    table: process.env.TABLE_NAME ?? null,
    productId: event.pathParameters?.productId ?? null,
  };
  return { statusCode: 501, headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, error: "not implemented yet" }) };
}
