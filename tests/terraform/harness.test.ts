import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import {
  AWS_PROVIDER,
  cliConfig,
  conventionalMirrorLocations,
  fakeOutputValue,
  findProviderMirror,
  isProviderMirror,
  limiter,
  MIRROR_ENV,
  OVERRIDE_FILE,
  overrideFor,
  prepareStack,
  terraformEnv,
  terraformPlatform,
} from "../../tools/lib/terraform-harness";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "cachefront-harness-test-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake unpacked mirror with the provider folder for this platform (no binary needed to be found). */
function fakeMirror(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, ...AWS_PROVIDER.address.split("/"), AWS_PROVIDER.version, terraformPlatform()), { recursive: true });
  return dir;
}

describe("findProviderMirror", () => {
  test("GIVEN CACHEFRONT_TF_MIRROR points at a mirror WHEN searching THEN it wins over the conventional locations", () => {
    const mirror = fakeMirror("env-mirror");
    const other = fakeMirror("conventional");
    expect(findProviderMirror({ [MIRROR_ENV]: mirror }, [other])).toBe(mirror);
  });

  test("GIVEN CACHEFRONT_TF_MIRROR points at an empty folder WHEN searching THEN the conventional locations are used", () => {
    const empty = path.join(tmp, "empty");
    mkdirSync(empty);
    const conventional = fakeMirror("conventional");
    expect(findProviderMirror({ [MIRROR_ENV]: empty }, [path.join(tmp, "missing"), conventional])).toBe(conventional);
  });

  test("GIVEN no usable mirror anywhere WHEN searching THEN undefined (registry init)", () => {
    const empty = path.join(tmp, "empty");
    mkdirSync(empty);
    expect(findProviderMirror({ [MIRROR_ENV]: empty }, [path.join(tmp, "missing")])).toBeUndefined();
    expect(findProviderMirror({}, [])).toBeUndefined();
  });

  test("GIVEN a mirror with another provider version only THEN it is not used", () => {
    const dir = path.join(tmp, "old");
    mkdirSync(path.join(dir, ...AWS_PROVIDER.address.split("/"), "5.0.0", terraformPlatform()), { recursive: true });
    expect(isProviderMirror(dir)).toBe(false);
  });

  test("GIVEN a packed mirror (zip per platform) THEN it is used", () => {
    const dir = path.join(tmp, "packed");
    const providerDir = path.join(dir, ...AWS_PROVIDER.address.split("/"));
    mkdirSync(providerDir, { recursive: true });
    writeFileSync(path.join(providerDir, `terraform-provider-aws_${AWS_PROVIDER.version}_${terraformPlatform()}.zip`), "");
    expect(isProviderMirror(dir)).toBe(true);
  });

  test("the conventional locations are searched in the documented order", () => {
    expect(conventionalMirrorLocations("/home/u")).toEqual([
      "/opt/tf-plugins",
      "/home/u/.terraform.d/plugins",
      "/home/u/.local/share/terraform/plugins",
      "/usr/local/share/terraform/plugins",
      "/usr/share/terraform/plugins",
    ]);
  });
});

