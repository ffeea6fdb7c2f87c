/**
 * gpg as git-annex runs it (Utility/Gpg.hs `feedRead`, `feedRead'`,
 * `pipeStrict`, `stdParams`, `stdEncryptionParams`, `pkEncTo`; Crypto.hs
 * `encrypt`, `decrypt`, `decryptCipher`): `--quiet --trust-model always
 * --batch`, then by keying
 * - symmetric (a shared or hybrid cipher): the passphrase and a newline on
 *   another file descriptor (`--passphrase-fd`), the user's
 *   `annex-gnupg-options` and `--symmetric --force-mdc --no-textmode` to
 *   encrypt; `--decrypt` and the user's `annex-gnupg-decrypt-options` to
 *   decrypt;
 * - public key (pubkey, sharedpubkey, and the cipher of hybrid and
 *   pubkey): the user's options, `--recipient ID` for each key, and
 *   `--encrypt --no-encrypt-to --no-default-recipient --force-mdc
 *   --no-textmode` to encrypt; `--decrypt` and the decrypt options to
 *   decrypt, with a secret key of the gateway's keyring (GNUPGHOME).
 * Everything else (cipher algorithm, compression, S2K) is gpg's own
 * default, as for stock, so each reads what the other wrote.
 *
 * Two additions that change no byte written: `--status-fd 2`, so a
 * failure can say which key was missing (gpg's machine-readable status
 * lines, not its prose); and, for a secret-key decryption,
 * `--pinentry-mode error`: a server can answer no passphrase prompt, so a
 * secret key whose passphrase the agent has not cached fails at once
 * instead of waiting on a pinentry nobody sees.
 *
 * A gpg that fails is a typed error whose message names no local path:
 * gpg's own words (which may name its home directory) are not passed on;
 * the key ids it names in status lines are.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { ErrorCode } from "../../errors.js";
import { PeerError } from "../peer.js";

/**
 * Why gpg failed: not installed; could not decrypt (wrong cipher, corrupt
 * object); no secret key for a message encrypted to public keys; no
 * usable public key for a recipient; or otherwise.
 */
export type GpgFailure = "missing" | "undecryptable" | "no-secret-key" | "no-public-key" | "failed";

export class GpgError extends PeerError {
  static override readonly errorCode: ErrorCode = "AG_GPG";
  declare readonly data: {
    readonly failure: GpgFailure;
    readonly exitCode?: number;
    /** The key ids gpg named: those without a secret key, or the unusable recipients. */
    readonly keyIds?: readonly string[];
  };
}

const MESSAGES: Readonly<Record<GpgFailure, string>> = {
  missing: "gpg is not installed; an encrypted special remote needs it",
  undecryptable:
    "gpg could not decrypt the object: the remote's cipher does not match it, or it is corrupt",
  "no-secret-key":
    "gpg could not decrypt: the gateway's gpg keyring holds no secret key it is encrypted to",
  "no-public-key":
    "gpg could not encrypt: the gateway's gpg keyring holds no usable public key of a recipient",
  failed: "gpg failed to encrypt the object",
};

function gpgError(
  failure: GpgFailure,
  exitCode?: number,
  keyIds: readonly string[] = [],
): GpgError {
  const ids = keyIds.length > 0 ? ` (gpg keys: ${keyIds.join(" ")})` : "";
  return new GpgError(`${MESSAGES[failure]}${ids}`, {
    failure,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(keyIds.length > 0 ? { keyIds: [...keyIds] } : {}),
  });
}

/**
 * How a message is keyed: a passphrase (symmetric), or gpg public keys
 * (encrypting needs theirs; decrypting a secret key of one of them).
 */
export type GpgKeying =
  | { readonly kind: "symmetric"; readonly passphrase: Buffer }
  | { readonly kind: "pubkey"; readonly recipients: readonly string[] };

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
  readonly keying: GpgKeying;
  /** The user's options, given before git-annex's own. */
  readonly userOptions: readonly string[];
  /** The gpg program (git's `gpg.program`, else `gpg`). */
  readonly program?: string;
}

/** gpg reads the passphrase from this descriptor of its own. */
const PASSPHRASE_FD = 3;

/** gpg's arguments, in git-annex's order: the user's options before the encryption ones, after `--decrypt`. */
export function gpgArgs(mode: "encrypt" | "decrypt", opts: GpgOptions): string[] {
  const common = ["--quiet", "--trust-model", "always", "--batch", "--status-fd", "2"];
  const k = opts.keying;
  if (k.kind === "symmetric") {
    const modeArgs =
      mode === "encrypt"
        ? [...opts.userOptions, "--symmetric", "--force-mdc", "--no-textmode"]
        : ["--decrypt", ...opts.userOptions];
    return [...common, "--passphrase-fd", String(PASSPHRASE_FD), ...modeArgs];
  }
  if (mode === "decrypt") {
    return [...common, "--pinentry-mode", "error", "--decrypt", ...opts.userOptions];
  }
  // gpg complains about a recipient given twice; git-annex gives each once.
  const to = [...new Set(k.recipients)].flatMap((r) => ["--recipient", r]);
  const enc = ["--encrypt", "--no-encrypt-to", "--no-default-recipient"];
  return [...common, ...opts.userOptions, ...to, ...enc, "--force-mdc", "--no-textmode"];
}

