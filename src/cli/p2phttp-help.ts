/**
 * The flags of `annexgate p2phttp`, which its parser reads and its help is
 * written from, in a module of their own so that `annexgate --help` can
 * show them without loading the server's layers. The defaults named here
 * are checked against the server's own by src/cli/help.test.ts.
 */
import { LOGGING_OPTIONS } from "./logging-options.js";
import type { OptionTable } from "./options.js";

export const P2PHTTP_OPTIONS = {
  port: { type: "string", value: "N", help: "the port to listen on (default 9417)" },
  bind: { type: "string", value: "ADDRESS", help: "the address to listen on (default all)" },
  socket: { type: "string", value: "PATH", help: "listen on this unix socket instead" },
  jobs: {
    type: "string",
    short: "J",
    value: "N",
    help: "transfers at once (default annex.jobs, else 8 or the CPU count)",
  },
  wideopen: { type: "boolean", help: "anyone may read and write, without a password" },
  "unauth-readonly": { type: "boolean", help: "anyone may read, without a password" },
  "unauth-appendonly": {
    type: "boolean",
    help: "anyone may read and store (not remove), without a password",
  },
  "unauth-nolocking": {
    type: "boolean",
    help: "users without a password may not lock content",
  },
  authenv: {
    type: "boolean",
    help: "users and passwords from GIT_ANNEX_P2PHTTP_USERNAME and _PASSWORD (HTTPS only)",
  },
  "authenv-http": { type: "boolean", help: "the same, allowed over plain HTTP" },
  certfile: { type: "string", value: "FILE", help: "serve HTTPS with this certificate" },
  privatekeyfile: { type: "string", value: "FILE", help: "and this private key" },
  chainfile: { type: "string", value: "FILE", multiple: true, help: "and this chain" },
  directory: {
    type: "string",
    value: "DIR",
    multiple: true,
    help: "serve every git-annex repository under DIR (found again as they come and go)",
  },
  "follow-symlinks": {
    type: "boolean",
    help: "with --directory, also serve entries that are symlinks to outside DIR",
  },
  proxyconnections: {
    type: "string",
    value: "N",
    help: "connections kept open to each proxied remote or cluster node",
  },
  clusterjobs: {
    type: "string",
    value: "N",
    help: "stores to the nodes of a cluster at once, per upload",
  },
  "commit-delay": {
    type: "string",
    value: "MS",
    help: "commit the git-annex branch at most this long after a change (default 1000)",
  },
  "tmp-max-age": {
    type: "string",
    value: "DURATION",
    help: 'partial uploads older than this are removed (default 7d; git config annexgate.tmp-max-age; "none" keeps them)',
  },
  "tmp-max-size": {
    type: "string",
    value: "SIZE",
    help: "partial uploads past this size per repository are removed, oldest first (default none; git config annexgate.tmp-max-size)",
  },
  "idle-timeout": {
    type: "string",
    value: "SECONDS",
    help: "close a connection that moves no data, and give up on a node that makes no progress, after this long (default 120)",
  },
  "max-queued": {
    type: "string",
    value: "N",
    help: "transfers that may wait for a --jobs slot; more are answered 503 (default 64)",
  },
  "max-per-client": {
    type: "string",
    value: "N",
    help: "requests at once per client address; more are answered 429 (default 32)",
  },
  "max-locks-per-client": {
    type: "string",
    value: "N",
    help: "content locks held per client address (default 64)",
  },
  "max-idle-per-client": {
    type: "string",
    value: "N",
    help: "idle connections kept per client address, the oldest closed past it (default 64)",
  },
  "indirect-uploads": {
    type: "boolean",
    help: "answer annexgate's upload-url requests for unencrypted, unchunked S3 special remotes with presigned URLs (see the README)",
  },
  "indirect-expires": {
    type: "string",
    value: "SECONDS",
    help: "how long the URLs of an indirect upload work (default 3600; DATA-PRESENT is awaited twice that)",
  },
  "indirect-verify": {
    type: "string",
    value: "size|content",
    help: "what is checked of an indirect upload before it is recorded (default content; read back unless S3 gives its MD5)",
  },
  "indirect-part-size": {
    type: "string",
    value: "SIZE",
    help: "indirect uploads larger than this go in parts of this size, 5MiB to 5GiB (default the remote's partsize=, at least 5MiB, else 8MiB)",
  },
  "indirect-max-pending": {
    type: "string",
    value: "N",
    help: "indirect uploads waiting for their DATA-PRESENT at most (default 1024)",
  },
  "indirect-max-pending-per-client": {
    type: "string",
    value: "N",
    help: "the same, per client address (default 64)",
  },
  ...LOGGING_OPTIONS,
  metrics: {
    type: "boolean",
    help: "serve /metrics (Prometheus) and /readyz here too, to users allowed to read",
  },
  dashboard: {
    type: "boolean",
    help: "serve a live dashboard at /dashboard, to users allowed to read (and on --metrics-port)",
  },
  "example-page": {
    type: "boolean",
    help: "serve an example page at /example that uploads a file with the client library, to users allowed to write",
  },
  "metrics-port": {
    type: "string",
    value: "N",
    help: "serve /metrics, /healthz, /readyz (and --dashboard) on their own port, without a password",
  },
  "metrics-bind": {
    type: "string",
    value: "ADDRESS",
    help: "the address of --metrics-port (default 127.0.0.1)",
  },
} as const satisfies OptionTable;

/** The command's lines in `annexgate --help`. */
export const P2PHTTP_SUMMARY = `  p2phttp [OPTIONS]    serve this repository (or --directory DIR), and what
                       it proxies for, over the p2phttp API, with git annex
                       p2phttp's flags and limits of its own (annexgate
                       p2phttp --help lists them)`;
