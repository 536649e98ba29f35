import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Authorization, CacheApi, CacheAsideFunction, CacheEngine, CacheTable, DaxCluster, Network, PRODUCTS, PRODUCTS_TABLE, RedisCache } from "@cachefront/cdktf-dynamodb-cache";
import { applyPolicy } from "@cachefront/cdktf-dynamodb-cache/policy";
import { PRICES } from "./contract";

const app = new App();
const stack = new TerraformStack(app, "catalog-eu");
new AwsProvider(stack, "aws", { region: "eu-west-1", defaultTags: [{ tags: { Project: "catalog-eu" } }] });
applyPolicy(stack); // the package's policy pack: an error-level finding fails synth

const network = new Network(stack, "network", { availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], cidr: "10.40.0.0/16" });
const table = new CacheTable(stack, "catalog", PRODUCTS_TABLE); // the layout the product handler is written against
const cache = new RedisCache(stack, "cache", { network, engine: CacheEngine.valkey("8.1"), numShards: 2, replicasPerShard: 1 });
const dax = new DaxCluster(stack, "dax", { network, tables: [table], replicationFactor: 3 });

const products = new CacheAsideFunction(stack, "products", { network, contract: PRODUCTS, settings: { serviceName: "catalog-eu" } });
products.useTable(table, { write: true }).useCache(cache).useDax(dax);
const prices = new CacheAsideFunction(stack, "prices", { network, contract: PRICES, settings: { serviceName: "catalog-eu-prices", priceTtlSeconds: 30 } });
prices.useTable(table).useCache(cache);

// Every route of both contracts; the product writes (access "caller") need a JWT of this issuer, verified by a Lambda authorizer.
const authorization = Authorization.jwt({ issuer: "https://login.catalog-eu.example.com/", audience: "catalog-eu-api" });
const api = new CacheApi(stack, "api", { functions: [products, prices], authorization });
new TerraformOutput(stack, "api_url", { value: api.url });
if (api.apiKeyValue) new TerraformOutput(stack, "api_key", { value: api.apiKeyValue, sensitive: true });
app.synth();
