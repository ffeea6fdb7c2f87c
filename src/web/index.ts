/**
 * @module web — pages the gateway serves for people to use: the example
 * upload page (`--example-page`), a web application of the client library.
 */

export type { ExampleNode, ExampleTarget, ExampleTargets } from "./example/targets.js";
export { EXAMPLE_PATH, ExamplePage } from "./example-routes.js";
export { type ExampleSources, exampleTargets } from "./example-targets.js";
