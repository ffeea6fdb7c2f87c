/**
 * How the gateway reaches one of its remotes: through the registry of
 * remote kinds (peers/registry), which picks the module for the remote's
 * transport. The proxy layer knows no kind of remote itself.
 */
import {
  builtinPeerKinds,
  type PeerKinds,
  type PeerOpenContext,
  type RemoteConnection,
} from "../peers/index.js";
import type { Remote } from "../remotes/index.js";

export interface ConnectOptions extends PeerOpenContext {
  /** The kinds of remote the gateway can reach (default: the built-in ones). */
  readonly kinds?: PeerKinds;
}

/** Open `remote` with the kind registered for its transport. */
export function connectRemote(remote: Remote, o: ConnectOptions): Promise<RemoteConnection> {
  const { kinds = builtinPeerKinds, ...ctx } = o;
  return kinds.open(remote, ctx);
}
