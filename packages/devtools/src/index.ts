export { feederEnvSchema, governorEnvSchema } from "./env.js";
export {
  ACTION_WEIGHTS,
  DEFAULT_FEEDER_SYMBOLS,
  type FeederOptions,
  type FeederSymbol,
  type FeederTickOptions,
  type FeederTickResult,
  feederTick,
  mulberry32,
  nextProposal,
  onTick,
  pickKillScore,
  startFeeder,
} from "./feeder.js";
export {
  DEV_GOVERNOR_BLOCK_REASON,
  DEV_GOVERNOR_SERVICE,
  type DevGovernor,
  type DevGovernorOptions,
  type DevGovernorRules,
  type GovernorVerdict,
  governorPermitJson,
  governorVerdict,
  startDevGovernor,
} from "./governor.js";
export { applyLayerInProduction } from "./guard.js";
