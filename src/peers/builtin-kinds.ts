/**
 * The kinds of remote annexgate reaches out of the box. A new kind is its
 * module (`src/peers/<kind>/`) imported here and named in this list.
 */
import { directoryKind } from "./directory/directory-kind.js";
import { localKind } from "./local/local-kind.js";
import { p2phttpKind } from "./p2phttp/p2phttp-kind.js";
import { PeerKinds } from "./registry.js";
import { s3Kind } from "./s3/s3-kind.js";
import { sshKind } from "./ssh/ssh-kind.js";

export const builtinPeerKinds = new PeerKinds([
  localKind,
  sshKind,
  p2phttpKind,
  directoryKind,
  s3Kind,
]);
