/**
 * The kinds of remote annexgate reaches out of the box, one line each.
 */
import { localKind } from "./local/local-kind.js";
import { p2phttpKind } from "./p2phttp/p2phttp-kind.js";
import { PeerKinds } from "./registry.js";
import { sshKind } from "./ssh/ssh-kind.js";

export const builtinPeerKinds = new PeerKinds([localKind, sshKind, p2phttpKind]);
