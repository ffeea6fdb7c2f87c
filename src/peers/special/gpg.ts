/**
 * gpg as git-annex runs it for a shared cipher (Utility/Gpg.hs `feedRead`,
 * `stdParams`, `stdEncryptionParams`; Crypto.hs `encrypt`, `decrypt`):
 * `--quiet --trust-model always --batch`, the passphrase and a newline on
 * another file descriptor (`--passphrase-fd`), then the user's
 * `annex-gnupg-options` and `--symmetric --force-mdc --no-textmode` to
 * encrypt, `--decrypt` and the user's `annex-gnupg-decrypt-options` to
 * decrypt. Everything else (cipher algorithm, compression, S2K) is gpg's own
 * default, as for stock, so each reads what the other wrote.
 *
 * A gpg that fails is a typed error whose message names no local path:
 * gpg's own words (which may name its home directory) are not passed on.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { ErrorCode } from "../../errors.js";
import { PeerError } from "../peer.js";

/** Why gpg failed: not installed, could not decrypt (wrong cipher, corrupt object), or otherwise. */
export type GpgFailure = "missing" | "undecryptable" | "failed";

export class GpgError extends PeerError {
  static override readonly errorCode: ErrorCode = "AG_GPG";
  declare readonly data: { readonly failure: GpgFailure; readonly exitCode?: number };
}

const MESSAGES: Readonly<Record<GpgFailure, string>> = {
  missing: "gpg is not installed; an encrypted special remote needs it",
  undecryptable:
    "gpg could not decrypt the object: the remote's cipher does not match it, or it is corrupt",
  failed: "gpg failed to encrypt the object",
};

function gpgError(failure: GpgFailure, exitCode?: number): GpgError {
  return new GpgError(
    MESSAGES[failure],
    exitCode === undefined ? { failure } : { failure, exitCode },
  );
}

/** A running gpg: write its input, read its output; `done` settles when it exits. */
export interface GpgProcess {
  readonly input: Writable;
  readonly output: Readable;
  /** Resolves when gpg exited successfully; rejects with a GpgError otherwise. */
  readonly done: Promise<void>;
  /** Stop gpg (what it wrote so far is not an answer). */
  kill(): void;
}

export interface GpgOptions {
  readonly passphrase: Buffer;
  /** The user's options, given before git-annex's own. */
  readonly userOptions: readonly string[];
  /** The gpg program (git's `gpg.program`, else `gpg`). */
  readonly program?: string;
}

/** gpg reads the passphrase from this descriptor of its own. */
const PASSPHRASE_FD = 3;

function run(mode: "encrypt" | "decrypt", opts: GpgOptions): GpgProcess {
  // In git-annex's order: the user's options before the encryption ones,
  // after `--decrypt`.
  const modeArgs =
    mode === "encrypt"
      ? [...opts.userOptions, "--symmetric", "--force-mdc", "--no-textmode"]
      : ["--decrypt", ...opts.userOptions];
  const common = ["--quiet", "--trust-model", "always", "--batch"];
  const args = [...common, "--passphrase-fd", String(PASSPHRASE_FD), ...modeArgs];
  const child: ChildProcess = spawn(opts.program ?? "gpg", args, {
    stdio: ["pipe", "pipe", "pipe", "pipe"],
  });
  const failure: GpgFailure = mode === "decrypt" ? "undecryptable" : "failed";
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      reject(e.code === "ENOENT" ? gpgError("missing") : gpgError("failed"));
    });
    child.once("close", (code) => {
      if (code === 0) resolve();
      else reject(gpgError(failure, code ?? undefined));
    });
  });
  // Settled by whoever waits on it; an unobserved failure is not a crash.
  done.catch(() => undefined);
  const [stdin, stdout, stderr, passFd] = child.stdio as unknown as [
    Writable,
    Readable,
    Readable,
    Writable,
  ];
  // gpg's messages are dropped (they can name its home directory); read
  // them so that a chatty gpg never blocks on a full pipe.
  stderr.resume();
  // A gpg that exits early closes these pipes; that is reported by `done`.
  for (const s of [stdin, passFd]) s.on("error", () => undefined);
  passFd.end(Buffer.concat([opts.passphrase, Buffer.from("\n")]));
  return {
    input: stdin,
    output: stdout,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** gpg encrypting its input to a symmetric OpenPGP message. */
export function gpgEncrypt(opts: GpgOptions): GpgProcess {
  return run("encrypt", opts);
}

/** gpg decrypting a symmetric OpenPGP message; fails on a wrong passphrase or a bad MDC. */
export function gpgDecrypt(opts: GpgOptions): GpgProcess {
  return run("decrypt", opts);
}

/** A small gpg symmetric message (embedded credentials) decrypted whole. */
export async function gpgDecryptBytes(opts: GpgOptions, message: Buffer): Promise<Buffer> {
  const gpg = gpgDecrypt(opts);
  const parts: Buffer[] = [];
  gpg.output.on("data", (c: Buffer) => parts.push(c));
  gpg.input.end(message);
  try {
    await gpg.done;
  } finally {
    gpg.kill();
  }
  return Buffer.concat(parts);
}
