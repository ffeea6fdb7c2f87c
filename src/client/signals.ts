/**
 * One signal that aborts when any of several does: AbortSignal.any, which
 * browsers of a few years ago lack (Firefox 115 ESR, Safari before 17.4).
 */
export function anySignal(signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  if (given.length <= 1) return given[0];
  const out = new AbortController();
  const stop = () => {
    for (const s of given) s.removeEventListener("abort", onAbort);
  };
  const onAbort = function (this: AbortSignal) {
    stop();
    out.abort(this.reason);
  };
  for (const s of given) {
    if (s.aborted) {
      stop();
      out.abort(s.reason);
      break;
    }
    s.addEventListener("abort", onAbort);
  }
  return out.signal;
}

/**
 * A signal that aborts after `ms`, as AbortSignal.timeout (which Safari
 * got only in 16): its timer does not keep Node running.
 */
export function timeoutSignal(ms: number): AbortSignal {
  const out = new AbortController();
  const timer = setTimeout(
    () => out.abort(new DOMException("the request timed out", "TimeoutError")),
    ms,
  );
  (timer as { unref?: () => void }).unref?.();
  return out.signal;
}
