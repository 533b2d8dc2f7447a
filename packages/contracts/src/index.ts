export { CLOSE_ACTIONS, CLOSE_FRACTIONS, type CloseAction, isCloseAction } from "./close-actions.js";
export {
  type DecodeResult,
  decodeFail,
  decodeOk,
  decodeWith,
  type FieldMap,
  fieldsToRecord,
  isPlainRecord,
  parseJson,
  recordToFields,
} from "./codec.js";
export { applyGeneratedSections, PLAN_ID_CHECK, renderContractSections } from "./contract-doc.js";
export {
  DECIMAL_STRING_RE,
  decimalString,
  isDecimalString,
  MAX_NUMBER_CHARS,
  numberToDecimalString,
} from "./decimal-string.js";
export { DecodeError } from "./decode-error.js";
export { EncodeError } from "./encode-error.js";
export { errorText } from "./error-text.js";
export {
  defineHashCodec,
  type FieldSpec,
  type FieldSpecs,
  type HashCodec,
  type HashCodecOptions,
} from "./hash-codec.js";
export type { JsonObject, JsonValue } from "./json.js";
export {
  ALERT_STREAM_MAXLEN,
  AUDIT_STREAM_MAXLEN,
  DEFAULT_STREAM_MAXLEN,
  groups,
  keyPatterns,
  keys,
  keyspaceChannel,
  P35_SYMBOL_WINDOWS,
  P35_WINDOWS,
  type P35SymbolWindow,
  type P35Window,
  p35DayId,
  streams,
  symbolFromKey,
} from "./keys.js";
export {
  APPLY_SOURCE,
  type ApplyPlan,
  applyPlanFields,
  decodeApplyPlan,
  encodeApplyPlan,
  WIRE_VERSION,
} from "./messages/apply-plan.js";
export {
  type ApplyResult,
  applyResultFields,
  decodeApplyResult,
  encodeApplyResult,
  errorFieldOf,
} from "./messages/apply-result.js";
export {
  type AuditEntry,
  decodeAuditEntry,
  EXTERNAL_ACTOR,
  EXTERNAL_COMMAND,
  encodeAuditEntry,
  MAX_AUDIT_TEXT_CHARS,
} from "./messages/audit-entry.js";
export {
  buildDeadLetter,
  type DeadLetter,
  type DeadLetterInput,
  decodeDeadLetter,
  encodeDeadLetter,
  MAX_RAW_KEY_CHARS,
  MAX_RAW_VALUE_CHARS,
} from "./messages/dead-letter.js";
export {
  decodeExecRecord,
  type ExecRecord,
  encodeExecRecord,
  encodeExecRecordPatch,
  execRecordFields,
} from "./messages/exec-record.js";
export {
  decodeHarvestProposal,
  encodeHarvestProposal,
  type HarvestProposal,
  harvestProposalFields,
} from "./messages/harvest-proposal.js";
export {
  decodeP35Alert,
  encodeP35Alert,
  P35_STUCK_ALERT_WINDOW,
  type P35Alert,
  type P35AlertWindow,
  p35AlertId,
} from "./messages/p35-alert.js";
export {
  decodeGovernorBlock,
  decodeGovernorPermit,
  decodeP33Permit,
  encodeGovernorBlock,
  encodeGovernorPermit,
  encodeP33Permit,
  type GovernorBlock,
  type GovernorPermit,
  type P33Permit,
  type P33PermitAllow,
  type P33PermitDeny,
} from "./messages/permits.js";
export {
  decodePaperPosition,
  decodePositionLedger,
  decodePositionSnapshot,
  decodePositionView,
  encodePaperPosition,
  encodePositionLedger,
  encodePositionLedgerPatch,
  encodePositionSnapshot,
  encodePositionView,
  type PaperPosition,
  type PositionLedger,
  type PositionSnapshot,
  type PositionView,
  positionLedgerFields,
  positionSnapshotFields,
} from "./messages/positions.js";
export { P35_FIELD_PREFIX, p35Fields, splitSymbolEntry } from "./p35-fields.js";
export {
  computePlanId,
  formatKillScore,
  PLAN_ID_RE,
  type PlanIdParts,
  planIdInput,
  pyFloatRepr,
  pyFormatFixed,
} from "./plan-id.js";
export {
  type ContextValue,
  contextOfJson,
  decodeReasonContext,
  P33_REASON_KEY,
  type ReasonContext,
  type Reasoned,
  renderContext,
} from "./reason-context.js";
export {
  APPLY_REASON_DOCS,
  P33_REASON_DOCS,
  P35_MIX_ALERT_DOCS,
  REASON_TABLES,
  type ReasonDoc,
  reasonDoc,
} from "./reason-docs.js";
export {
  ACTION_MAPPING_BEGIN,
  ACTION_MAPPING_END,
  renderActionMappingTables,
  renderReasonDocs,
  spliceActionMapping,
} from "./reason-markdown.js";
export {
  ACTIONS,
  type Action,
  ALERT_SEVERITIES,
  ALL_KNOWN_REASONS,
  type AlertSeverity,
  APPLY_MODES,
  APPLY_REASONS,
  type ApplyMode,
  type ApplyReason,
  boundReason,
  CONSUME_OUTCOMES,
  type ConsumeOutcome,
  DECISIONS,
  type Decision,
  EXCHANGE_VENUES,
  EXEC_STATES,
  EXECUTED_STATUSES,
  type ExchangeVenue,
  type ExecState,
  type ExecutedStatus,
  HEDGE_LEGS,
  type HedgeLeg,
  isApplyReason,
  MISSING_PERMIT_KINDS,
  type MissingPermitKind,
  ORDER_SIDES,
  type OrderSide,
  P33_ALLOW_REASON,
  P33_DENY_REASONS,
  type P33DenyReason,
  P35_MIX_ALERT_REASONS,
  type P35MixAlertReason,
  PERMIT_POSITION_SIDES,
  type PermitPositionSide,
  POSITION_SIDES,
  type PositionSide,
  TRADING_STATES,
  type TradingState,
} from "./reasons.js";
export { streamIdMs } from "./stream-id.js";
export {
  CLIENT_ORDER_ID_RE,
  clampDetail,
  clampText,
  type FieldCodec,
  FLOAT_STRING_RE,
  fields,
  MAX_DETAIL_CHARS,
  MAX_JSON_CHARS,
  parseFloatField,
  REASON_CODE_RE,
  SYMBOL_RE,
} from "./wire.js";
