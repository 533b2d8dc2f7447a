import { pathToFileURL } from "node:url";
import { repoPath } from "./helpers.js";

/** One variable as listEnvVars (packages/runtime) documents it. */
export interface EnvVarDoc {
  name: string;
  default: string | undefined;
  required: boolean;
  description: string;
  aliases: string[];
}

/** The part of a zod schema the tests use (the schemas come from the services' built dist/config.js). */
export interface ParseableSchema {
  safeParse(
    input: unknown,
  ): { success: true; data: unknown } | { success: false; error: { message: string } };
}
export interface ObjectSchema extends ParseableSchema {
  shape: Record<string, ParseableSchema>;
}

export interface ServiceInfo {
  dir: string;
  title: string;
  unit: string;
  envFile: string;
}
export interface ServiceConfig extends ServiceInfo {
  schema: ObjectSchema;
  aliases: Record<string, readonly string[]>;
  vars: EnvVarDoc[];
}

/** scripts/gen-config-reference.mjs as a module. */
export interface ConfigReferenceGenerator {
  REPO_ROOT: string;
  DEFAULT_OUT: string;
  SERVICES: ServiceInfo[];
  loadServiceConfigs(opts?: { servicesDir?: string }): Promise<ServiceConfig[]>;
  renderConfigReference(services: ServiceConfig[]): string;
  generateConfigReference(opts?: { servicesDir?: string }): Promise<string>;
  diffSummary(expected: string, actual: string, limit?: number): string;
  ConfigReferenceError: new (message: string) => Error & { code: string };
}

export const GENERATOR_PATH = repoPath("scripts/gen-config-reference.mjs");

export async function loadGenerator(): Promise<ConfigReferenceGenerator> {
  return (await import(pathToFileURL(GENERATOR_PATH).href)) as ConfigReferenceGenerator;
}

let cached: Promise<ServiceConfig[]> | null = null;
/** The three services' schemas from their dist/config.js (loaded once per test file). */
export function serviceConfigs(): Promise<ServiceConfig[]> {
  cached ??= loadGenerator().then((g) => g.loadServiceConfigs());
  return cached;
}