describe("cliConfig", () => {
  test("GIVEN a mirror THEN aws comes only from it and everything else from the registry", () => {
    const hcl = cliConfig("/opt/tf-plugins", "/tmp/x/plugin-cache");
    expect(hcl).toContain('plugin_cache_dir = "/tmp/x/plugin-cache"');
    expect(hcl).toMatch(/filesystem_mirror \{\s+path\s+= "\/opt\/tf-plugins"\s+include = \["registry.terraform.io\/hashicorp\/aws"\]/);
    expect(hcl).toMatch(/direct \{\s+exclude = \["registry.terraform.io\/hashicorp\/aws"\]/);
  });

  test("GIVEN no mirror THEN only the plugin cache is configured (plain registry init)", () => {
    const hcl = cliConfig(undefined, "/tmp/x/plugin-cache");
    expect(hcl).not.toContain("provider_installation");
    expect(hcl).toContain("plugin_cache_dir");
  });

  test("template sequences in paths are escaped", () => {
    expect(cliConfig("/m/${x}", "/c")).toContain('"/m/$${x}"');
  });
});

describe("terraformEnv", () => {
  test("uses the harness CLI config, disables prompts and checkpoint, and drops settings that would redirect runs", () => {
    const env = terraformEnv("/tmp/x/terraform.rc", {
      PATH: "/bin",
      TF_CLI_CONFIG_FILE: "/root/.terraformrc",
      TF_CLI_ARGS_plan: "-destroy",
      TF_DATA_DIR: "/shared",
      AWS_PROFILE: "prod-admin",
      AWS_SECRET_ACCESS_KEY: "real",
    });
    expect(env).toEqual({
      PATH: "/bin",
      TF_CLI_CONFIG_FILE: "/tmp/x/terraform.rc",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      AWS_EC2_METADATA_DISABLED: "true",
    });
  });
});

describe("overrideFor", () => {
  test("GIVEN one unaliased aws provider THEN one unaliased override entry with fake keys and skips, and a local backend", () => {
    const o = overrideFor({ provider: { aws: [{ region: "eu-west-1" }] } }, "/tmp/s/terraform.tfstate");
    expect(o.provider.aws).toEqual([
      {
        access_key: "AKIAIOSFODNN7EXAMPLE",
        secret_key: expect.any(String),
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
      },
    ]);
    // The region is left to the stack.
    expect(o.provider.aws[0]).not.toHaveProperty("region");
    expect(o.terraform).toEqual({ backend: { local: { path: "/tmp/s/terraform.tfstate" } } });
  });

  test("GIVEN aliased aws providers THEN one override entry per alias", () => {
    const o = overrideFor({ provider: { aws: [{ region: "eu-west-1" }, { region: "us-east-1", alias: "useast1" }] } }, "/s");
    expect(o.provider.aws.map((p) => p.alias)).toEqual([undefined, "useast1"]);
  });

  test("GIVEN no aws provider THEN a clear error", () => {
    expect(() => overrideFor({}, "/s")).toThrow(/declares no aws provider/);
  });
});

describe("limiter", () => {
  test("never runs more than max at once, even when calls arrive while others finish", async () => {
    const limit = limiter(2);
    let running = 0;
    let peak = 0;
    const task = (ms: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return ms;
    };
    const first = [5, 1, 3, 2].map((ms) => limit(task(ms)));
    await first[1];
    const late = [4, 1].map((ms) => limit(task(ms)));
    expect(await Promise.all([...first, ...late])).toEqual([5, 1, 3, 2, 4, 1]);
    expect(peak).toBe(2);
  });
});

describe("prepareStack with cross-stack references", () => {
  const input = "cross-stack-reference-input-network-dev";
  const provider = { aws: [{ region: "us-east-1" }] };
  function synthesized(stacks: Record<string, object>): string {
    const out = mkdtempSync(path.join(os.tmpdir(), "harness-xstack-"));
    for (const [name, json] of Object.entries(stacks)) {
      mkdirSync(path.join(out, "stacks", name), { recursive: true });
      writeFileSync(path.join(out, "stacks", name, "cdk.tf.json"), JSON.stringify(json));
    }
    return out;
  }

  test("GIVEN a stack reading another's outputs THEN the remote state points at a local state holding every upstream output", () => {
    const out = synthesized({
      "network-dev": { provider, output: { "cross-stack-output-aws_subnetnetwork_private-0_A0649C48id": { value: "x" }, "cross-stack-output-aws_vpcnetwork_vpc_4E8F0223id": { value: "y" } } },
      svc: { provider, data: { terraform_remote_state: { [input]: { backend: "local", config: { path: "../../../terraform.network-dev.tfstate" } } } } },
    });
    const prepared = prepareStack(path.join(out, "stacks", "svc"));
    const remote = prepared.override.data!.terraform_remote_state[input];
    expect(remote.backend).toBe("local");
    const state = JSON.parse(readFileSync(remote.config.path, "utf8"));
    expect(state.version).toBe(4);
    expect(state.outputs).toEqual({
      "cross-stack-output-aws_subnetnetwork_private-0_A0649C48id": { value: "subnet-0123456789abcdef0", type: "string" },
      "cross-stack-output-aws_vpcnetwork_vpc_4E8F0223id": { value: "vpc-0123456789abcdef0", type: "string" },
    });
    const written = JSON.parse(readFileSync(path.join(prepared.dir, OVERRIDE_FILE), "utf8"));
    expect(written.data).toEqual(prepared.override.data);
  });

  test("GIVEN the upstream stack is not synthesized beside it THEN a clear error", () => {
    const out = synthesized({ svc: { provider, data: { terraform_remote_state: { [input]: { backend: "local", config: { path: "x" } } } } } });
    expect(() => prepareStack(path.join(out, "stacks", "svc"))).toThrow(/svc reads the outputs of network-dev, which is not synthesized beside it/);
  });

  test("fake output values have the shape AWS gives each id", () => {
    expect(fakeOutputValue("cross-stack-output-aws_vpc_endpointnetwork_dynamodb-endpoint_E22EA307prefix_list_id")).toMatch(/^pl-/);
    expect(fakeOutputValue("cross-stack-output-aws_vpcnetwork_vpc_4E8F0223id")).toMatch(/^vpc-/);
    expect(fakeOutputValue("cross-stack-output-aws_security_groupnetwork_endpoint-secretsmanager_sg_group_D8E2074Fid")).toMatch(/^sg-/);
  });
});
