import * as path from "path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { CacheApi, CacheAsideFunction, CacheEngine, CacheTable, DaxCluster, Network, RedisCache } from "@cachefront/cdktf-dynamodb-cache";
import { applyPolicy } from "@cachefront/cdktf-dynamodb-cache/policy";

const app = new App();
const stack = new TerraformStack(app, "catalog-eu");
new AwsProvider(stack, "aws", { region: "eu-west-1", defaultTags: [{ tags: { Project: "catalog-eu" } }] });
applyPolicy(stack); // the package's policy pack: an error-level finding fails synth

const network = new Network(stack, "network", { availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], cidr: "10.40.0.0/16" });
const table = new CacheTable(stack, "catalog", { partitionKey: { name: "productId", type: "S" } });
const cache = new RedisCache(stack, "cache", { network, engine: CacheEngine.valkey("8.1"), numShards: 2, replicasPerShard: 1 });
const dax = new DaxCluster(stack, "dax", { network, tables: [table], replicationFactor: 3 });

const products = new CacheAsideFunction(stack, "products", { network, entry: "functions/products/handler.ts", environment: { SERVICE_NAME: "catalog-eu" } });
products.useTable(table, { write: true }).useCache(cache).useDax(dax);
const prices = new CacheAsideFunction(stack, "prices", { network, entry: path.join(__dirname, "handler.ts"), environment: { SERVICE_NAME: "catalog-eu-prices" } });
prices.useTable(table).useCache(cache);

const api = new CacheApi(stack, "api", { routes: [
  { method: "GET", path: "/products/{productId}", function: products },
  { method: "PUT", path: "/products/{productId}", function: products, apiKeyRequired: true },
  { method: "GET", path: "/prices/{productId}", function: prices },
] });
new TerraformOutput(stack, "api_url", { value: api.url });
new TerraformOutput(stack, "api_key", { value: api.apiKeyValue!, sensitive: true });
app.synth();
