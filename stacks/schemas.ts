/** Request body models (JSON Schema draft-04, as API Gateway requires). */

/** PUT /products/{productId} */
export const PRODUCT_SCHEMA = {
  $schema: "http://json-schema.org/draft-04/schema#",
  title: "Product",
  type: "object",
  required: ["name", "price"],
  additionalProperties: true,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    price: { type: "number", minimum: 0 },
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    category: { type: "string", maxLength: 100 },
    description: { type: "string", maxLength: 4000 },
  },
} as const;

/** POST /sessions/{sessionId}/turns */
export const TURN_SCHEMA = {
  $schema: "http://json-schema.org/draft-04/schema#",
  title: "Turn",
  type: "object",
  required: ["customerId", "role", "content"],
  additionalProperties: false,
  properties: {
    customerId: { type: "string", minLength: 1, maxLength: 128 },
    role: { type: "string", enum: ["user", "assistant", "system"] },
    content: { type: "string", minLength: 1, maxLength: 32000 },
    contentEncoding: { type: "string", enum: ["identity", "gzip+base64"] },
  },
} as const;
