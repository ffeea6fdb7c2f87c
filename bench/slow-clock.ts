/**
 * Loaded with `node --import` into a server that runs under valgrind
 * (bench/instructions.ts): the server's clock runs BENCH_CLOCK_SLOWDOWN
 * times slower than the wall clock. valgrind runs the server tens of times
 * slower than it runs natively, so without this, work the server does per
 * second of time (the gateway's look for configuration changes, the
 * journal's commit each second, idle sweeps) would weigh tens of times
 * more against each request than it does natively. With the clock slowed
 * by about valgrind's own factor, that work keeps its native weight.
 *
 * Dates, `performance.now`, `process.hrtime` and every timer delay
 * (`setTimeout`, `setInterval`, `node:timers`, `node:timers/promises`)
 * follow the slowed clock. Timers inside Node's own modules (socket
 * timeouts, `AbortSignal.timeout`) do not: they only ever wait longer in
 * real time here, which a bench on loopback does not reach.
 */
import { createRequire, syncBuiltinESMExports } from "node:module";
import { promisify } from "node:util";

const factor = Number(process.env.BENCH_CLOCK_SLOWDOWN ?? "1");

if (Number.isFinite(factor) && factor > 1) slowDown(factor);

function slowDown(f: number): void {
  const require = createRequire(import.meta.url);
  const timers = require("node:timers") as typeof import("node:timers");
  const timersPromises = require("node:timers/promises") as typeof import("node:timers/promises");

  const realNow = Date.now.bind(Date);
  const dateZero = realNow();
  Date.now = () => Math.floor(dateZero + (realNow() - dateZero) / f);

  const realPerfNow = performance.now.bind(performance);
  const perfZero = realPerfNow();
  performance.now = () => perfZero + (realPerfNow() - perfZero) / f;

  const realHr = process.hrtime.bigint.bind(process.hrtime);
  const hrZero = realHr();
  const bigF = BigInt(Math.round(f));
  const slowHr = () => hrZero + (realHr() - hrZero) / bigF;
  const hrtime = ((prev?: [number, number]) => {
    const ns = slowHr();
    const now: [number, number] = [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
    if (prev === undefined) return now;
    const d = (now[0] - prev[0]) * 1e9 + (now[1] - prev[1]);
    return [Math.floor(d / 1e9), d % 1e9];
  }) as typeof process.hrtime;
  hrtime.bigint = slowHr;
  process.hrtime = hrtime;

  const scaled = (ms: unknown) => (typeof ms === "number" && ms > 0 ? ms * f : ms);
  const realSleep = timersPromises.setTimeout as (...a: unknown[]) => Promise<unknown>;
  const realEvery = timersPromises.setInterval as (...a: unknown[]) => AsyncIterable<unknown>;
  const slowSleep = (ms?: unknown, ...rest: unknown[]) => realSleep(scaled(ms), ...rest);
  const slowEvery = (ms?: unknown, ...rest: unknown[]) => realEvery(scaled(ms), ...rest);
  timersPromises.setTimeout = slowSleep as never;
  timersPromises.setInterval = slowEvery as never;

  const realSetTimeout = timers.setTimeout as (...a: unknown[]) => NodeJS.Timeout;
  const realSetInterval = timers.setInterval as (...a: unknown[]) => NodeJS.Timeout;
  const slowSetTimeout = Object.assign(
    (fn: unknown, ms?: unknown, ...args: unknown[]) => realSetTimeout(fn, scaled(ms), ...args),
    { [promisify.custom]: slowSleep },
  );
  const slowSetInterval = (fn: unknown, ms?: unknown, ...args: unknown[]) =>
    realSetInterval(fn, scaled(ms), ...args);
  globalThis.setTimeout = slowSetTimeout as never;
  globalThis.setInterval = slowSetInterval as never;
  timers.setTimeout = slowSetTimeout as never;
  timers.setInterval = slowSetInterval as never;
  syncBuiltinESMExports();
}
