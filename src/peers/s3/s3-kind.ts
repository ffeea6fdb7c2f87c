/**
 * S3 special remotes (`type=S3`, S3-compatible stores included): a
 * SpecialPeer over the remote's bucket. Opening checks, in this order, and
 * refuses with a reason that names no host or path of this machine:
 * legacy-chunked remotes, an encryption git-annex would not read, and
 * other features not served yet; the
 * settings git-annex would refuse; credentials (as git-annex finds them);
 * and the bucket's `annex-uuid` object, which must hold the remote's
 * UUID, as git-annex requires of a bucket it reuses (Remote/S3.hs
 * writeUUIDFile). Unlike `git annex enableremote`, the gateway never
 * writes that object: an absent one is refused.
 */
import type { PeerKind } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { unsupportedSpecialFeature } from "../special/special-config.js";
import { findS3Credentials, S3CredentialsError } from "./credentials.js";
import { readS3Settings, type S3Settings, S3SettingsError } from "./s3-settings.js";

/** The S3 kind, finding credentials in `env` (then the gateway's cache, then remote.log). */
export function s3KindWith(env: Readonly<Record<string, string | undefined>>): PeerKind<"S3"> {
  return {
    kind: "S3",
    async open(remote, transport, ctx) {
      const special = transport.special;
      const unsupported = unsupportedSpecialFeature(special);
      if (unsupported !== null) throw new UnreachableRemoteError(remote, unsupported);
      let settings: S3Settings;
      try {
        settings = readS3Settings(special);
      } catch (e) {
        if (e instanceof S3SettingsError) throw new UnreachableRemoteError(remote, e.message);
        throw e;
      }
      // git-annex runs git's `gpg.program` when it is set, for credentials too.
      const gpgProgram = (await ctx.git?.configGet("gpg.program").catch(() => null)) || undefined;
      const credentials = await findS3Credentials(remote.uuid, special, {
        env,
        ...(ctx.git ? { gitDir: ctx.git.gitDir } : {}),
        ...(gpgProgram === undefined ? {} : { gpgProgram }),
      }).catch((e: unknown) => {
        if (e instanceof S3CredentialsError) throw new UnreachableRemoteError(remote, e.message);
        throw e;
      });
      // The AWS SDK is loaded only now: most sessions open no S3 remote.
      const { openS3Remote } = await import("./s3-open.js");
      return openS3Remote(remote, special, settings, credentials, ctx);
    },
  };
}

/** The S3 kind of the built-in registry: credentials from this process's environment first. */
export const s3Kind: PeerKind<"S3"> = s3KindWith(process.env);
