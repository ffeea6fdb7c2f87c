/**
 * @module protocol — the wire, shared by both ends: the p2phttp API's shapes
 * (and, later, the line protocol's messages).
 */
export * from "./httpapi.js";
