/**
 * @module protocol — the wire, shared by both ends: the p2phttp API's shapes,
 * and the line protocol's messages and their framing over a byte stream.
 */

export * from "./framing.js";
export * from "./http-answers.js";
export * from "./http-indirect.js";
export * from "./http-request.js";
export * from "./http-values.js";
export * from "./httpapi.js";
export * from "./messages.js";
export * from "./wire-text.js";
