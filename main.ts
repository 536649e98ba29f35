/**
 * The default app: every stack kind × {dev, prod}, into cdktf.out/stacks/<stack>/cdk.tf.json.
 * Run with `npm run synth` (compiles first) or `cdktf synth` (uses the app in cdktf.json).
 */
import { App } from "cdktf";
import { buildApp } from "./stacks/app";

const app = new App();
buildApp(app);
app.synth();
