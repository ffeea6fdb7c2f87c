/**
 * @module
 * The part of the protocol layer that runs anywhere, browsers included (no
 * Node built-ins, no Buffer): the p2phttp API's paths, values, JSON answers
 * and URLs, and wire text. The client library enters the layer here;
 * index.ts re-exports all of it for everyone else.
 */
export * from "./bytes.js";
export * from "./http-answers.js";
export * from "./http-indirect.js";
export * from "./http-request.js";
export * from "./http-values.js";
export * from "./httpapi.js";
export * from "./version-fallback.js";
export * from "./wire-text.js";
