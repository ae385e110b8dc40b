// The only place the mesh runner reads the environment: its children (control plane, ztunnels,
// waypoints) inherit it, with their own settings on top.
export function inheritedEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}
