// @ambient-ts/policy — Istio AuthorizationPolicy (L4 and L7) and RequestAuthentication (JWT): models and pure, explainable evaluators.
export {};
