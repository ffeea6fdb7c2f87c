/**
 * The types of `./annexgate-client.js`, the client library's browser
 * bundle, which the gateway serves beside the page's script: the page
 * imports the bundle at run time and is type-checked against the
 * library's own sources.
 */
export * from "../../client/index.js";
