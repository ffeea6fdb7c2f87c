/**
 * @module preferred-content — git-annex's preferred content language
 * (layer 4): parse (every term, git-annex's errors), analyse (stability),
 * evaluate over a snapshot of branch state, and the "wants" questions a
 * gateway asks about repositories. Pure except `load.ts`.
 */
export {
  type BalancedPicker,
  balancedPicker,
  sizeBalancedCandidates,
} from "./balanced.js";
export {
  type EvalOptions,
  type MatchInput,
  type MissingData,
  matches,
  NotEnoughDataError,
  runExpression,
  type Stability,
  stabilityOf,
} from "./evaluate.js";
export { BadGlobError, compileGlob, type Glob, type GlobOptions } from "./glob.js";
export { loadKeyState, loadPolicySnapshot, preferredDirsOf, type SnapshotExtras } from "./load.js";
export { generate, type Matcher, type Token } from "./matcher.js";
export { type KeyState, NO_KEY_STATE, Policy, type PolicySnapshot } from "./snapshot.js";
export {
  isStandardGroup,
  STANDARD_GROUPS,
  type StandardGroup,
  standardExpression,
  standardGroupOf,
} from "./standard-groups.js";
export {
  type CopiesFilter,
  checkPreferredContentExpression,
  describeTerm,
  MATCH_ALL_CONTEXT,
  negationUnstable,
  type ParseContext,
  type Parsed,
  parseLargeFiles,
  parsePreferredContent,
  type Term,
  tokenize,
} from "./terms.js";
export {
  mayDropByLog,
  parseForRepository,
  repositoryMatcher,
  repositoryStability,
  requiresKey,
  type WantOptions,
  wantsKey,
} from "./wants.js";
