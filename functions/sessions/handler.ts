// Minimal session-store handler: answers API Gateway REST proxy events. The session runtime
// replaces it (see the "Cache-aside Lambda runtime" issue).
interface ProxyEvent {
  httpMethod: string;
  resource?: string;
  path: string;
  pathParameters?: Record<string, string> | null;
}

export async function handler(event: ProxyEvent): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const body = {
    service: "session-store",
    route: `${event.httpMethod} ${event.resource ?? event.path}`,
    table: process.env.TABLE_NAME ?? null,
    sessionId: event.pathParameters?.sessionId ?? null,
  };
  return { statusCode: 501, headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, error: "not implemented yet" }) };
}
