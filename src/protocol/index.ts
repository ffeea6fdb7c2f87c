/**
 * @module protocol — the wire, shared by both ends: the p2phttp API's shapes,
 * and the line protocol's messages and their framing over a byte stream.
 */

export * from "./framing.js";
export * from "./messages.js";
export * from "./portable.js";
