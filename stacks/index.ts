export * from "./base";
export * from "./config";
export * from "./product-catalog";
export * from "./session-store";