/** A key id as gpg's status lines give it: only these are passed on. */
const KEY_ID = /^[0-9A-Fa-f]{8,40}!?$/;
/** More status lines than any one message has recipients: the rest are not kept. */
const MAX_NAMED = 16;

/**
 * What gpg's status lines say of keys: the keys a message is encrypted to
 * (`ENC_TO`), whether a secret key was used (`DECRYPTION_KEY`), the keys
 * without a secret key (`NO_SECKEY`, not given under `--quiet`) and the
 * unusable recipients (`INV_RECP`).
 */
class StatusLines {
  readonly encryptedTo: string[] = [];
  readonly noSecretKey: string[] = [];
  readonly badRecipient: string[] = [];
  usedSecretKey = false;
  #partial = "";

  take(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = (lines.pop() ?? "").slice(-1024);
    for (const line of lines) this.#line(line.trim().split(" "));
  }

  #line([tag, keyword, ...rest]: string[]): void {
    if (tag !== "[GNUPG:]") return;
    if (keyword === "DECRYPTION_KEY") this.usedSecretKey = true;
    const list =
      keyword === "ENC_TO"
        ? this.encryptedTo
        : keyword === "NO_SECKEY"
          ? this.noSecretKey
          : keyword === "INV_RECP"
            ? this.badRecipient
            : null;
    // ENC_TO names the key first; the others last.
    const id = (keyword === "ENC_TO" ? rest[0] : rest.at(-1)) ?? "";
    if (list !== null && KEY_ID.test(id) && list.length < MAX_NAMED && !list.includes(id)) {
      list.push(id);
    }
  }
}

function failureOf(mode: "encrypt" | "decrypt", status: StatusLines): [GpgFailure, string[]] {
  if (mode === "encrypt") {
    return status.badRecipient.length > 0 ? ["no-public-key", status.badRecipient] : ["failed", []];
  }
  if (status.noSecretKey.length > 0) return ["no-secret-key", status.noSecretKey];
  // Encrypted to public keys, and none of their secret keys was used.
  if (status.encryptedTo.length > 0 && !status.usedSecretKey) {
    return ["no-secret-key", status.encryptedTo];
  }
  return ["undecryptable", []];
}

function run(mode: "encrypt" | "decrypt", opts: GpgOptions): GpgProcess {
  const symmetric = opts.keying.kind === "symmetric";
  const child: ChildProcess = spawn(opts.program ?? "gpg", gpgArgs(mode, opts), {
    stdio: ["pipe", "pipe", "pipe", symmetric ? "pipe" : "ignore"],
  });
  const status = new StatusLines();
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      reject(e.code === "ENOENT" ? gpgError("missing") : gpgError("failed"));
    });
    child.once("close", (code) => {
      if (code === 0) return resolve();
      const [failure, keyIds] = failureOf(mode, status);
      reject(gpgError(failure, code ?? undefined, keyIds));
    });
  });
  // Settled by whoever waits on it; an unobserved failure is not a crash.
  done.catch(() => undefined);
  const [stdin, stdout, stderr, passFd] = child.stdio as unknown as [
    Writable,
    Readable,
    Readable,
    Writable | null,
  ];
  // gpg's prose is dropped (it can name its home directory); its status
  // lines are read for the key ids, and reading keeps a chatty gpg from
  // blocking on a full pipe.
  stderr.setEncoding("utf8");
  stderr.on("data", (t: string) => status.take(t));
  // A gpg that exits early closes these pipes; that is reported by `done`.
  stdin.on("error", () => undefined);
  if (symmetric && passFd !== null) {
    passFd.on("error", () => undefined);
    passFd.end(Buffer.concat([opts.keying.passphrase, Buffer.from("\n")]));
  }
  return {
    input: stdin,
    output: stdout,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** gpg encrypting its input: to the passphrase, or to the recipients' public keys. */
export function gpgEncrypt(opts: GpgOptions): GpgProcess {
  return run("encrypt", opts);
}

/** gpg decrypting a message; fails on a wrong passphrase, a missing secret key or a bad MDC. */
export function gpgDecrypt(opts: GpgOptions): GpgProcess {
  return run("decrypt", opts);
}

/** A small message (a cipher, embedded credentials) run through gpg whole. */
export async function gpgWhole(
  mode: "encrypt" | "decrypt",
  opts: GpgOptions,
  message: Buffer,
): Promise<Buffer> {
  const gpg = mode === "encrypt" ? gpgEncrypt(opts) : gpgDecrypt(opts);
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
