/**
 * @module ops — what an operator watches: Prometheus metrics, liveness and
 * readiness, fed by the server's and the proxy layer's observers.
 */
export { Activity, AllObservers } from "./activity.js";
export { DashboardRoutes } from "./dashboard-routes.js";
export { DashboardState } from "./dashboard-state.js";
export { OpsEndpoints, type OpsEndpointsOptions } from "./endpoints.js";
export { GatewayMetrics } from "./metrics.js";
export type { OpsSources } from "./sources.js";
