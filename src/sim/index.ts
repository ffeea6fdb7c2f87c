/**
 * @module sim — git-annex's `git annex sim`, in memory (layer 9): the
 * commands of a sim file as data, read from a file, a line or a command's
 * words exactly as git-annex 10.20250416 reads them (its error messages
 * too) and written back as `git annex sim show` writes them; and the
 * engine that applies them as git-annex does (the same random draws, keys
 * and UUIDs for the same seed), over state sized for hundreds of
 * thousands of files.
 */
export type { ActionGroup } from "./actions.js";
export { analyseExpressions } from "./analysis.js";
export {
  type ConnectionStep,
  type Connections,
  firstConnection,
  type Int64,
  leftSideOfConnection,
  REMOTE_ACTION_KINDS,
  type RemoteActionKind,
  type RemoteName,
  type RepoName,
  type SimAction,
  type SimCommand,
  type SimCommandKind,
  type TrustLevel,
} from "./commands.js";
export { type ExistingRepo, type RealState, Sim, type SimOptions } from "./engine.js";
export { SimError, SimParseError, type SimParseErrorData } from "./errors.js";
export { formatSimCommand, formatSimFile, formatSimSize, simCommandWords } from "./format.js";
export { formatUuid, genSimKey, genSimUuid, uuidV5 } from "./identity.js";
export type { SimObserver } from "./observer.js";
export {
  parseSimFile,
  parseSimLine,
  parseSimWords,
  readTrueFalse,
  simLines,
  simWords,
} from "./parse.js";
export {
  formatConnections,
  formatSimAction,
  parseConnections,
  parseSimAction,
} from "./parse-chains.js";
export {
  randomBool,
  randomIndex,
  randomInt,
  randomRInt,
  randomRInteger,
  randomWord8,
  randomWords,
  StdGen,
  simRandom,
} from "./random.js";
export {
  type FillSample,
  type PairSummary,
  type RepoSummary,
  SimRecorder,
  type SimReport,
} from "./report.js";
export { formatReportHtml } from "./report-html.js";
export { formatReportText } from "./report-text.js";
export { codePointOrder, type SimFile, type SimRepo, SimState } from "./state.js";
export { materialiseView, simulatedDescription } from "./visit.js";
